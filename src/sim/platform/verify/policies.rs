//! Checks of the snapshot policy types (the authentication methods policy, conditional access, PIM
//! eligibility, lifecycle workflows) and the helpers the report and log checks share with them.
//!
//! Conventions: a snapshot type's records are dated at their sync, so the newest `modified_date` is the
//! latest snapshot and a record older than it is absent from it (deleted, for an `is_snapshot` type);
//! authentication methods are a snapshot per user read (the same rule per user); logs are append-only.

use std::collections::BTreeMap;

use serde_json::Value;

use super::common::{check_dates, counts_for, expected_live, field_eq, is_deleted, parse_time};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

pub(super) fn pol_at(v: &Value, pointer: &str) -> Value {
    v.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// A list of strings, sorted (order carries no meaning in these fields); null stays null.
pub(super) fn pol_sorted(v: &Value) -> Value {
    match v.as_array() {
        Some(items) => {
            let mut items: Vec<Value> = items.iter().filter(|i| i.is_string()).cloned().collect();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        None => Value::Null,
    }
}

pub(super) fn pol_second(v: &Value) -> Option<i64> {
    parse_time(v).map(|t| t.timestamp())
}

/// `(id → (expected fields, truth createdDateTime))` of a snapshot type.
type PolExpected = BTreeMap<String, (Vec<(&'static str, Value)>, Option<Value>)>;

/// A snapshot type: every expected record present, live and equal; any other record older than the
/// latest snapshot (when nothing is expected, no record at all).
fn pol_snapshot(store: &RecordStore, item_type: &str, expected: &PolExpected, mm: &mut Mismatches) -> TypeCounts {
    for (id, (fields, created)) in expected {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = expected_live(store, &tag, item_type, id, mm) else { continue };
        for (field, want) in fields {
            let got = rec.data.get(*field).unwrap_or(&Value::Null);
            if want.is_array() && got.is_array() && pol_sorted(got) == pol_sorted(want) {
                continue; // lists compare as sets
            }
            field_eq(&tag, &rec, field, want, mm);
        }
        check_dates(&tag, &rec, created.as_ref(), mm);
    }
    let latest = store.iter(item_type).filter_map(|(_, r)| parse_time(&r.modified_date)).max();
    for (id, rec) in store.iter(item_type) {
        if !expected.contains_key(id) && !is_deleted(&rec) && parse_time(&rec.modified_date) >= latest {
            mm.push(format!("{item_type}/{id}: in the latest snapshot but not in the tenant"));
        }
    }
    counts_for(store, item_type, expected.len())
}

/// authentication_methods_policy: the singleton, with its enabled and disabled method configurations.
pub fn check_authentication_methods_policy(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let policy = truth.value("authenticationMethodsPolicy");
    let mut expected = PolExpected::new();
    if let Some(id) = policy.get("id").and_then(Value::as_str) {
        let configs = policy.list("authenticationMethodConfigurations");
        let with = |state: &str| {
            let ids: Vec<Value> = configs
                .iter()
                .filter(|c| c.get("state").and_then(Value::as_str) == Some(state))
                .filter_map(|c| c.get("id").cloned())
                .collect();
            pol_sorted(&Value::Array(ids))
        };
        let fields = vec![
            ("display_name", pol_at(&policy, "/displayName")),
            ("policy_version", pol_at(&policy, "/policyVersion")),
            ("enabled_methods", with("enabled")),
            ("disabled_methods", with("disabled")),
            ("method_configuration_count", Value::from(configs.len() as u64)),
        ];
        expected.insert(id.to_string(), (fields, None));
    }
    pol_snapshot(store, "authentication_methods_policy", &expected, mm)
}

/// Expected records of a snapshot type whose checked fields are each one JSON pointer into the truth object.
fn pol_by_pointers(truth: &dyn Truth, key: &str, fields: &[(&'static str, &str)]) -> PolExpected {
    truth
        .list(key)
        .iter()
        .filter_map(|o| {
            let id = o.get("id").and_then(Value::as_str)?;
            let fields = fields.iter().map(|(field, pointer)| (*field, pol_at(o, pointer))).collect();
            Some((id.to_string(), (fields, o.get("createdDateTime").filter(|v| !v.is_null()).cloned())))
        })
        .collect()
}

/// conditional_access_policies: every policy (only with P1 or more) with its state and main conditions.
pub fn check_conditional_access_policies(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("display_name", "/displayName"),
        ("state", "/state"),
        ("include_users", "/conditions/users/includeUsers"),
        ("exclude_users", "/conditions/users/excludeUsers"),
        ("include_roles", "/conditions/users/includeRoles"),
        ("grant_built_in_controls", "/grantControls/builtInControls"),
    ];
    let expected = pol_by_pointers(truth, "conditionalAccessPolicies", &fields);
    pol_snapshot(store, "conditional_access_policies", &expected, mm)
}

/// pim_eligible_roles: every eligibility schedule (only with P2 or Governance).
pub fn check_pim_eligible_roles(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("principal_id", "/principalId"),
        ("role_definition_id", "/roleDefinitionId"),
        ("directory_scope_id", "/directoryScopeId"),
        ("member_type", "/memberType"),
        ("status", "/status"),
    ];
    let expected = pol_by_pointers(truth, "roleEligibilitySchedules", &fields);
    pol_snapshot(store, "pim_eligible_roles", &expected, mm)
}

/// lifecycle_workflows: every workflow (only with Governance), trigger read from its nested object, tasks.
pub fn check_lifecycle_workflows(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let expected: PolExpected = truth
        .list("workflows")
        .iter()
        .filter_map(|w| {
            let id = w.get("id").and_then(Value::as_str)?;
            let tasks = w.list("tasks");
            let names: Vec<Value> = tasks.iter().filter_map(|t| t.get("displayName").cloned()).collect();
            let fields = vec![
                ("display_name", pol_at(w, "/displayName")),
                ("category", pol_at(w, "/category")),
                ("is_enabled", pol_at(w, "/isEnabled")),
                ("trigger_time_based_attribute", pol_at(w, "/executionConditions/trigger/timeBasedAttribute")),
                ("trigger_offset_in_days", pol_at(w, "/executionConditions/trigger/offsetInDays")),
                ("scope_rule", pol_at(w, "/executionConditions/scope/rule")),
                ("task_count", Value::from(tasks.len() as u64)),
                ("task_names", Value::Array(names)),
            ];
            Some((id.to_string(), (fields, w.get("createdDateTime").filter(|v| !v.is_null()).cloned())))
        })
        .collect();
    pol_snapshot(store, "lifecycle_workflows", &expected, mm)
}
