//! Opaque state of directory lists and delta rounds (sealed with the simulator's `Sealer`); each
//! token names its type so a groups token is refused on devices, and users tokens are refused here.

use super::model::Kind;
use serde::{Deserialize, Serialize};

/// `$skiptoken` of a paged directory list; `route` names the collection (and parent object).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ListSkip {
    pub k: String, // always "dirlist"
    pub route: String,
    /// Cursor: the last key returned.
    pub after: String,
    pub top: Option<usize>,
    pub sel: Option<Vec<String>>,
    /// `$filter` as originally given (only where supported).
    #[serde(default)]
    pub filter: Option<String>,
    /// `$expand` as originally given (only `registeredOwners` on devices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
}

/// Where a directory delta round is.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum Phase {
    /// Initial round: next object has `num > after`, unless `partial` names an object whose members
    /// after the given member id (hex) are still to be listed.
    Initial { after: Option<u32>, partial: Option<(u32, String)> },
    /// Change round: next change-log index to scan (0-based).
    Changes { pos: u64 },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeltaSkip {
    pub k: String, // always "dirdskip"
    pub kind: Kind,
    pub phase: Phase,
    pub head: u64,
    pub page: u32,
    pub sel: Option<Vec<String>>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DeltaTok {
    pub k: String, // always "dirdtok"
    pub kind: Kind,
    pub seq: u64,
    pub sel: Option<Vec<String>>,
    pub iat: i64,
}

/// Where an app role assignment round (`directoryObjects/delta`) is.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub enum AssignPhase {
    /// Initial round: next assignment after (resource service principal number, assignment key as hex).
    Initial { after: Option<(u32, String)> },
    /// Change round: next index of the assignment change log to scan.
    Changes { pos: u64 },
}

/// `$skiptoken` of an app role assignment round.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AssignSkip {
    pub k: String, // always "asgskip"
    pub phase: AssignPhase,
    pub head: u64,
    pub page: u32,
    pub sel: Option<Vec<String>>,
}

/// `$deltatoken` of an app role assignment round.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AssignTok {
    pub k: String, // always "asgtok"
    pub seq: u64,
    pub sel: Option<Vec<String>>,
    pub iat: i64,
}

pub const ASKIP: &str = "asgskip";
pub const ATOK: &str = "asgtok";
pub const LIST: &str = "dirlist";
pub const DSKIP: &str = "dirdskip";
pub const DTOK: &str = "dirdtok";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::graph::tokens::{DeltaTok as UserTok, Sealer};

    #[test]
    fn tokens_are_typed() {
        let s = Sealer::new([3; 32]);
        let t = DeltaTok { k: DTOK.into(), kind: Kind::Group, seq: 4, sel: None, iat: 1 };
        let sealed = s.seal(&t);
        assert_eq!(s.open::<DeltaTok>(&sealed), Some(t));
        assert!(s.open::<UserTok>(&sealed).is_none_or(|u| u.k != "dtok"));
        let u = s.seal(&UserTok { k: "dtok".into(), seq: 1, sel: None, iat: 1 });
        assert!(s.open::<DeltaTok>(&u).is_none());
        let p = DeltaSkip {
            k: DSKIP.into(),
            kind: Kind::Role,
            phase: Phase::Initial { after: Some(3), partial: Some((4, format!("{:x}", u128::MAX))) },
            head: 9,
            page: 2,
            sel: Some(vec!["members".into()]),
        };
        assert_eq!(s.open::<DeltaSkip>(&s.seal(&p)), Some(p));
    }
}
