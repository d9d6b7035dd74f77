//! Fixtures of `fixtures/graph/<type>/` (synthetic, shaped after graph-api.md) through the normalizers of
//! the policy, report and log record types: every emitted key declared, every declared key emitted, no field lost.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use entra_airsync::extract::{authmethods, logs, policies, users, workflows};
use entra_airsync::graph::json::view;
use entra_airsync::schema::custom_fields::{from_extension_property, user_custom_fields};
use entra_airsync::schema::{self, RecordType, Source};
use serde_json::Value;

fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{}/fixtures/graph/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn items(v: &Value) -> Vec<Value> {
    v["value"].as_array().unwrap().clone()
}

fn sync() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").unwrap().with_timezone(&Utc)
}

/// Emitted keys == declared keys; a Graph property present in the source is never lost; dates are sane.
fn check(rt: &RecordType, source: &Value, record: &Value) {
    let data = record["data"].as_object().unwrap();
    let emitted: BTreeSet<&str> = data.keys().map(String::as_str).filter(|k| *k != "item_url_field").collect();
    let declared: BTreeSet<&str> = rt.all_fields().map(|f| f.key).collect();
    assert_eq!(emitted, declared, "{}: emitted vs declared", rt.key);
    for f in rt.fields {
        if let Source::Prop(p) = f.source {
            let present = source.get(p).is_some_and(|v| !v.is_null());
            assert!(!present || !data[f.key].is_null(), "{}: {} lost (source {p} = {})", rt.key, f.key, source[p]);
        }
    }
    let created = DateTime::parse_from_rfc3339(record["created_date"].as_str().unwrap()).unwrap();
    let modified = DateTime::parse_from_rfc3339(record["modified_date"].as_str().unwrap()).unwrap();
    assert!(modified >= created && created.timestamp() > 0, "{}: dates {record}", rt.key);
}

/// Every declared field of `record` is non-null except `nullable`.
fn all_filled(rt: &RecordType, record: &Value, nullable: &[&str]) {
    for f in rt.all_fields() {
        if !nullable.contains(&f.key) && !["deleted_in_source", "deleted_reason"].contains(&f.key) {
            assert!(!record["data"][f.key].is_null(), "{}: {} is null in {record}", rt.key, f.key);
        }
    }
}

#[test]
fn authentication_methods_keep_every_safe_field_and_no_secret() {
    let rt = &schema::AUTHENTICATION_METHODS;
    let user = "5e0b7c1a-2d3f-4a5b-8c6d-7e8f9a0b1c2d";
    let methods = items(&fixture("authentication_methods/user_methods.json"));
    let mut types = BTreeSet::new();
    for m in &methods {
        let r =
            authmethods::normalize_method(user, Some("avery.example@contoso-sim.example"), &view(m), sync()).unwrap();
        check(rt, m, &r);
        assert_eq!(r["id"], format!("{user}_{}", m["id"].as_str().unwrap()));
        assert_eq!(r["data"]["user_id"], user);
        assert_eq!(r["data"]["deleted_in_source"], false);
        types.insert(r["data"]["method_type"].as_str().unwrap().to_string());
        let text = r.to_string();
        assert!(!text.contains("temporaryAccessPass\""), "a secret-bearing key leaked: {text}");
        assert!(!r["data"]["display_name"].as_str().unwrap().contains("5555550142"), "phone number in a title");
    }
    assert_eq!(types.len(), methods.len(), "every method type recognised: {types:?}");
    let phone = authmethods::normalize_method(user, None, &view(&methods[0]), sync()).unwrap();
    assert_eq!(phone["data"]["phone_number"], "+1 5555550142", "Graph's phone number is kept as given");
    assert_eq!(phone["data"]["display_name"], "Phone (mobile)");
    assert_eq!(phone["created_date"], "2026-03-10T12:00:00Z", "no createdDateTime: the sync time");
}

#[test]
fn registration_report_rows() {
    let rt = &schema::USER_REGISTRATION_DETAILS;
    for row in items(&fixture("user_registration_details/report_page.json")) {
        let r = authmethods::normalize_registration(&view(&row), sync()).unwrap().to_value();
        check(rt, &row, &r);
        assert_eq!(r["id"], row["id"]);
        assert_eq!(r["data"]["user_id"], row["id"]);
    }
    let first = &items(&fixture("user_registration_details/report_page.json"))[0];
    all_filled(rt, &authmethods::normalize_registration(&view(first), sync()).unwrap().to_value(), &[]);
    let guest = &items(&fixture("user_registration_details/report_page.json"))[1];
    let r = authmethods::normalize_registration(&view(guest), sync()).unwrap().to_value();
    assert_eq!(r["data"]["is_mfa_registered"], false, "false stays false");
    assert_eq!(r["data"]["methods_registered"], serde_json::json!([]));
}

