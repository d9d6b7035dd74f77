//! Normalizers of the log record types: directory audit events (initiator and targets flattened) and
//! sign-ins (status, device, location, Conditional Access results flattened); dates are the event time.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::norm::{at, event_record, id_of, json_text, kind_at, live, parse_ts};
use crate::schema::{self, Kind, RecordType};

fn targets_pick(obj: &Value, key: &str) -> Value {
    match obj.get("targetResources").and_then(Value::as_array) {
        Some(list) => Value::Array(list.iter().filter_map(|t| t.get(key).filter(|v| v.is_string()).cloned()).collect()),
        None => Value::Null,
    }
}

/// A directory audit event → its record.
pub fn normalize_audit(obj: &Value, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::DIRECTORY_AUDIT_LOGS;
    let id = id_of(obj)?;
    let mut data: Map<String, Value> = rt.copy_props(obj);
    for (key, pointer) in [
        ("initiated_by_user_id", "/initiatedBy/user/id"),
        ("initiated_by_user_principal_name", "/initiatedBy/user/userPrincipalName"),
        ("initiated_by_user_display_name", "/initiatedBy/user/displayName"),
        ("initiated_by_app_id", "/initiatedBy/app/appId"),
        ("initiated_by_app_display_name", "/initiatedBy/app/displayName"),
        ("initiated_by_service_principal_id", "/initiatedBy/app/servicePrincipalId"),
        ("ip_address", "/initiatedBy/user/ipAddress"),
    ] {
        data.insert(key.into(), kind_at(obj, pointer, Kind::Text));
    }
    data.insert("target_ids".into(), targets_pick(obj, "id"));
    data.insert("target_types".into(), targets_pick(obj, "type"));
    data.insert("target_display_names".into(), targets_pick(obj, "displayName"));
    data.insert("target_user_principal_names".into(), targets_pick(obj, "userPrincipalName"));
    data.insert(
        "target_count".into(),
        obj.get("targetResources").and_then(Value::as_array).map_or(Value::Null, |l| Value::from(l.len() as u64)),
    );
    data.insert("target_resources_json".into(), json_text(obj.get("targetResources")));
    data.insert("additional_details_json".into(), json_text(obj.get("additionalDetails")));
    live(&mut data);
    Some(event_record(id, parse_ts(obj.get("activityDateTime")), sync_time, data))
}

/// A sign-in event → its record.
pub fn normalize_sign_in(obj: &Value, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::SIGN_IN_LOGS;
    let id = id_of(obj)?;
    let mut data: Map<String, Value> = rt.copy_props(obj);
    for (key, _, kind, pointer) in schema::SIGN_IN_NESTED_FIELDS {
        data.insert((*key).to_string(), kind_at(obj, pointer, *kind));
    }
    let policies = obj.get("appliedConditionalAccessPolicies").and_then(Value::as_array);
    data.insert(
        "applied_ca_policy_ids".into(),
        policies.map_or(Value::Null, |l| {
            Value::Array(l.iter().filter_map(|p| p.get("id").filter(|v| v.is_string()).cloned()).collect())
        }),
    );
    data.insert(
        "applied_ca_policy_results".into(),
        policies.map_or(Value::Null, |l| {
            Value::Array(
                l.iter()
                    .map(|p| {
                        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("");
                        let name = if s("displayName").is_empty() { s("id") } else { s("displayName") };
                        Value::String(format!("{name}: {}", s("result")))
                    })
                    .collect(),
            )
        }),
    );
    let who = ["userPrincipalName", "userDisplayName", "userId"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str).filter(|s| !s.is_empty()))
        .unwrap_or("unknown user");
    let app = at(obj, "/appDisplayName").and_then(Value::as_str).unwrap_or("unknown application");
    let outcome = match at(obj, "/status/errorCode").and_then(Value::as_i64) {
        Some(0) => "success".to_string(),
        Some(code) => format!("failure {code}"),
        None => "unknown result".to_string(),
    };
    data.insert("summary".into(), Value::String(format!("{who} → {app} ({outcome})")));
    live(&mut data);
    Some(event_record(id, parse_ts(obj.get("createdDateTime")), sync_time, data))
}
