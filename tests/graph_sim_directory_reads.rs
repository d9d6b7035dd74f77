//! Directory plain reads over real TLS: lists, single objects, members, owners, app role assignments,
//! unified RBAC, RU costs, stats per route, and 403 for apps without the needed permission.

#[path = "graph_sim_directory_helpers.rs"]
mod dh;
#[path = "graph_sim_helpers.rs"]
mod helpers;

use dh::{by_id, get, list_all, truth_links, truth_objects};
use entra_airsync::sim::graph::AppRegistration;
use helpers::{small, start, token, token_for};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn ids(items: &[Value]) -> BTreeSet<String> {
    items.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

/// Each device's owners' ids, from the truth.
fn device_owners(truth: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut owners: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in truth["deviceOwners"].as_array().unwrap() {
        owners.entry(o["deviceId"].as_str().unwrap().into()).or_default().insert(o["ownerId"].as_str().unwrap().into());
    }
    owners
}

#[tokio::test]
async fn lists_match_truth() {
    let (sim, client) = start(small(700)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    for (path, key) in [
        ("groups?$top=37", "groups"),
        ("applications", "applications"),
        ("servicePrincipals?$top=999", "servicePrincipals"),
        ("devices?$top=120", "devices"),
        ("contacts", "contacts"),
        ("directoryRoles", "directoryRoles"),
        ("roleManagement/directory/roleDefinitions?$top=7", "roleDefinitions"),
        ("roleManagement/directory/roleAssignments?$top=5", "roleAssignments"),
    ] {
        let (items, pages) = list_all(&client, &tok, &format!("{g}/v1.0/{path}")).await;
        assert_eq!(by_id(&items), truth_objects(&truth, key), "{path}");
        assert_eq!(items.len(), truth[key].as_array().unwrap().len(), "{path}: no duplicates");
        let expected_pages = match path.split_once("$top=") {
            Some((_, top)) => items.len().div_ceil(top.parse().unwrap()),
            None => items.len().div_ceil(100),
        };
        assert_eq!(pages, expected_pages.max(1), "{path} pages");
    }
    // Counts derived from the users (contracts §3).
    assert_eq!(truth["groups"].as_array().unwrap().len(), 140);
    assert_eq!(truth["devices"].as_array().unwrap().len(), 350);
    // users/20 + 5, plus the two applications that own the users' directory extensions.
    assert_eq!(truth["applications"].as_array().unwrap().len(), 42);
    assert_eq!(truth["servicePrincipals"].as_array().unwrap().len(), 90);
    assert_eq!(truth["contacts"].as_array().unwrap().len(), 35);
    let defs = truth_objects(&truth, "roleDefinitions");
    let ga = &defs["62e90394-69f5-4237-9190-012177145e10"];
    assert_eq!((ga["displayName"].as_str(), ga["isBuiltIn"].as_bool()), (Some("Global Administrator"), Some(true)));
    assert!(defs.values().any(|d| d["isBuiltIn"] == false));
    let roles = truth_objects(&truth, "directoryRoles");
    assert!(roles.values().all(|r| defs.contains_key(r["roleTemplateId"].as_str().unwrap())));
    for a in truth["roleAssignments"].as_array().unwrap() {
        assert_eq!(a.as_object().unwrap().len(), 4);
        assert_eq!(a["directoryScopeId"], "/");
        assert!(defs.contains_key(a["roleDefinitionId"].as_str().unwrap()));
    }
    let sp = &truth["servicePrincipals"][0];
    assert_eq!(sp["appId"], "00000003-0000-0000-c000-000000000000");
    assert!(sp["appRoles"].as_array().unwrap().iter().any(|r| r["value"] == "User.Read.All"));

    // Selected properties, $count with ConsistencyLevel, paging errors.
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/devices?$select=deviceId,trustType&$top=3")).await;
    assert_eq!(status, 200);
    assert_eq!(v["value"][0].as_object().unwrap().len(), 3);
    assert!(v["@odata.nextLink"].as_str().unwrap().contains("$select=deviceId,trustType&$top=3&$skiptoken="));
    let r = client
        .get(format!("{g}/v1.0/groups?$count=true&$top=1"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["@odata.count"], 140);
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/groups?$top=1000")).await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/groups?$select=members")).await;
    assert_eq!(status, 400);

    // Filtered RBAC assignments.
    let ga_id = "62e90394-69f5-4237-9190-012177145e10";
    let url = format!("{g}/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '{ga_id}'&$top=1");
    let (items, _) = list_all(&client, &tok, &url).await;
    let expected: Vec<&Value> =
        truth["roleAssignments"].as_array().unwrap().iter().filter(|a| a["roleDefinitionId"] == ga_id).collect();
    assert!(!items.is_empty());
    assert_eq!(items.len(), expected.len());
    assert!(items.iter().all(|a| a["roleDefinitionId"] == ga_id));
    sim.shutdown().await;
}

#[tokio::test]
async fn members_owners_and_assignments_match_truth() {
    let (sim, client) = start(small(700)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();

    // Group members: every group, all pages; a large group needs several pages of 100.
    let members = truth_links(&truth, "groupMembers", "groupId");
    for (gid, expected) in &members {
        let (items, pages) = list_all(&client, &tok, &format!("{g}/v1.0/groups/{gid}/members?$select=id")).await;
        let got: BTreeMap<String, String> = items
            .iter()
            .map(|m| (m["id"].as_str().unwrap().to_string(), dh::type_name(m["@odata.type"].as_str().unwrap())))
            .collect();
        assert_eq!(&got, expected, "{gid}");
        assert_eq!(pages, expected.len().div_ceil(100).max(1));
        assert!(items.iter().all(|m| m.as_object().unwrap().len() == 2));
    }
    // Default member rendering carries the member's own properties.
    let (gid, _) = members.iter().max_by_key(|(_, m)| m.len()).unwrap();
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/groups/{gid}/members?$top=5")).await;
    assert_eq!(status, 200);
    let first = &v["value"][0];
    if first["@odata.type"] == "#microsoft.graph.user" {
        assert!(first["userPrincipalName"].is_string(), "{first}");
    }
    let (status, _, v) =
        get(&client, &tok, &format!("{g}/v1.0/groups/00000000-0000-4000-8000-000000000000/members")).await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("Request_ResourceNotFound")));

    // Directory role members (unpaged), also addressed by template id.
    let role_members = truth_links(&truth, "directoryRoleMembers", "roleId");
    for r in truth["directoryRoles"].as_array().unwrap() {
        let rid = r["id"].as_str().unwrap();
        let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/directoryRoles/{rid}/members")).await;
        assert_eq!(status, 200);
        assert!(v.get("@odata.nextLink").is_none());
        assert_eq!(
            ids(v["value"].as_array().unwrap()),
            role_members.get(rid).map(|m| m.keys().cloned().collect()).unwrap_or_default()
        );
    }
    let ga = truth["directoryRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["displayName"] == "Global Administrator")
        .unwrap();
    let url = format!("{g}/v1.0/directoryRoles(roleTemplateId='62e90394-69f5-4237-9190-012177145e10')/members");
    let (status, _, v) = get(&client, &tok, &url).await;
    assert_eq!(status, 200);
    assert_eq!(ids(v["value"].as_array().unwrap()), role_members[ga["id"].as_str().unwrap()].keys().cloned().collect());
    let url = format!("{g}/v1.0/directoryRoles/roleTemplateId=62e90394-69f5-4237-9190-012177145e10/members");
    let (status, _, v2) = get(&client, &tok, &url).await;
    assert_eq!((status, &v2["value"]), (200, &v["value"]));

    // Device owners.
    let owners = device_owners(&truth);
    for d in truth["devices"].as_array().unwrap().iter().take(80) {
        let did = d["id"].as_str().unwrap();
        let (items, _) = list_all(&client, &tok, &format!("{g}/v1.0/devices/{did}/registeredOwners?$select=id")).await;
        assert_eq!(ids(&items), owners.get(did).cloned().unwrap_or_default(), "{did}");
        assert!(items.iter().all(|o| o["@odata.type"] == "#microsoft.graph.user"));
    }

    // App role assignments: the union of appRoleAssignedTo over every SP is the truth.
    let mut got = Vec::new();
    for sp in truth["servicePrincipals"].as_array().unwrap() {
        let sid = sp["id"].as_str().unwrap();
        let (items, _) =
            list_all(&client, &tok, &format!("{g}/v1.0/servicePrincipals/{sid}/appRoleAssignedTo?$top=40")).await;
        for a in &items {
            assert_eq!(a["resourceId"], sid);
            assert_eq!(a["resourceDisplayName"], sp["displayName"]);
            assert!(a["principalDisplayName"].is_string());
            let keys = ["id", "principalId", "principalType", "resourceId", "appRoleId", "createdDateTime"];
            got.push(Value::Object(keys.iter().map(|k| (k.to_string(), a[*k].clone())).collect()));
        }
    }
    let expected = truth["appRoleAssignments"].as_array().unwrap();
    assert!(expected.len() > 100, "{}", expected.len());
    assert_eq!(by_id(&got), by_id(expected));
    assert_eq!(got.len(), expected.len());
    // The connector's app holds the Graph permissions.
    let graph_sp = truth["servicePrincipals"][0]["id"].as_str().unwrap();
    let connector =
        truth["servicePrincipals"].as_array().unwrap().iter().find(|s| s["appId"] == sim.info().client_id).unwrap();
    let (items, _) = list_all(
        &client,
        &tok,
        &format!("{g}/v1.0/servicePrincipals/{}/appRoleAssignments", connector["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(items.len(), 12);
    assert!(items.iter().all(|a| a["resourceId"] == graph_sp && a["principalType"] == "ServicePrincipal"));

    // Single objects.
    let grp = &truth["groups"][3];
    let (status, _, mut v) = get(&client, &tok, &format!("{g}/v1.0/groups/{}", grp["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    v.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(&v, grp);
    sim.shutdown().await;
}

#[tokio::test]
async fn resource_units_and_stats() {
    let (sim, client) = start(small(100)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let gid = truth["groupMembers"][0]["groupId"].as_str().unwrap().to_string();
    sim.reset_stats();
    for (path, ru) in [
        ("applications".to_string(), "2"),
        ("applications?$select=id".into(), "1"),
        ("applications/delta".into(), "2"),
        (format!("groups/{gid}/members"), "3"),
        (format!("groups/{gid}/members?$select=id"), "2"),
        (format!("groups/{gid}/members?$select=id&$top=10"), "1"),
        ("groups".into(), "1"),
        ("groups?$expand=owners".into(), "2"),
        ("devices?$select=id&$expand=registeredOwners($select=id)".into(), "1"),
    ] {
        let (_, h, _) = get(&client, &tok, &format!("{g}/v1.0/{path}")).await;
        assert_eq!(h["x-ms-resource-unit"], ru, "{path}");
    }
    // Tokens carry the options: the next page of a selected list costs as the first.
    let (_, _, v) = get(&client, &tok, &format!("{g}/v1.0/applications?$select=id&$top=2")).await;
    let (_, h, _) = get(&client, &tok, v["@odata.nextLink"].as_str().unwrap()).await;
    assert_eq!(h["x-ms-resource-unit"], "1");
    let stats = sim.stats();
    assert_eq!(stats["requests_per_route"]["GET /v1.0/applications"], 4, "{stats}");
    assert_eq!(stats["requests_per_route"]["GET /v1.0/groups/{id}/members"], 3);
    assert_eq!(stats["ru_per_route"]["GET /v1.0/groups/{id}/members"], 6);
    assert_eq!(stats["requests_per_route"]["GET /v1.0/applications/delta"], 1);
    assert_eq!(stats["errors_by_status"]["400"], 1, "$expand is refused except for device owners: {stats}");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_devices_list_expands_their_owners_on_every_page() {
    let (sim, client) = start(small(100)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let want = device_owners(&truth);
    let mut url = format!("{g}/v1.0/devices?$select=id&$expand=registeredOwners($select=id)&$top=7");
    let (mut pages, mut seen) = (0, 0);
    loop {
        let (status, h, v) = get(&client, &tok, &url).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(h["x-ms-resource-unit"], "1", "options carried by the skip token cost as given");
        pages += 1;
        for d in v["value"].as_array().unwrap() {
            let got = ids(d["registeredOwners"].as_array().expect("expanded on every page"));
            assert_eq!(got, want.get(d["id"].as_str().unwrap()).cloned().unwrap_or_default(), "{d}");
            seen += 1;
        }
        match v["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert!(pages > 1 && seen == truth["devices"].as_array().unwrap().len(), "{pages} pages, {seen} devices");
    sim.shutdown().await;
}

#[tokio::test]
async fn permissions_follow_the_roles_claim() {
    let (sim, client) = start(small(50)).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let sp = truth["servicePrincipals"][0]["id"].as_str().unwrap().to_string();
    let dev = truth["devices"][0]["id"].as_str().unwrap().to_string();
    let grp = truth["groups"][0]["id"].as_str().unwrap().to_string();
    let paths = [
        ("groups/delta", "group"),
        (&*format!("groups/{grp}/members"), "group"),
        ("directoryRoles", "role"),
        ("directoryRoles/delta", "role"),
        ("roleManagement/directory/roleDefinitions", "role"),
        ("roleManagement/directory/roleAssignments", "role"),
        ("applications", "app"),
        ("servicePrincipals/delta", "app"),
        (&*format!("servicePrincipals/{sp}/appRoleAssignedTo"), "app"),
        ("devices", "device"),
        (&*format!("devices/{dev}/registeredOwners"), "device"),
        ("contacts/delta", "contact"),
    ]
    .map(|(p, k)| (p.to_string(), k));
    let grants: [(&str, &[&str]); 6] = [
        ("User.Read.All", &[]),
        ("GroupMember.Read.All", &["group"]),
        ("RoleManagement.Read.Directory", &["role"]),
        ("Application.Read.All", &["app"]),
        ("Device.Read.All,OrgContact.Read.All", &["device", "contact"]),
        ("Directory.Read.All", &["group", "role", "app", "device", "contact"]),
    ];
    for (i, (roles, allowed)) in grants.iter().enumerate() {
        let client_id = format!("11111111-2222-4333-8444-5555555555{i:02}");
        sim.register_app(AppRegistration {
            client_id: client_id.clone(),
            client_secret: "s3cret".into(),
            roles: roles.split(',').map(str::to_string).collect(),
            secret_expired: false,
        });
        let r = token_for(&client, &sim, &client_id, "s3cret").await;
        let tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        for (path, kind) in &paths {
            let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/{path}")).await;
            if allowed.contains(kind) {
                assert_eq!(status, 200, "{roles} {path}: {v}");
            } else {
                assert_eq!(status, 403, "{roles} {path}");
                assert_eq!(v["error"]["code"], "Authorization_RequestDenied");
                assert_eq!(v["error"]["message"], "Insufficient privileges to complete the operation.");
            }
        }
    }
    let (status, _, _) = get(&client, "not-a-token", &format!("{g}/v1.0/groups")).await;
    assert_eq!(status, 401);
    assert_eq!(json!(sim.stats()["errors_by_status"]["401"]), json!(1));
    sim.shutdown().await;
}
