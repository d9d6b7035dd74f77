//! The verifier's directory checks: the normalizers' output for two syncs, loaded as the emulator loads it,
//! matches a tenant; each kind of drift (missing, stale, undeleted, wrong field) is caught.

use chrono::{DateTime, Utc};
use entra_airsync::airsync::line::Record;
use entra_airsync::extract::{apps, assignments, contacts, devices, groups, licences, record, roles, Round};
use entra_airsync::graph::json::view;
use entra_airsync::sim::platform::{verify, RecordStore, VerifyReport};
use serde_json::{json, Value};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn truth() -> Value {
    json!({
        "users": [{"id": "u1", "displayName": "Ann", "userPrincipalName": "ann@x.test", "mail": "ann@x.test",
                   "accountEnabled": true, "userType": "Member", "assignedLicenses": [{"skuId": "s1", "disabledPlans": []}]}],
        "subscribedSkus": [{"skuId": "s1", "skuPartNumber": "SPE_E5"}, {"skuId": "s2", "skuPartNumber": "EMS"}],
        "groups": [{"id": "g1", "displayName": "Sales", "mail": null, "securityEnabled": true, "mailEnabled": false,
                    "groupTypes": [], "createdDateTime": "2024-01-01T00:00:00Z"}],
        "groupMembers": [{"groupId": "g1", "memberId": "u1", "memberType": "user"}],
        "directoryRoles": [{"id": "r1", "displayName": "Global Administrator", "roleTemplateId": "t1"}],
        "directoryRoleMembers": [{"roleId": "r1", "memberId": "u1", "memberType": "user"}],
        "roleAssignments": [{"id": "ra1", "principalId": "u1", "roleDefinitionId": "t1", "directoryScopeId": "/"}],
        "applications": [{"id": "a1", "appId": "c1", "displayName": "HR", "createdDateTime": "2023-06-21T09:14:02Z"}],
        "servicePrincipals": [{"id": "sp1", "appId": "c1", "displayName": "HR",
                               "appRoles": [{"id": "ar1", "displayName": "Reader", "value": "R", "isEnabled": true}]}],
        "appRoleAssignments": [{"id": "as1", "principalId": "u1", "principalType": "User", "resourceId": "sp1",
                                "appRoleId": "ar1", "createdDateTime": "2024-05-14T12:00:03Z"}],
        "devices": [{"id": "d1", "deviceId": "dd1", "displayName": "LT-1", "accountEnabled": true, "isCompliant": false}],
        "deviceOwners": [{"deviceId": "d1", "ownerId": "u1"}],
        "contacts": [{"id": "c1", "displayName": "Eric", "mail": "eric@x.test"}],
        "deleted": {"users": [], "groups": [{"id": "g2", "reason": "changed"}], "applications": [],
                    "servicePrincipals": [{"id": "sp2", "reason": "deleted"}], "devices": [], "contacts": []}
    })
}

