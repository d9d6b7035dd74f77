//! The directory extractors against a small scripted Graph over loopback HTTP: paging, `$batch` fan-out
//! with paged sub-responses, resume from the saved cursor, one SKU read per invocation, no per-parent calls.

#[path = "common/scripted_graph.rs"]
mod scripted_graph;
#[path = "common/static_token.rs"]
mod static_token;
use scripted_graph::{fake, Fake};

use std::time::Duration;

use entra_airsync::airsync::state::TypeState;
use entra_airsync::extract::{assignments, devices, groups, roles, Extractor, Stop};
use serde_json::{json, Value};

fn ids(records: &[Value]) -> Vec<String> {
    records.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

/// A devices state in an incremental round (a stored delta link, `$deltatoken=t0`).
fn incremental_devices(f: &Fake) -> TypeState {
    TypeState {
        delta_link: Some(format!("{}/v1.0/devices/delta?$deltatoken=t0", f.base)),
        delta_at: Some(chrono::Utc::now()),
        ..TypeState::default()
    }
}

#[tokio::test]
async fn a_full_devices_read_lists_them_with_their_owners_expanded() {
    let f = fake(
        vec![
            (
                "/v1.0/devices/delta#latest",
                json!({"@odata.deltaLink": "{base}/v1.0/devices/delta?$deltatoken=t1", "value": []}),
            ),
            (
                "/v1.0/devices",
                json!({"@odata.nextLink": "{base}/v1.0/devices?$skiptoken=p2", "value": [
                    {"id": "d1", "displayName": "LT-1", "registeredOwners": [{"@odata.type": "#microsoft.graph.user", "id": "u1"}]},
                    {"id": "d2", "displayName": "LT-2", "registeredOwners": []}
                ]}),
            ),
            ("/v1.0/devices#p2", json!({"value": [{"id": "d3", "displayName": "LT-3", "registeredOwners": (0..100).map(|i| json!({"id": format!("u{i}")})).collect::<Vec<_>>()}]})),
            ("/v1.0/devices/d3/registeredOwners", json!({"value": (0..101).map(|i| json!({"id": format!("u{i}")})).collect::<Vec<_>>()})),
        ],
        Duration::from_secs(60),
    )
    .await;
    let mut state = TypeState::default();
    assert_eq!(devices::extractor().run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    let recs = f.store.records("devices");
    assert_eq!(ids(&recs), ["d1", "d2", "d3"]);
    assert_eq!(recs[0]["data"]["registered_owner_ids"], json!(["u1"]));
    assert_eq!(recs[1]["data"]["registered_owner_ids"], json!([]));
    assert_eq!(
        recs[2]["data"]["registered_owner_ids"].as_array().map(Vec::len),
        Some(101),
        "a full expansion is read again"
    );
    assert!(state.delta_link.as_deref().unwrap().contains("deltatoken=t1"), "the round ends at the link taken first");
    assert!(state.seed_link.is_none());
    let log = f.log();
    assert!(log[0].contains("/v1.0/devices/delta?") && log[0].contains("$deltatoken=latest"), "{log:?}");
    assert!(log[1].contains("$expand=registeredOwners"), "{log:?}");
    assert_eq!(
        log.iter().filter(|l| l.starts_with("batch ")).count(),
        1,
        "owners read only where the expansion may be cut: {log:?}"
    );
}

#[tokio::test]
async fn devices_get_their_owners_through_batch_with_paged_sub_responses() {
    let f = fake(
        vec![
            (
                "/v1.0/devices/delta#t0",
                json!({"@odata.nextLink": "{base}/v1.0/devices/delta?$skiptoken=p2", "value": [
                    {"id": "d1", "displayName": "LT-1", "isCompliant": false, "manufacturer": "Contoso"},
                    {"id": "d2", "displayName": "LT-2"}
                ]}),
            ),
            (
                "/v1.0/devices/delta#p2",
                json!({"@odata.deltaLink": "{base}/v1.0/devices/delta?$deltatoken=t1", "value": [
                    {"id": "d3", "displayName": "gone meanwhile"},
                    {"id": "d4", "@removed": {"reason": "deleted"}}
                ]}),
            ),
            (
                "/v1.0/devices/d1/registeredOwners",
                json!({"@odata.nextLink": "{base}/v1.0/devices/d1/registeredOwners?$skiptoken=o2", "value": [{"id": "u1"}]}),
            ),
            ("/v1.0/devices/d1/registeredOwners#o2", json!({"value": [{"id": "u2"}]})),
            ("/v1.0/devices/d2/registeredOwners", json!({"value": []})),
        ],
        Duration::from_secs(60),
    )
    .await;
    let ex = devices::extractor();
    assert!(ex.initial_path.contains("manufacturer") && ex.initial_path.contains("profileType"));
    let mut state = incremental_devices(&f);
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    let recs = f.store.records("devices");
    assert_eq!(ids(&recs), ["d1", "d2", "d3", "d4"]);
    assert_eq!(recs[0]["data"]["registered_owner_ids"], json!(["u1", "u2"]));
    assert_eq!(recs[0]["data"]["is_compliant"], false);
    assert_eq!(recs[1]["data"]["registered_owner_ids"], json!([]));
    assert_eq!(recs[2]["data"]["registered_owner_ids"], Value::Null, "404: the device vanished");
    assert_eq!(recs[3]["data"]["deleted_in_source"], true);
    assert!(state.delta_link.as_deref().unwrap().contains("deltatoken=t1"));
    let log = f.log();
    assert_eq!(log.iter().filter(|l| *l == "$batch").count(), 2, "one envelope per page: {log:?}");
    assert!(!log.iter().any(|l| l.contains("/v1.0/devices/d4")), "no owner read for a removed device");
    // Owners are read through $batch; a direct GET only follows a sub-response's nextLink.
    let direct: Vec<_> = log.iter().filter(|l| l.starts_with("GET") && l.contains("/registeredOwners")).collect();
    assert_eq!(direct, ["GET /v1.0/devices/d1/registeredOwners?$skiptoken=o2"]);
    assert_eq!(log.iter().filter(|l| l.starts_with("batch ")).count(), 3);
}

#[tokio::test]
async fn a_permission_error_inside_a_batch_fails_the_type_instead_of_one_device() {
    let f = fake(
        vec![(
            "/v1.0/devices/delta#t0",
            json!({"@odata.deltaLink": "{base}/v1.0/devices/delta?$deltatoken=t1", "value": [{"id": "d1"}]}),
        )],
        Duration::from_secs(60),
    )
    .await;
    f.set(
        "/v1.0/devices/d1/registeredOwners",
        403,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}),
    );
    let mut state = incremental_devices(&f);
    let err = devices::extractor().run(&f.ctx, &mut state).await.unwrap_err();
    assert!(err.to_string().contains("Authorization_RequestDenied"), "{err}");
    assert!(state.delta_link.as_deref().is_some_and(|l| l.contains("t0")), "the round did not finish");
}

