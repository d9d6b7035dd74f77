//! The tenant's Entra ID licence (`Free`, `P1`, `P2`, `Governance`) and what it unlocks:
//! premium reports, PIM, lifecycle workflows, conditional access, and log retention (graph-api.md §7).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Entra ID licence of the simulated tenant. `Governance` includes everything P2 gives.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
pub enum Licence {
    Free,
    P1,
    P2,
    #[default]
    Governance,
}

impl Licence {
    pub fn as_str(self) -> &'static str {
        match self {
            Licence::Free => "Free",
            Licence::P1 => "P1",
            Licence::P2 => "P2",
            Licence::Governance => "Governance",
        }
    }

    /// Whether the tenant has at least `needed`.
    pub fn allows(self, needed: Licence) -> bool {
        self >= needed
    }

    /// Days of directory-audit and sign-in history the tenant keeps (S-RET: 7 Free, 30 P1/P2).
    pub fn retention_days(self) -> i64 {
        if self >= Licence::P1 {
            30
        } else {
            7
        }
    }
}

impl fmt::Display for Licence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Licence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "free" => Ok(Licence::Free),
            "p1" => Ok(Licence::P1),
            "p2" => Ok(Licence::P2),
            "governance" => Ok(Licence::Governance),
            _ => Err(format!("unknown licence '{s}' (supported: free, p1, p2, governance)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_and_retention() {
        assert!(Licence::Governance.allows(Licence::P2));
        assert!(!Licence::P1.allows(Licence::P2));
        assert_eq!(Licence::Free.retention_days(), 7);
        assert_eq!(Licence::P2.retention_days(), 30);
        assert_eq!("GOVERNANCE".parse::<Licence>(), Ok(Licence::Governance));
        assert!("e5".parse::<Licence>().is_err());
        assert_eq!(Licence::default(), Licence::Governance);
    }
}