#[test]
fn authentication_methods_policy_singleton() {
    let rt = &schema::AUTHENTICATION_METHODS_POLICY;
    let policy = fixture("authentication_methods_policy/policy.json");
    let r = policies::normalize_auth_methods_policy(&view(&policy), sync()).unwrap();
    check(rt, &policy, &r);
    all_filled(rt, &r, &[]);
    assert_eq!(r["id"], "authenticationMethodsPolicy");
    assert_eq!(r["data"]["registration_snooze_days"], 0, "zero stays zero");
    assert_eq!(r["data"]["enabled_methods"], serde_json::json!(["Sms", "TemporaryAccessPass"]));
    assert_eq!(r["data"]["disabled_methods"], serde_json::json!(["Fido2"]));
    assert_eq!(
        r["data"]["registration_include_targets"],
        serde_json::json!(["group:all_users:microsoftAuthenticator"])
    );
}

#[test]
fn conditional_access_policies_flatten_conditions() {
    let rt = &schema::CONDITIONAL_ACCESS_POLICIES;
    let list = items(&fixture("conditional_access_policies/policies_page.json"));
    for p in &list {
        let r = policies::normalize_conditional_access(&view(p), sync()).unwrap();
        check(rt, p, &r);
    }
    let full = policies::normalize_conditional_access(&view(&list[0]), sync()).unwrap();
    all_filled(rt, &full, &[]);
    assert_eq!(full["data"]["sign_in_frequency_value"], 0, "zero stays zero");
    assert_eq!(full["data"]["include_roles"], serde_json::json!(["62e90394-69f5-4237-9190-012177145e10"]));
    assert_eq!(full["modified_date"], "2026-03-10T12:00:00Z", "a snapshot record is dated at its sync");
    assert_eq!(full["data"]["modified_at"], "2024-09-02T14:00:01Z");
    assert!(full["data"]["item_url_field"].as_str().unwrap().ends_with(list[0]["id"].as_str().unwrap()));
    let report_only = policies::normalize_conditional_access(&view(&list[1]), sync()).unwrap();
    assert_eq!(report_only["data"]["state"], "enabledForReportingButNotEnforced");
    assert_eq!(report_only["data"]["modified_at"], Value::Null, "never modified");
    assert_eq!(report_only["data"]["include_platforms"], Value::Null);
}

#[test]
fn pim_eligibility_schedules() {
    let rt = &schema::PIM_ELIGIBLE_ROLES;
    let list = items(&fixture("pim_eligible_roles/schedules_page.json"));
    for s in &list {
        check(rt, s, &policies::normalize_pim(&view(s), sync()).unwrap());
    }
    let first = policies::normalize_pim(&view(&list[0]), sync()).unwrap();
    all_filled(rt, &first, &[]);
    assert_eq!(first["data"]["schedule_end"], "2026-04-10T00:00:00Z");
    assert_eq!(first["data"]["expiration_type"], "afterDateTime");
    let permanent = policies::normalize_pim(&view(&list[1]), sync()).unwrap();
    assert_eq!(permanent["data"]["expiration_type"], "noExpiration");
    assert_eq!(permanent["data"]["schedule_end"], Value::Null);
}

#[test]
fn lifecycle_workflows_read_the_nested_trigger_and_tasks() {
    let rt = &schema::LIFECYCLE_WORKFLOWS;
    let full = fixture("lifecycle_workflows/workflow_full.json");
    let r = workflows::normalize_workflow(&view(&full), sync()).unwrap();
    check(rt, &full, &r);
    all_filled(rt, &r, &[]);
    assert_eq!(r["data"]["trigger_time_based_attribute"], "employeeHireDate");
    assert_eq!(r["data"]["trigger_offset_in_days"], 0, "zero offset stays zero");
    assert_eq!(r["data"]["scope_rule"], "(department eq 'Marketing')");
    assert_eq!(r["data"]["trigger_type"], "timeBasedAttributeTrigger");
    assert_eq!(r["data"]["task_count"], 2);
    assert_eq!(r["data"]["task_names"], serde_json::json!(["Enable User Account", "Send Welcome Email"]));
    for w in items(&fixture("lifecycle_workflows/workflows_page.json")) {
        let r = workflows::normalize_workflow(&view(&w), sync()).unwrap();
        check(rt, &w, &r);
        assert_eq!(r["data"]["task_count"], Value::Null, "tasks unknown until read");
    }
}