#[tokio::test]
async fn app_role_assignments_page_the_service_principals_and_resume_from_the_list_cursor() {
    let f = fake(
        vec![
            (
                "/v1.0/servicePrincipals",
                json!({"@odata.nextLink": "{base}/v1.0/servicePrincipals?$skiptoken=s2", "value": [
                    {"id": "sp1", "appRoles": [{"id": "r1", "displayName": "Reader"}]},
                    {"id": "sp2", "appRoles": []}
                ]}),
            ),
            ("/v1.0/servicePrincipals#s2", json!({"value": [{"id": "sp3"}]})),
            (
                "/v1.0/servicePrincipals/sp1/appRoleAssignedTo",
                json!({"@odata.nextLink": "{base}/v1.0/servicePrincipals/sp1/appRoleAssignedTo?$skiptoken=a2", "value": [
                    {"id": "a1", "appRoleId": "r1", "principalId": "u1", "principalType": "User", "resourceId": "sp1",
                     "createdDateTime": "2024-05-14T12:00:03.1126781Z"}
                ]}),
            ),
            (
                "/v1.0/servicePrincipals/sp1/appRoleAssignedTo#a2",
                json!({"value": [{"id": "a2", "appRoleId": "r1", "principalId": "g1", "principalType": "Group", "resourceId": "sp1"}]}),
            ),
            ("/v1.0/servicePrincipals/sp2/appRoleAssignedTo", json!({"value": []})),
            (
                "/v1.0/servicePrincipals/sp3/appRoleAssignedTo",
                json!({"value": [{"id": "a3", "appRoleId": "00000000-0000-0000-0000-000000000000", "principalId": "u2", "resourceId": "sp3"}]}),
            ),
        ],
        Duration::ZERO,
    )
    .await;
    let ex = assignments::extractor();
    let mut state = TypeState::default();
    // The deadline has passed: the first page (and its batched reads) still completes, then it pauses.
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Paused);
    assert!(state.next_link.as_deref().unwrap().contains("skiptoken=s2"), "cursor = the SP list's nextLink");
    let json_state = serde_json::to_string(&state).unwrap();
    assert!(!json_state.contains("sp1") && !json_state.contains("sp2"), "no ids in state: {json_state}");
    let mut ctx2 = f.ctx;
    ctx2.deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    assert_eq!(ex.run(&ctx2, &mut state).await.unwrap(), Stop::Finished);
    ctx2.sink.flush().await.unwrap();
    let recs = f.store.records("app_role_assignments");
    assert_eq!(ids(&recs), ["a1", "a2", "a3"]);
    assert_eq!(recs[0]["data"]["app_role_name"], "Reader");
    assert_eq!(recs[0]["created_date"], "2024-05-14T12:00:03Z");
    assert_eq!(recs[2]["created_date"], "2026-11-27T08:00:00Z");
    assert!(state.next_link.is_none());
    let log = f.script.lock().unwrap().log.clone();
    assert_eq!(log.iter().filter(|l| l.starts_with("GET /v1.0/servicePrincipals?")).count(), 2, "{log:?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("batch ")).count(), 3, "one read per SP, batched: {log:?}");
}

