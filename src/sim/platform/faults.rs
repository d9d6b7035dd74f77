//! Fault injection and request statistics for the emulator: per-route rules that fail the next N requests with a
//! status (optionally with `Retry-After`) and/or delay responses, plus the per-route request journal.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A fault on one route. `status == 0` means "no failure, only delay". `times == 0` with `status == 0` means the
/// delay applies to every request until [`super::PlatformSim::clear_faults`]; otherwise the rule is consumed after
/// `times` requests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultRule {
    /// Route name: `callback`, `state.get`, `state.update`, `upload-url`, `upload`, `confirm`, `download-url`,
    /// `download`, `snap-ins.get`, `blueprints.create`, `idm.install`.
    pub route: String,
    pub status: u16,
    pub times: u32,
    pub delay_ms: u64,
    pub retry_after: Option<String>,
}

impl FaultRule {
    /// Fail the next `times` requests on `route` with `status`.
    pub fn fail(route: &str, status: u16, times: u32) -> FaultRule {
        FaultRule { route: route.to_string(), status, times, delay_ms: 0, retry_after: None }
    }

    /// Delay every response on `route` by `delay_ms` (until faults are cleared).
    pub fn delay(route: &str, delay_ms: u64) -> FaultRule {
        FaultRule { route: route.to_string(), status: 0, times: 0, delay_ms, retry_after: None }
    }

    /// Builder: add a `Retry-After` header to the failure responses.
    pub fn with_retry_after(mut self, value: &str) -> FaultRule {
        self.retry_after = Some(value.to_string());
        self
    }
}

/// What the server must do with one request after consulting the rules.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FaultAction {
    pub delay_ms: u64,
    /// `Some((status, retry_after))` = answer this instead of handling the request.
    pub fail: Option<(u16, Option<String>)>,
}

#[derive(Debug, Default)]
pub struct Faults {
    /// (rule, persistent): persistent rules are delay-only rules injected with `times == 0`.
    rules: Mutex<Vec<(FaultRule, bool)>>,
    counts: Mutex<BTreeMap<String, u64>>,
    journal: Mutex<Vec<(String, u16)>>,
}

impl Faults {
    pub fn inject(&self, rule: FaultRule) {
        if let Ok(mut rules) = self.rules.lock() {
            let persistent = rule.status == 0 && rule.times == 0;
            rules.push((rule, persistent));
        }
    }

    pub fn clear(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
        }
    }

    /// Count the request and decide whether it is delayed or failed; consumes one use of a failing rule.
    pub fn on_request(&self, route: &str) -> FaultAction {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(route.to_string()).or_insert(0) += 1;
        }
        let mut action = FaultAction::default();
        let Ok(mut rules) = self.rules.lock() else {
            return action;
        };
        for (rule, persistent) in rules.iter_mut().filter(|(r, _)| r.route == route) {
            if *persistent {
                action.delay_ms = action.delay_ms.max(rule.delay_ms);
            } else if rule.status == 0 && rule.times > 0 {
                rule.times -= 1;
                action.delay_ms = action.delay_ms.max(rule.delay_ms);
            } else if rule.times > 0 && action.fail.is_none() {
                rule.times -= 1;
                action.delay_ms = action.delay_ms.max(rule.delay_ms);
                action.fail = Some((rule.status, rule.retry_after.clone()));
            }
        }
        rules.retain(|(r, persistent)| *persistent || r.times > 0);
        action
    }

    pub fn record_status(&self, route: &str, status: u16) {
        if let Ok(mut journal) = self.journal.lock() {
            journal.push((route.to_string(), status));
        }
    }

    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn journal(&self) -> Vec<(String, u16)> {
        self.journal.lock().map(|j| j.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fails_exactly_n_times() {
        let f = Faults::default();
        f.inject(FaultRule::fail("state.get", 500, 2).with_retry_after("1"));
        assert_eq!(f.on_request("state.get").fail, Some((500, Some("1".to_string()))));
        assert!(f.on_request("confirm").fail.is_none());
        assert!(f.on_request("state.get").fail.is_some());
        assert!(f.on_request("state.get").fail.is_none());
        assert_eq!(f.counts().get("state.get"), Some(&3));
    }

    #[test]
    fn delay_only_rule_persists() {
        let f = Faults::default();
        f.inject(FaultRule::delay("upload", 5));
        assert_eq!(f.on_request("upload").delay_ms, 5);
        assert_eq!(f.on_request("upload").delay_ms, 5);
        f.clear();
        assert_eq!(f.on_request("upload").delay_ms, 0);
    }
}