#[test]
fn directory_audit_events() {
    let rt = &schema::DIRECTORY_AUDIT_LOGS;
    let list = items(&fixture("directory_audit_logs/audits_page.json"));
    for e in &list {
        let r = logs::normalize_audit(&view(e), sync()).unwrap().to_value();
        check(rt, e, &r);
        assert_eq!(r["created_date"], r["modified_date"]);
    }
    let first = logs::normalize_audit(&view(&list[0]), sync()).unwrap().to_value();
    all_filled(rt, &first, &[]);
    assert_eq!(first["created_date"], "2025-03-01T21:20:02.721537400Z", "the event time, to the digit");
    assert_eq!(first["data"]["target_types"], serde_json::json!(["User", "Group"]));
    assert_eq!(first["data"]["target_count"], 2);
}

#[test]
fn sign_in_events() {
    let rt = &schema::SIGN_IN_LOGS;
    let list = items(&fixture("sign_in_logs/sign_ins_page.json"));
    for e in &list {
        check(rt, e, &logs::normalize_sign_in(&view(e), sync()).unwrap().to_value());
    }
    let first = logs::normalize_sign_in(&view(&list[0]), sync()).unwrap().to_value();
    all_filled(rt, &first, &[]);
    assert_eq!(first["data"]["device_is_compliant"], false, "false stays false");
    assert_eq!(first["data"]["status_error_code"], 0, "zero stays zero");
    assert_eq!(first["data"]["location_city"], "Springfield");
    let failed = logs::normalize_sign_in(&view(&list[1]), sync()).unwrap().to_value();
    assert_eq!(failed["data"]["status_error_code"], 50126);
    assert!(failed["data"]["summary"].as_str().unwrap().contains("failure 50126"));
}

#[test]
fn custom_fields_on_users() {
    let discovered: Vec<_> = items(&fixture("custom_fields/available_extension_properties.json"))
        .iter()
        .filter_map(from_extension_property)
        .collect();
    assert_eq!(discovered.len(), 3, "the Group-only extension is not a user field");
    let custom = user_custom_fields(&discovered);
    assert_eq!(custom.len(), 18);
    let users_page = items(&fixture("custom_fields/users_with_extensions.json"));
    let r = users::normalize_at(&view(&users_page[0]), sync(), &custom).unwrap().to_value();
    let data = &r["data"];
    for f in &custom {
        assert!(!data[&f.key].is_null(), "{} lost", f.key);
    }
    assert_eq!(data["ext_0f1e2d3c4b5a49788796a5b4c3d2e1f0_costcenter"], "CC-4410");
    assert_eq!(data["ext_9a8b7c6d5e4f40318271605948372615_employeenumber"], 4410);
    assert_eq!(data["ext_0f1e2d3c4b5a49788796a5b4c3d2e1f0_badges"], serde_json::json!(["gold", "safety"]));
    assert_eq!(data["ext_attr_15"], "A15");
    let empty = users::normalize_at(&view(&users_page[1]), sync(), &custom).unwrap().to_value();
    for f in &custom {
        assert!(empty["data"].get(&f.key).is_some_and(Value::is_null), "{} declared but not emitted", f.key);
    }
    let metadata = schema::external_domain_metadata(&discovered);
    let fields = metadata["record_types"]["users"]["fields"].as_object().unwrap();
    for f in &custom {
        assert!(fields.contains_key(&f.key), "{} not declared in the metadata", f.key);
    }
    assert_eq!(fields["ext_9a8b7c6d5e4f40318271605948372615_employeenumber"]["type"], "int");
    let idm = schema::initial_domain_mapping(&discovered);
    let mapped = &idm["additional_mappings"]["record_type_mappings"]["users"]["possible_record_type_mappings"][0]
        ["shard"]["constructed_custom_fields"];
    assert_eq!(mapped.as_object().unwrap().len(), 18);
    assert_eq!(mapped["ext_attr_1"]["primary_external_field"], "ext_attr_1");
}

#[test]
fn every_record_type_is_in_the_metadata_and_the_mapping() {
    let metadata = schema::external_domain_metadata(&[]);
    let idm = schema::initial_domain_mapping(&[]);
    for key in [
        "authentication_methods",
        "user_registration_details",
        "authentication_methods_policy",
        "conditional_access_policies",
        "pim_eligible_roles",
        "lifecycle_workflows",
        "directory_audit_logs",
        "sign_in_logs",
    ] {
        let rt = schema::record_type(key).unwrap();
        assert!(metadata["record_types"][key].is_object(), "{key} missing in metadata");
        assert_eq!(metadata["record_types"][key]["is_snapshot"].as_bool().unwrap_or(false), rt.is_snapshot);
        let title = &idm["additional_mappings"]["record_type_mappings"][key]["possible_record_type_mappings"][0]
            ["shard"]["stock_field_mappings"]["title"]["primary_external_field"];
        let title = title.as_str().unwrap();
        assert!(rt.all_fields().any(|f| f.key == title), "{key}: title {title} is not a field");
    }
}
