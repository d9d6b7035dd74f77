//! Ground truth of this module (docs/contracts.md §1 keys, only what the licence allows), list by list, one
//! object at a time, and the SKU rendering shared with `/subscribedSkus`.

use super::super::state::Shared;
use super::{authmethods, extensions, logs, routes, workflows, Licence};
use serde_json::{json, Value};

/// This module's truth lists.
pub const LISTS: &[&str] = &[
    "authenticationMethods",
    "userRegistrationDetails",
    "conditionalAccessPolicies",
    "roleEligibilitySchedules",
    "workflows",
    "subscribedSkus",
    "directoryAudits",
    "signIns",
    "extensionProperties",
];

/// This module's truth keys that are not lists.
pub const VALUES: &[&str] = &["authenticationMethodsPolicy", "licence"];

/// The SKUs as `/subscribedSkus` shows them now.
pub(super) fn skus_now(sh: &Shared) -> Vec<Value> {
    let prepaid = sh.policies.data.read().map(|d| d.prepaid.clone()).unwrap_or_default();
    match sh.tenant.read() {
        Ok(t) => routes::skus_render(sh, &t, &prepaid),
        Err(_) => Vec::new(),
    }
}

/// Every user's methods (`{"userId", "method"}`) or, with P1 or more, registration report row.
fn per_user(sh: &Shared, rows: bool, f: &mut dyn FnMut(&Value)) {
    let (Ok(t), Ok(d)) = (sh.tenant.read(), sh.policies.data.read()) else { return };
    if rows && !sh.opts.licence.allows(Licence::P1) {
        return;
    }
    let admins = if rows { d.admin_ids() } else { Default::default() };
    for u in t.users_after(None, usize::MAX) {
        let m = d.methods(u);
        if rows {
            f(&authmethods::registration_row(&t.meta, u, &m, d.methods_updated(u), admins.contains(&u.id_str())));
        } else {
            let uid = u.id_str();
            for method in m {
                f(&json!({"userId": uid, "method": method}));
            }
        }
    }
}

/// Visit every item of this module's truth list `key`; false when `key` is not one of [`LISTS`].
pub fn each(sh: &Shared, key: &str, f: &mut dyn FnMut(&Value)) -> bool {
    let lic = sh.opts.licence;
    let data = || sh.policies.data.read().ok();
    match key {
        "authenticationMethods" => per_user(sh, false, f),
        "userRegistrationDetails" => per_user(sh, true, f),
        "conditionalAccessPolicies" if lic.allows(Licence::P1) => data().iter().flat_map(|d| &d.ca).for_each(f),
        "roleEligibilitySchedules" if lic.allows(Licence::P2) => data().iter().flat_map(|d| &d.pim).for_each(f),
        "workflows" if lic.allows(Licence::Governance) => {
            data().iter().flat_map(|d| &d.workflows).for_each(|w| f(&workflows::listed(w, true)))
        }
        "subscribedSkus" => skus_now(sh).iter().for_each(f),
        "directoryAudits" | "signIns" => {
            let cut = logs::cutoff(sh);
            if let Some(d) = data() {
                if key == "directoryAudits" {
                    logs::each(&d.audits, cut, f);
                } else if lic.allows(Licence::P1) {
                    logs::each(&d.signins, cut, f);
                }
            }
        }
        "extensionProperties" => {
            if let Some(d) = data() {
                for e in d.ext_defs.iter().filter(|e| e.targets.contains(&"User")) {
                    f(&extensions::render(e, &d.ext_apps));
                }
            }
        }
        _ => return LISTS.contains(&key),
    }
    true
}

/// This module's truth value `key` (one of [`VALUES`]).
pub fn value(sh: &Shared, key: &str) -> Option<Value> {
    match key {
        "authenticationMethodsPolicy" => sh.policies.data.read().ok().map(|d| d.methods_policy.clone()),
        "licence" => Some(json!(sh.opts.licence.as_str())),
        _ => None,
    }
}