#[tokio::test]
async fn groups_and_memberships_come_from_the_delta_alone() {
    let f = fake(
        vec![
            (
                "/v1.0/groups/delta",
                json!({"@odata.nextLink": "{base}/v1.0/groups/delta?$skiptoken=g2", "value": [
                    {"id": "g1", "displayName": "Big", "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u1"}]}
                ]}),
            ),
            (
                "/v1.0/groups/delta#g2",
                json!({"@odata.deltaLink": "{base}/v1.0/groups/delta?$deltatoken=t", "value": [
                    {"id": "g1", "members@delta": [{"@odata.type": "#microsoft.graph.user", "id": "u2"}]}
                ]}),
            ),
        ],
        Duration::from_secs(60),
    )
    .await;
    let ex = groups::extractor();
    assert!(ex.initial_path.starts_with("/v1.0/groups/delta?$select=") && ex.initial_path.contains("members"));
    let mut state = TypeState::default();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    assert_eq!(ids(&f.store.records("groups")), ["g1"]);
    assert_eq!(ids(&f.store.records("group_members")), ["g1_u1", "g1_u2"]);
    let log = f.log();
    assert!(log.iter().all(|l| l.starts_with("GET /v1.0/groups/delta")), "no call per group: {log:?}");
}

#[tokio::test]
async fn rbac_assignments_are_read_in_full_every_sync() {
    let f = fake(
        vec![
            (
                "/v1.0/roleManagement/directory/roleAssignments",
                json!({"@odata.nextLink": "{base}/v1.0/roleManagement/directory/roleAssignments?$skiptoken=r2",
                       "value": [{"id": "ra1", "principalId": "u1", "roleDefinitionId": "rd1", "directoryScopeId": "/"}]}),
            ),
            (
                "/v1.0/roleManagement/directory/roleAssignments#r2",
                json!({"value": [{"id": "ra2", "principalId": "sp1", "roleDefinitionId": "rd2", "directoryScopeId": "/administrativeUnits/au1"}]}),
            ),
        ],
        Duration::from_secs(60),
    )
    .await;
    let ex = roles::rbac_extractor();
    let mut state = TypeState::default();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    let recs = f.store.records("role_members");
    assert_eq!(ids(&recs), ["rbac_ra1", "rbac_ra2"]);
    assert_eq!(recs[1]["data"]["directory_scope_id"], "/administrativeUnits/au1");
    let _ = &f.base;
}