fn load(store: &mut RecordStore, records: Vec<(&'static str, impl Into<Record>)>) {
    for (item_type, r) in records {
        store.apply_line(item_type, &r.into().into_value()).unwrap();
    }
}

/// What the worker sends in an initial import (at t1) and an incremental sync (at t2).
fn two_syncs() -> RecordStore {
    let (t1, t2) = (t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z"));
    let mut s = RecordStore::default();
    let user = |id: &str| json!({"@odata.type": "#microsoft.graph.user", "id": id});
    // Sync 1.
    let g1 = json!({"id": "g1", "displayName": "Sales", "mail": null, "securityEnabled": true, "mailEnabled": false,
                    "groupTypes": [], "createdDateTime": "2024-01-01T00:00:00Z", "members@delta": [user("u1"), user("u9")]});
    let g2 = json!({"id": "g2", "displayName": "Old", "members@delta": [user("u2")]});
    load(&mut s, [g1, g2].iter().flat_map(|g| groups::normalize_at(&view(g), t1)).collect());
    let r1 = json!({"id": "r1", "displayName": "Global Administrator", "roleTemplateId": "t1", "members@delta": [user("u1")]});
    load(&mut s, roles::normalize_at(&view(&r1), t1));
    for ra in [
        json!({"id": "ra0", "principalId": "u9"}),
        json!({"id": "ra1", "principalId": "u1", "roleDefinitionId": "t1", "directoryScopeId": "/"}),
    ] {
        load(&mut s, vec![("role_members", roles::rbac_at(&view(&ra), t1).unwrap())]);
    }
    let a1 = json!({"id": "a1", "appId": "c1", "displayName": "HR", "createdDateTime": "2023-06-21T09:14:02Z"});
    load(&mut s, vec![("applications", apps::application_at(&view(&a1), t1).unwrap())]);
    let sp1 = json!({"id": "sp1", "appId": "c1", "displayName": "HR", "appRoles": [{"id": "ar1", "displayName": "Reader", "value": "R", "isEnabled": true}]});
    let sp2 = json!({"id": "sp2", "appId": "c2", "displayName": "Gone", "appRoles": [{"id": "ar2", "displayName": "X", "isEnabled": true}]});
    load(&mut s, [sp1.clone(), sp2].iter().flat_map(|sp| apps::service_principal_at(&view(sp), t1)).collect());
    let sp1_view = view(&sp1);
    let names = assignments::role_names(&sp1_view);
    for a in [
        json!({"id": "as0", "principalId": "u9", "resourceId": "sp1", "appRoleId": "ar1"}),
        json!({"id": "as1", "principalId": "u1", "principalType": "User", "resourceId": "sp1", "appRoleId": "ar1", "createdDateTime": "2024-05-14T12:00:03Z"}),
    ] {
        load(&mut s, vec![("app_role_assignments", assignments::assignment_at(&view(&a), &names, t1).unwrap())]);
    }
    let d1 =
        json!({"id": "d1", "deviceId": "dd1", "displayName": "LT-1", "accountEnabled": true, "isCompliant": false});
    load(&mut s, vec![("devices", devices::device_at(&view(&d1), Some(vec!["u1".into()]), t1).unwrap())]);
    let c1 = json!({"id": "c1", "displayName": "Eric", "mail": "eric@x.test"});
    load(&mut s, vec![("org_contacts", contacts::contact_at(&view(&c1), t1).unwrap())]);
    let skus = licences::Skus::from_items(&[
        view(&json!({"skuId": "s1", "skuPartNumber": "SPE_E5"})),
        view(&json!({"skuId": "s2", "skuPartNumber": "EMS"})),
    ]);
    let u1 = json!({"id": "u1", "assignedLicenses": [{"skuId": "s1"}, {"skuId": "s2"}]});
    load(&mut s, licences::records(&view(&u1), Some(&skus), Round { incremental: false }, t1));
    let u1_user = json!({"id": "u1", "created_date": "2026-11-01T00:00:00Z", "modified_date": "2026-11-01T00:00:00Z",
        "data": {"display_name": "Ann", "user_principal_name": "ann@x.test", "email": "ann@x.test", "account_enabled": true, "user_type": "Member"}});
    s.apply_line("users", &u1_user).unwrap();

    // Sync 2: u9 left g1, g2 and sp2 were deleted, ra0 is no longer in the snapshot, as0 was removed, u1 lost s2.
    let g1_change = json!({"id": "g1", "displayName": "Sales", "mail": null, "securityEnabled": true, "mailEnabled": false,
        "groupTypes": [], "createdDateTime": "2024-01-01T00:00:00Z",
        "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u9", "@removed": {"reason": "deleted"}}]});
    load(&mut s, groups::normalize_at(&view(&g1_change), t2));
    load(&mut s, groups::normalize_at(&view(&json!({"id": "g2", "@removed": {"reason": "changed"}})), t2));
    load(&mut s, apps::service_principal_at(&view(&json!({"id": "sp2", "@removed": {"reason": "deleted"}})), t2));
    let ra1 = json!({"id": "ra1", "principalId": "u1", "roleDefinitionId": "t1", "directoryScopeId": "/"});
    load(&mut s, vec![("role_members", roles::rbac_at(&view(&ra1), t2).unwrap())]);
    let as1 = json!({"id": "as1", "principalId": "u1", "principalType": "User", "resourceId": "sp1", "appRoleId": "ar1", "createdDateTime": "2024-05-14T12:00:03Z"});
    load(&mut s, vec![("app_role_assignments", assignments::assignment_at(&view(&as1), &names, t2).unwrap())]);
    let as0_removed = json!({"id": "as0", "@removed": {"reason": "deleted"}});
    load(&mut s, vec![("app_role_assignments", record::deletion("as0", &view(&as0_removed["@removed"]), t2))]);
    let u1_now = json!({"id": "u1", "assignedLicenses": [{"skuId": "s1"}]});
    load(&mut s, licences::records(&view(&u1_now), Some(&skus), Round { incremental: true }, t2));
    s
}

fn report(store: &RecordStore) -> VerifyReport {
    verify(store, &truth())
}

#[test]
fn two_syncs_of_worker_output_match_the_tenant() {
    let store = two_syncs();
    let r = report(&store);
    assert!(r.ok, "{:#?}", r.mismatches);
    assert_eq!(r.per_type["group_members"].expected, 1);
    assert_eq!(r.per_type["role_members"].expected, 2);
    assert_eq!(r.per_type["app_role_assignments"].present, 1);
    assert_eq!(r.per_type["app_role_assignments"].deleted, 1, "as0 was removed by the delta");
    assert_eq!(r.per_type["license_assignments"].deleted, 1);
    assert!(store.get("group_members", "g1_u9").is_none(), "the removal removed the membership");
}

