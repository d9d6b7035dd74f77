//! The directory normalizers against Graph-shaped fixtures (`fixtures/graph/<type>/`): every emitted data
//! key is declared, every declared key is emitted, no property with a value is lost, dates are honest.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entra_airsync::airsync::line::Record;
use entra_airsync::extract::{apps, assignments, contacts, devices, groups, licences, roles, Round};
use entra_airsync::graph::json::{view, views};
use entra_airsync::schema::{self, Source, ITEM_URL_FIELD};
use serde_json::Value;

fn at() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc)
}

fn fixture(path: &str) -> Value {
    let file = format!("{}/fixtures/graph/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

fn items(page: &Value) -> Vec<Value> {
    page["value"].as_array().unwrap().clone()
}

fn is_deletion(r: &Value) -> bool {
    r["data"]["deleted_in_source"] == Value::Bool(true)
}

/// Envelope and honesty rules every record obeys.
fn assert_envelope(item_type: &str, r: &Value) {
    let id = r["id"].as_str().unwrap_or_else(|| panic!("{item_type}: record without id: {r}"));
    assert!(!id.is_empty());
    let created = DateTime::parse_from_rfc3339(r["created_date"].as_str().unwrap()).unwrap();
    let modified = DateTime::parse_from_rfc3339(r["modified_date"].as_str().unwrap()).unwrap();
    assert!(modified >= created, "{item_type}/{id}: modified before created");
    assert!(created.timestamp() > 0 && modified.timestamp() > 0, "{item_type}/{id}: epoch date");
    for (k, v) in r["data"].as_object().unwrap() {
        assert_ne!(v, &Value::String(String::new()), "{item_type}/{id}: {k} is an empty-string placeholder");
    }
}

/// Every key of a live record is declared, and every declared key is present.
fn assert_declared_and_complete(item_type: &str, r: &Value) {
    let rt = schema::record_type(item_type).unwrap_or_else(|| panic!("{item_type} is not declared"));
    let declared: BTreeSet<&str> = rt.all_fields().map(|f| f.key).collect();
    let emitted: BTreeSet<&str> =
        r["data"].as_object().unwrap().keys().map(String::as_str).filter(|k| *k != ITEM_URL_FIELD).collect();
    let undeclared: Vec<_> = emitted.difference(&declared).collect();
    assert!(undeclared.is_empty(), "{item_type}: emitted but not declared: {undeclared:?}");
    if !is_deletion(r) || item_type.ends_with("_members") {
        let missing: Vec<_> = declared.difference(&emitted).collect();
        assert!(missing.is_empty(), "{item_type}: declared but not emitted: {missing:?}");
    }
}

/// No copied property that has a value in the source arrives as null.
fn assert_nothing_lost(item_type: &str, source: &Value, r: &Value) {
    let rt = schema::record_type(item_type).unwrap();
    for f in rt.fields {
        if let Source::Prop(p) = f.source {
            let has_value = source.get(p).is_some_and(|v| !v.is_null());
            if has_value {
                assert!(!r["data"][f.key].is_null(), "{item_type}: {p} = {} was lost as {}", source[p], f.key);
            }
        }
    }
}

/// Checks every record (a value or a written line) and groups them by item type, as values.
fn check_all(records: &[(&'static str, impl Clone + Into<Record>)]) -> HashMap<&'static str, Vec<Value>> {
    let mut by_type: HashMap<&'static str, Vec<Value>> = HashMap::new();
    for (t, r) in records {
        let r = r.clone().into().into_value();
        assert_envelope(t, &r);
        assert_declared_and_complete(t, &r);
        by_type.entry(t).or_default().push(r);
    }
    by_type
}

fn find<'a>(records: &'a [Value], id: &str) -> &'a Value {
    records.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no record {id}"))
}

#[test]
fn groups_and_their_members_from_one_delta_page() {
    let page = fixture("groups/delta_page.json");
    let source = items(&page);
    let records: Vec<_> = source.iter().flat_map(|g| groups::normalize_at(&view(g), at())).collect();
    let by = check_all(&records);
    let (gs, ms) = (&by["groups"], &by["group_members"]);
    assert_eq!(gs.len(), 3);
    assert_eq!(ms.len(), 6);
    for g in source.iter().filter(|g| g.get("@removed").is_none()) {
        assert_nothing_lost("groups", g, find(gs, g["id"].as_str().unwrap()));
    }
    let all = find(gs, "72052a9a-c466-4995-8210-95a1c1221995");
    assert_eq!(all["created_date"], "2023-04-11T09:12:45Z");
    assert_eq!(all["data"]["security_enabled"], false, "false stays false");
    assert_eq!(all["data"]["group_types"], serde_json::json!(["Unified"]));
    assert!(all["data"][ITEM_URL_FIELD].as_str().unwrap().ends_with("/72052a9a-c466-4995-8210-95a1c1221995"));
    let soft = find(gs, "bed7f0d4-750e-4e7e-ffff-169002d06fc9");
    assert_eq!(soft["data"], serde_json::json!({"deleted_in_source": true, "deleted_reason": "changed"}));
    let kinds: BTreeSet<&str> = ms.iter().filter_map(|m| m["data"]["member_type"].as_str()).collect();
    assert_eq!(kinds, BTreeSet::from(["user", "group", "servicePrincipal", "device", "orgContact"]));
    let removed = find(ms, "72052a9a-c466-4995-8210-95a1c1221995_632f6bb2-3ec8-4c1f-9073-0027a8c68591");
    assert_eq!(removed["data"]["remove_member_ids"], serde_json::json!(["632f6bb2-3ec8-4c1f-9073-0027a8c68591"]));
    assert_eq!(removed["data"]["group_id"], "72052a9a-c466-4995-8210-95a1c1221995");
    let added = find(ms, "72052a9a-c466-4995-8210-95a1c1221995_693acd06-2877-4339-8ade-b704261fe7a0");
    assert_eq!(added["data"]["remove_member_ids"], Value::Null);
    assert_eq!(added["data"]["deleted_in_source"], false);
}

#[test]
fn a_large_group_sliced_across_pages_keeps_every_membership_and_its_properties() {
    let pages = fixture("group_members/delta_slices.json");
    let records: Vec<_> = pages["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(items)
        .flat_map(|g| groups::normalize_at(&view(&g), at()))
        .collect();
    let by = check_all(&records);
    // The second slice repeats only the id: it must not overwrite the group with nulls.
    assert_eq!(by["groups"].len(), 1);
    assert_eq!(by["groups"][0]["data"]["display_name"], "DL-Sales");
    let ids: Vec<&str> = by["group_members"].iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4);
    let last = by["group_members"].last().unwrap();
    assert_eq!(last["id"], "ec22655c-8eb2-432a-b4ea-8b8a254bffff_37de1ae3-408f-4702-8636-20824abda004");
    assert!(last["data"]["remove_member_ids"].is_array(), "the removal in a later slice is kept");
}

#[test]
fn directory_roles_and_role_members() {
    let source = items(&fixture("directory_roles/delta_page.json"));
    let records: Vec<_> = source.iter().flat_map(|r| roles::normalize_at(&view(r), at())).collect();
    let by = check_all(&records);
    assert_eq!(by["directory_roles"].len(), 3);
    for r in source.iter().filter(|r| r.get("@removed").is_none()) {
        assert_nothing_lost("directory_roles", r, find(&by["directory_roles"], r["id"].as_str().unwrap()));
    }
    let ms = &by["role_members"];
    assert_eq!(ms.len(), 3);
    let sp = find(ms, "23f3b4b4-8a29-4420-8052-e4950273bbda_f1847572-48aa-47aa-96a3-2ec61904f41f");
    assert_eq!(sp["data"]["member_type"], "servicePrincipal");
    assert_eq!(sp["data"]["role_definition_id"], "62e90394-69f5-4237-9190-012177145e10");
    assert_eq!(sp["data"]["assignment_source"], "directoryRole");
    let gone = find(ms, "f8e85ed8-f66f-4058-b170-3efae8b9c6e5_bb165b45-151c-4cf6-9911-cd7188912848");
    assert_eq!(gone["data"]["remove_member_ids"], serde_json::json!(["bb165b45-151c-4cf6-9911-cd7188912848"]));
}

#[test]
fn unified_rbac_assignments_become_role_members() {
    let source = items(&fixture("role_members/role_assignments_page.json"));
    let records: Vec<_> =
        source.iter().filter_map(|a| roles::rbac_at(&view(a), at())).map(|r| ("role_members", r)).collect();
    let by = check_all(&records);
    let scoped = find(&by["role_members"], "rbac_LJnv8vs6uUa3z6Em7nTEUXJ1hPGqSKpHlqMuxhkE9B8-1");
    assert_eq!(scoped["data"]["directory_scope_id"], "/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a");
    assert_eq!(scoped["data"]["member_id"], "f1847572-48aa-47aa-96a3-2ec61904f41f");
    assert_eq!(scoped["data"]["member_type"], Value::Null, "unknown without $expand=principal, not guessed");
    let user = find(&by["role_members"], "rbac_lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1");
    assert_eq!(user["data"]["member_type"], "user");
    assert_eq!(user["data"]["assignment_source"], "roleAssignment");
}

#[test]
fn applications() {
    let source = items(&fixture("applications/delta_page.json"));
    let records: Vec<_> =
        source.iter().filter_map(|a| apps::application_at(&view(a), at())).map(|r| ("applications", r)).collect();
    let by = check_all(&records);
    for a in source.iter().filter(|a| a.get("@removed").is_none()) {
        assert_nothing_lost("applications", a, find(&by["applications"], a["id"].as_str().unwrap()));
    }
    let hr = find(&by["applications"], "acc848e9-e8ec-4feb-a521-8d58b5482e09");
    assert!(hr["data"][ITEM_URL_FIELD].as_str().unwrap().ends_with("/appId/4d405aa8-baa0-4fb4-94d3-e0571fd9fd71"));
    assert_eq!(hr["created_date"], "2023-06-21T09:14:02Z");
    let agent = find(&by["applications"], "b5f1c6a2-1d3e-4f5a-8b7c-9d0e1f2a3b4c");
    assert_eq!(agent["data"]["identifier_uris"], serde_json::json!([]), "an empty list stays an empty list");
    assert_eq!(find(&by["applications"], "fd918e4b-c821-4efb-b50a-5eddd23afc6f")["data"]["deleted_reason"], "changed");
}

#[test]
fn service_principals_and_their_app_roles_from_the_same_objects() {
    let mut source = items(&fixture("service_principals/delta_page.json"));
    source.extend(items(&fixture("app_roles/service_principal_with_roles.json")));
    let records: Vec<_> = source.iter().flat_map(|sp| apps::service_principal_at(&view(sp), at())).collect();
    let by = check_all(&records);
    assert_eq!(by["service_principals"].len(), 3);
    for sp in source.iter().filter(|s| s.get("@removed").is_none()) {
        assert_nothing_lost("service_principals", sp, find(&by["service_principals"], sp["id"].as_str().unwrap()));
    }
    let hr = find(&by["service_principals"], "8e881353-1735-45af-af21-ee1344582a4d");
    assert_eq!(hr["data"]["account_enabled"], false);
    let roles = &by["app_roles"];
    assert_eq!(roles.len(), 2);
    let graph = &source[2];
    for role in graph["appRoles"].as_array().unwrap() {
        let id = format!("00063ffc-54e9-405d-b8f3-56124728e051_{}", role["id"].as_str().unwrap());
        let r = find(roles, &id);
        assert_nothing_lost("app_roles", role, r);
        assert_eq!(r["data"]["service_principal_id"], "00063ffc-54e9-405d-b8f3-56124728e051");
    }
    assert_eq!(
        find(roles, "00063ffc-54e9-405d-b8f3-56124728e051_2c8e7a61-4b1f-4c2a-9f0e-7d6b5a4c3b21")["data"]["is_enabled"],
        false
    );
}

#[test]
fn app_role_assignments_are_named_from_the_resource_roles() {
    let sp = &items(&fixture("app_role_assignments/service_principal_ids_page.json"))[0];
    let sp_view = view(sp);
    let names = assignments::role_names(&sp_view);
    let source = items(&fixture("app_role_assignments/app_role_assigned_to.json"));
    let records: Vec<_> = source
        .iter()
        .filter_map(|a| assignments::assignment_at(&view(a), &names, at()))
        .map(|r| ("app_role_assignments", r))
        .collect();
    let by = check_all(&records);
    for a in &source {
        let r = find(&by["app_role_assignments"], a["id"].as_str().unwrap());
        assert_nothing_lost("app_role_assignments", a, r);
        assert_eq!(r["data"]["deleted_in_source"], false, "live, so a re-created assignment comes back live");
    }
    let group = find(&by["app_role_assignments"], "yvD0cn3QCUmAqZAYOl9VmPzZlPjnl2ZNgj4MfO8E9zQ");
    assert_eq!(group["data"]["app_role_name"], "HR Reader");
    assert_eq!(group["created_date"], "2024-05-14T12:00:03Z");
    let default = find(&by["app_role_assignments"], "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE");
    assert_eq!(
        default["data"]["app_role_name"],
        Value::Null,
        "the default-access role has no name: null, not invented"
    );
}

#[test]
fn devices_with_owners_and_honest_booleans() {
    let source = items(&fixture("devices/delta_page.json"));
    let batch = fixture("devices/registered_owners_batch.json");
    let owners: Vec<String> = batch["responses"][0]["body"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    let records: Vec<_> = source
        .iter()
        .filter_map(|d| devices::device_at(&view(d), Some(owners.clone()), at()))
        .map(|r| ("devices", r))
        .collect();
    let by = check_all(&records);
    let d = find(&by["devices"], "4e8b2c3d-5f6a-4b7c-8d9e-0f1a2b3c4d5e");
    assert_nothing_lost("devices", &source[0], d);
    assert_eq!(d["data"]["is_compliant"], false);
    assert_eq!(d["data"]["account_enabled"], false);
    assert_eq!(d["data"]["registered_owner_ids"], serde_json::json!(["693acd06-2877-4339-8ade-b704261fe7a0"]));
    assert_eq!(d["data"]["manufacturer"], "Contoso Devices");
    assert_eq!(find(&by["devices"], "9a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9")["data"]["deleted_reason"], "changed");
    let unknown = devices::device_at(&view(&source[0]), None, at()).unwrap().to_value();
    assert_eq!(unknown["data"]["registered_owner_ids"], Value::Null);
}

#[test]
fn org_contacts_never_carry_a_fake_email() {
    let source = items(&fixture("org_contacts/delta_page.json"));
    let records: Vec<_> =
        source.iter().filter_map(|c| contacts::contact_at(&view(c), at())).map(|r| ("org_contacts", r)).collect();
    let by = check_all(&records);
    let eric = find(&by["org_contacts"], "25c344ab-86d1-4a3e-9f4b-1b2c3d4e5f6a");
    assert_nothing_lost("org_contacts", &source[0], eric);
    assert_eq!(eric["data"]["email"], "erics@contoso-sim.example");
    assert_eq!(eric["created_date"], "2026-11-27T08:00:00Z", "no createdDateTime: the sync time");
    assert_eq!(find(&by["org_contacts"], "3f4e5d6c-7b8a-4c9d-8e0f-1a2b3c4d5e6f")["data"]["email"], Value::Null);
    assert_eq!(find(&by["org_contacts"], "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d")["data"]["email"], Value::Null);
}

#[test]
fn licence_assignments_live_and_inferred_removals() {
    let skus = licences::Skus::from_items(&views(&items(&fixture("license_assignments/subscribed_skus.json"))));
    assert_eq!(skus.name("c7df2760-2c81-4ef7-b578-5b5392b571df"), Some("ENTERPRISEPREMIUM"));
    let users = items(&fixture("license_assignments/users_delta_page.json"));

    // The first round of an initial import: only what users hold, nothing inferred.
    let initial: Vec<_> = users
        .iter()
        .flat_map(|u| licences::records(&view(u), Some(&skus), Round { incremental: false }, at()))
        .collect();
    let by = check_all(&initial);
    assert_eq!(by["license_assignments"].len(), 2);
    let debra =
        find(&by["license_assignments"], "81a133c2-bdf2-4e67-8755-7264366b04ee_c7df2760-2c81-4ef7-b578-5b5392b571df");
    assert_eq!(debra["data"]["sku_part_number"], "ENTERPRISEPREMIUM");
    assert_eq!(debra["data"]["user_id"], "81a133c2-bdf2-4e67-8755-7264366b04ee");
    assert_eq!(debra["data"]["disabled_plan_ids"], serde_json::json!(["8c098270-9dd4-4350-9b30-ba4703f3b36b"]));

    // A later round: every tenant SKU a changed user does not hold is a removal; a removed user loses all.
    let later: Vec<_> = users
        .iter()
        .flat_map(|u| licences::records(&view(u), Some(&skus), Round { incremental: true }, at()))
        .collect();
    let by = check_all(&later);
    let recs = &by["license_assignments"];
    assert_eq!(recs.len(), 8, "2 live + 1 + 1 + 2 for the unlicensed user + 2 for the removed user");
    let gone = find(recs, "cb4954e8-467f-4a6d-a8c8-28b9034fadbc_c7df2760-2c81-4ef7-b578-5b5392b571df");
    assert_eq!(gone["data"]["deleted_reason"], "deleted");
    let removed_user = find(recs, "e5d4c3b2-a1f0-4e9d-8c7b-a69584736251_cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46");
    assert_eq!(removed_user["data"]["deleted_reason"], "changed");

    // Without the SKU table names are null and nothing is inferred; without the property nothing is said.
    let blind: Vec<_> =
        users.iter().flat_map(|u| licences::records(&view(u), None, Round { incremental: true }, at())).collect();
    assert_eq!(blind.len(), 2);
    assert!(blind.iter().all(|(_, r)| r.to_value()["data"]["sku_part_number"].is_null()));
    let silent = serde_json::json!({"id": "u9", "displayName": "renamed only"});
    assert!(licences::records(&view(&silent), Some(&skus), Round { incremental: true }, at()).is_empty());
}

#[test]
fn every_directory_record_type_is_declared_once_with_permissions() {
    let keys: Vec<&str> = schema::record_types().iter().map(|r| r.key).collect();
    for t in [
        "groups",
        "group_members",
        "directory_roles",
        "role_members",
        "applications",
        "service_principals",
        "app_roles",
        "app_role_assignments",
        "devices",
        "org_contacts",
        "license_assignments",
    ] {
        assert_eq!(keys.iter().filter(|k| **k == t).count(), 1, "{t}");
        let rt = schema::record_type(t).unwrap();
        assert!(!rt.permissions.is_empty(), "{t} names no permission");
    }
    let metadata = schema::external_domain_metadata(&[]);
    assert_ne!(metadata["record_types"]["app_role_assignments"]["is_snapshot"], true, "a delta type now");
    assert_eq!(
        metadata["record_types"]["group_members"]["fields"]["group_id"]["reference"]["refers_to"]["#record:groups"],
        serde_json::json!({})
    );
    let mapping = schema::initial_domain_mapping(&[]);
    let gm = &mapping["additional_mappings"]["record_type_mappings"]["group_members"];
    assert_eq!(gm["default_mapping"]["object_type"], "object_member");
    assert_eq!(
        mapping["additional_mappings"]["record_type_mappings"]["org_contacts"]["default_mapping"]["object_type"],
        "revu"
    );
    assert_eq!(
        mapping["additional_mappings"]["record_type_mappings"]["groups"]["default_mapping"]["object_type"],
        "group"
    );
}
