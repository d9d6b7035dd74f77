//! The verifier: compares the emulated DevRev view (the record store) with the simulated tenant's ground
//! truth, read key by key, through a table of per-record-type checks keyed by truth keys (one per type).

mod common;
mod logs;
mod methods;
mod objects;
mod policies;
mod relations;
#[cfg(test)]
mod tests;
mod users;

use std::collections::BTreeMap;

use serde::Serialize;

use super::store::RecordStore;
use crate::sim::truth::Truth;

/// Mismatch messages kept (the count is always exact).
const MAX_MESSAGES: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCounts {
    /// Live objects in the truth.
    pub expected: usize,
    /// Store records not marked `deleted_in_source`.
    pub present: usize,
    /// Store records marked `deleted_in_source`.
    pub deleted: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub per_type: BTreeMap<String, TypeCounts>,
    /// The first ~50 mismatch messages.
    pub mismatches: Vec<String>,
    /// Total number of mismatches found.
    pub mismatch_count: usize,
}

/// Collects mismatches (capped messages, exact count).
#[derive(Debug, Default)]
pub struct Mismatches {
    pub messages: Vec<String>,
    pub count: usize,
}

impl Mismatches {
    pub fn push(&mut self, msg: String) {
        self.count += 1;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(msg);
        }
    }
}

/// A per-type check: (store, truth, mismatches) → counts.
pub type TypeCheck = fn(&RecordStore, &dyn Truth, &mut Mismatches) -> TypeCounts;

/// Truth key → (store item type, check). Add a row per record type.
pub const CHECKS: &[(&str, &str, TypeCheck)] = &[
    ("users", "users", users::check_users),
    // Directory record types (ex-directory).
    ("groups", "groups", objects::check_groups),
    ("groupMembers", "group_members", relations::check_group_members),
    ("directoryRoles", "directory_roles", objects::check_directory_roles),
    ("directoryRoleMembers", "role_members", relations::check_role_members),
    ("applications", "applications", objects::check_applications),
    ("servicePrincipals", "service_principals", objects::check_service_principals),
    ("servicePrincipals", "app_roles", relations::check_app_roles),
    ("appRoleAssignments", "app_role_assignments", objects::check_app_role_assignments),
    ("devices", "devices", objects::check_devices),
    ("contacts", "org_contacts", objects::check_org_contacts),
    ("users", "license_assignments", relations::check_license_assignments),
    // Policies, reports, logs, custom fields (ex-policies).
    ("authenticationMethods", "authentication_methods", methods::check_authentication_methods),
    ("userRegistrationDetails", "user_registration_details", methods::check_user_registration_details),
    ("authenticationMethodsPolicy", "authentication_methods_policy", policies::check_authentication_methods_policy),
    ("conditionalAccessPolicies", "conditional_access_policies", policies::check_conditional_access_policies),
    ("roleEligibilitySchedules", "pim_eligible_roles", policies::check_pim_eligible_roles),
    ("workflows", "lifecycle_workflows", policies::check_lifecycle_workflows),
    ("directoryAudits", "directory_audit_logs", logs::check_directory_audit_logs),
    ("signIns", "sign_in_logs", logs::check_sign_in_logs),
    ("extensionProperties", "user_custom_fields", users::check_user_custom_fields),
];

/// Compare the store with the truth.
pub fn verify(store: &RecordStore, truth: &dyn Truth) -> VerifyReport {
    let mut mm = Mismatches::default();
    let mut per_type = BTreeMap::new();
    for (truth_key, item_type, check) in CHECKS {
        if !truth.has(truth_key) {
            continue;
        }
        let counts = check(store, truth, &mut mm);
        per_type.insert((*item_type).to_string(), counts);
    }
    VerifyReport { ok: mm.count == 0, per_type, mismatches: mm.messages, mismatch_count: mm.count }
}