#[tokio::test]
async fn licences_ride_on_the_users_delta_with_one_sku_read_per_invocation() {
    let f = fake(
        vec![
            (
                "/v1.0/users/delta#d0",
                json!({"@odata.nextLink": "{base}/v1.0/users/delta?$skiptoken=u2", "value": [
                    {"id": "u1", "displayName": "A", "assignedLicenses": [{"skuId": "s1", "disabledPlans": []}]}
                ]}),
            ),
            (
                "/v1.0/users/delta#u2",
                json!({"@odata.deltaLink": "{base}/v1.0/users/delta?$deltatoken=d1", "value": [
                    {"id": "u2", "displayName": "B", "assignedLicenses": []},
                    {"id": "u3", "@removed": {"reason": "deleted"}}
                ]}),
            ),
            (
                "/v1.0/subscribedSkus",
                json!({"value": [{"skuId": "s1", "skuPartNumber": "SPE_E5"}, {"skuId": "s2", "skuPartNumber": "EMS"}]}),
            ),
        ],
        Duration::from_secs(60),
    )
    .await;
    let all = entra_airsync::extract::all();
    let users = all.iter().find(|e| e.record_type() == "users").unwrap();
    // An incremental sync: the round continues from the stored delta link.
    let mut state = TypeState {
        delta_link: Some(format!("{}/v1.0/users/delta?$deltatoken=d0", f.base)),
        delta_at: Some(chrono::Utc::now()),
        ..TypeState::default()
    };
    assert_eq!(users.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    assert_eq!(ids(&f.store.records("users")), ["u1", "u2", "u3"]);
    let lic = f.store.records("license_assignments");
    assert_eq!(ids(&lic), ["u1_s1", "u1_s2", "u2_s1", "u2_s2", "u3_s1", "u3_s2"]);
    assert_eq!(lic[0]["data"]["sku_part_number"], "SPE_E5");
    assert_eq!(lic[0]["data"]["deleted_in_source"], false);
    assert!(lic[1..].iter().all(|r| r["data"]["deleted_in_source"] == true), "{lic:?}");
    let log = f.log();
    assert_eq!(log.iter().filter(|l| l.contains("subscribedSkus")).count(), 1, "{log:?}");
    assert!(!log.iter().any(|l| l.contains("licenseDetails")), "no per-user licence call");
}

#[tokio::test]
async fn without_organization_read_all_licences_still_flow_unnamed() {
    let f = fake(
        vec![(
            "/v1.0/users/delta",
            json!({"@odata.deltaLink": "{base}/v1.0/users/delta?$deltatoken=d1", "value": [
                {"id": "u1", "displayName": "A", "assignedLicenses": [{"skuId": "s1", "disabledPlans": []}]}
            ]}),
        )],
        Duration::from_secs(60),
    )
    .await;
    f.set(
        "/v1.0/subscribedSkus",
        403,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges"}}),
    );
    let all = entra_airsync::extract::all();
    let users = all.iter().find(|e| e.record_type() == "users").unwrap();
    let mut state = TypeState::default();
    assert_eq!(users.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    let lic = f.store.records("license_assignments");
    assert_eq!(ids(&lic), ["u1_s1"]);
    assert_eq!(lic[0]["data"]["sku_part_number"], Value::Null);
}

#[tokio::test]
async fn a_sign_in_seen_again_on_a_later_page_is_sent_once() {
    // New sign-ins arriving while the window is paged (newest first) push older ones onto the next page.
    let event = |id: &str| {
        json!({"id": id, "createdDateTime": "2026-11-27T07:00:00Z", "userId": "u1",
                                  "status": {"errorCode": 0}})
    };
    let f = fake(
        vec![
            (
                "/v1.0/auditLogs/signIns",
                json!({"@odata.nextLink": "{base}/v1.0/auditLogs/signIns?$skiptoken=p2",
                       "value": [event("s1"), event("s2")]}),
            ),
            ("/v1.0/auditLogs/signIns#p2", json!({"value": [event("s2"), event("s3")]})),
        ],
        Duration::from_secs(60),
    )
    .await;
    let mut state = TypeState::default();
    let ex = entra_airsync::extract::window::sign_in_logs();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    f.ctx.sink.flush().await.unwrap();
    assert_eq!(ids(&f.store.records("sign_in_logs")), ["s1", "s2", "s3"]);
    assert_eq!(state.items, 3);
}