fn drift(f: impl FnOnce(&mut RecordStore)) -> Vec<String> {
    let mut s = two_syncs();
    f(&mut s);
    let r = report(&s);
    assert!(!r.ok);
    r.mismatches
}

fn put(s: &mut RecordStore, item_type: &str, r: Value) {
    s.apply_line(item_type, &r).unwrap();
}

fn rec(id: &str, modified: &str, data: Value) -> Value {
    json!({"id": id, "created_date": "2026-11-01T00:00:00Z", "modified_date": modified, "data": data})
}

#[test]
fn each_kind_of_drift_is_caught() {
    let m = drift(|s| {
        s.remove("group_members", "g1_u1");
    });
    assert!(m.iter().any(|x| x.contains("group_members/g1_u1: missing")), "{m:?}");
    let m = drift(|s| {
        put(s, "group_members", rec("g1_u7", "2026-11-02T00:00:00Z", json!({"group_id": "g1", "member_id": "u7"})))
    });
    assert!(m.iter().any(|x| x.contains("g1_u7: not in the tenant")), "{m:?}");
    let m = drift(|s| s.patch("group_members", "g1_u1", |r| r.data["member_type"] = json!("group")));
    assert!(m.iter().any(|x| x.contains("member_type")), "{m:?}");
    let m = drift(|s| put(s, "role_members", rec("rbac_ra0", "2026-11-02T00:00:00Z", json!({"member_id": "u9"}))));
    assert!(m.iter().any(|x| x.contains("rbac_ra0: in the latest snapshot")), "{m:?}");
    let m = drift(|s| put(s, "app_role_assignments", rec("as0", "2026-11-02T00:00:00Z", json!({}))));
    assert!(m.iter().any(|x| x.contains("as0: not in the tenant but not marked deleted")), "{m:?}");
    let m = drift(|s| s.patch("devices", "d1", |r| r.data["registered_owner_ids"] = json!([])));
    assert!(m.iter().any(|x| x.contains("registered_owner_ids")), "{m:?}");
    let m = drift(|s| s.patch("devices", "d1", |r| r.data["is_compliant"] = Value::Null));
    assert!(m.iter().any(|x| x.contains("is_compliant")), "{m:?}");
    let m = drift(|s| s.patch("org_contacts", "c1", |r| r.data["email"] = json!("eric_x#EXT#@t.test")));
    assert!(m.iter().any(|x| x.contains("email")), "{m:?}");
    let m = drift(|s| s.patch("license_assignments", "u1_s2", |r| r.data = json!({"deleted_in_source": false})));
    assert!(m.iter().any(|x| x.contains("u1_s2: no longer assigned")), "{m:?}");
    let m = drift(|s| s.patch("license_assignments", "u1_s1", |r| r.data["sku_part_number"] = Value::Null));
    assert!(m.iter().any(|x| x.contains("sku_part_number")), "{m:?}");
    let m = drift(|s| s.patch("groups", "g2", |r| r.data["deleted_reason"] = json!("deleted")));
    assert!(m.iter().any(|x| x.contains("groups/g2: deleted_reason")), "{m:?}");
    let m = drift(|s| s.patch("app_roles", "sp1_ar1", |r| r.data["is_enabled"] = json!(false)));
    assert!(m.iter().any(|x| x.contains("app_roles/sp1_ar1")), "{m:?}");
    let m = drift(|s| s.patch("applications", "a1", |r| r.created_date = json!("1970-01-01T00:00:00Z")));
    assert!(m.iter().any(|x| x.contains("applications/a1: created_date")), "{m:?}");
    let m = drift(|s| s.patch("service_principals", "sp2", |r| r.data["deleted_in_source"] = json!(false)));
    assert!(
        m.iter().any(|x| x.contains("app_roles/sp2_ar2")) && m.iter().any(|x| x.contains("service_principals/sp2")),
        "{m:?}"
    );
}

#[test]
fn a_tenant_without_directory_objects_and_no_records_is_fine() {
    let truth = json!({"users": [], "groups": [], "groupMembers": [], "directoryRoles": [], "directoryRoleMembers": [],
        "roleAssignments": [], "applications": [], "servicePrincipals": [], "appRoleAssignments": [], "devices": [],
        "deviceOwners": [], "contacts": [], "deleted": {}});
    let r = verify(&RecordStore::default(), &truth);
    assert!(r.ok, "{:?}", r.mismatches);
}
