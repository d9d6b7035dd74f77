//! Normalizers of the log record types: directory audit events (initiator and targets flattened) and
//! sign-ins (status, device, location, Conditional Access results flattened); dates are the event time.

use super::line::LineWriter;
use super::norm::{at, id_of, json_text, parse_ts, ts};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::{self, Kind};
use chrono::{DateTime, Utc};

/// A record of an event: both dates are the event time (else the sync time).
fn event_writer(id: &str, at: Option<DateTime<Utc>>, sync_time: DateTime<Utc>) -> LineWriter {
    let t = ts(at.unwrap_or(sync_time));
    LineWriter::with_dates(id, t.clone(), t)
}

/// Compact JSON text of a nested object (null when absent or null).
fn write_json_text(w: &mut LineWriter, key: &str, v: Option<&Json>) {
    w.value(key, &json_text(v));
}

/// A directory audit event → its record.
pub fn normalize_audit(obj: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = id_of(obj)?;
    let mut w = event_writer(id, parse_ts(obj.field("activityDateTime")), sync_time);
    w.props(&schema::DIRECTORY_AUDIT_LOGS, obj);
    for (key, pointer) in [
        ("initiated_by_user_id", "/initiatedBy/user/id"),
        ("initiated_by_user_principal_name", "/initiatedBy/user/userPrincipalName"),
        ("initiated_by_user_display_name", "/initiatedBy/user/displayName"),
        ("initiated_by_app_id", "/initiatedBy/app/appId"),
        ("initiated_by_app_display_name", "/initiatedBy/app/displayName"),
        ("initiated_by_service_principal_id", "/initiatedBy/app/servicePrincipalId"),
        ("ip_address", "/initiatedBy/user/ipAddress"),
    ] {
        w.kind(key, Kind::Text, at(obj, pointer));
    }
    let targets = obj.field("targetResources").and_then(Json::as_array);
    for (key, prop) in [
        ("target_ids", "id"),
        ("target_types", "type"),
        ("target_display_names", "displayName"),
        ("target_user_principal_names", "userPrincipalName"),
    ] {
        match targets {
            Some(list) => w.strs(key, list.iter().filter_map(|t| t.field(prop)?.as_str())),
            None => w.null(key),
        }
    }
    match targets {
        Some(list) => w.value("target_count", &list.len()),
        None => w.null("target_count"),
    }
    write_json_text(&mut w, "target_resources_json", obj.field("targetResources"));
    write_json_text(&mut w, "additional_details_json", obj.field("additionalDetails"));
    Some(w.live())
}

/// A sign-in event → its record.
pub fn normalize_sign_in(obj: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = id_of(obj)?;
    let mut w = event_writer(id, parse_ts(obj.field("createdDateTime")), sync_time);
    w.props(&schema::SIGN_IN_LOGS, obj);
    for (key, _, kind, pointer) in schema::SIGN_IN_NESTED_FIELDS {
        w.kind(key, *kind, at(obj, pointer));
    }
    match obj.field("appliedConditionalAccessPolicies").and_then(Json::as_array) {
        Some(policies) => {
            w.strs("applied_ca_policy_ids", policies.iter().filter_map(|p| p.field("id")?.as_str()));
            let results: Vec<String> = policies
                .iter()
                .map(|p| {
                    let s = |k: &str| p.field(k).and_then(Json::as_str).unwrap_or("");
                    let name = if s("displayName").is_empty() { s("id") } else { s("displayName") };
                    format!("{name}: {}", s("result"))
                })
                .collect();
            w.strs("applied_ca_policy_results", results.iter().map(String::as_str));
        }
        None => {
            w.null("applied_ca_policy_ids");
            w.null("applied_ca_policy_results");
        }
    }
    let who = ["userPrincipalName", "userDisplayName", "userId"]
        .iter()
        .find_map(|k| obj.field(k).and_then(Json::as_str).filter(|s| !s.is_empty()))
        .unwrap_or("unknown user");
    let app = at(obj, "/appDisplayName").and_then(Json::as_str).unwrap_or("unknown application");
    let outcome = match at(obj, "/status/errorCode").and_then(Json::as_i64) {
        Some(0) => "success".to_string(),
        Some(code) => format!("failure {code}"),
        None => "unknown result".to_string(),
    };
    w.str("summary", Some(&format!("{who} → {app} ({outcome})")));
    Some(w.live())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::view;
    use serde_json::json;

    #[test]
    fn an_event_is_dated_at_its_own_time_else_the_sync() {
        let sync = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap();
        let r =
            normalize_sign_in(&view(&json!({"id": "s1", "createdDateTime": "2024-01-10T09:12:44Z"})), sync).unwrap();
        assert_eq!(
            (r.created_date.as_str(), r.modified_date.as_str()),
            ("2024-01-10T09:12:44Z", "2024-01-10T09:12:44Z")
        );
        let r = normalize_audit(&view(&json!({"id": "a1", "activityDateTime": "0001-01-01T00:00:00Z"})), sync).unwrap();
        assert_eq!(r.created_date, "2026-03-01T00:00:00Z", "Graph's never is not a date");
        assert_eq!(r.to_value()["data"]["target_count"], serde_json::Value::Null);
    }
}
