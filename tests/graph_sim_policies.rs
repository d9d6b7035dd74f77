//! Graph simulator policies over real TLS: endpoint shapes against the truth, licence errors on
//! Free/P1/P2 tenants, endpoint-specific permission 403 bodies, SKUs and extension properties.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{AppRegistration, GraphSim, GraphSimOptions, Licence, PolicyKnobs};
use helpers::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

fn opts(users: usize, licence: Licence) -> GraphSimOptions {
    GraphSimOptions { users, licence, ..Default::default() }
}

/// Follow nextLinks, collecting `value`.
async fn all_pages(client: &reqwest::Client, tok: &str, first: &str) -> (Vec<Value>, usize) {
    let (mut url, mut out, mut pages) = (first.to_string(), Vec::new(), 0);
    loop {
        let (status, _, v) = get(client, tok, &url).await;
        assert_eq!(status, 200, "{url}: {v}");
        assert!(v["@odata.context"].as_str().unwrap().contains("$metadata#"), "{v}");
        out.extend(v["value"].as_array().expect("value").iter().cloned());
        pages += 1;
        match v.get("@odata.nextLink").and_then(Value::as_str) {
            Some(n) => url = n.to_string(),
            None => return (out, pages),
        }
    }
}

fn strip_context(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("@odata.context");
    }
    v
}

fn by_id(v: &[Value]) -> BTreeMap<String, Value> {
    v.iter().map(|x| (x["id"].as_str().unwrap().to_string(), x.clone())).collect()
}

async fn post_json(client: &reqwest::Client, tok: &str, url: &str, body: Value) -> (u16, Value) {
    let r = client.post(url).bearer_auth(tok).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn endpoint_shapes_match_truth() {
    let (sim, client) = start(opts(250, Licence::Governance)).await;
    let tok = token(&client, &sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let truth = sim.truth();
    assert_eq!(truth["licence"], "Governance");
    let users = truth["users"].as_array().unwrap();

    // Per-user authentication methods, by id and by UPN; unpaged.
    let mut methods_by_user: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for m in truth["authenticationMethods"].as_array().unwrap() {
        methods_by_user.entry(m["userId"].as_str().unwrap().into()).or_default().push(m["method"].clone());
    }
    let member = users.iter().find(|u| u["userType"] == "Member").unwrap();
    let id = member["id"].as_str().unwrap();
    let (status, h, v) = get(&client, &tok, &format!("{g}/users/{id}/authentication/methods")).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-resource-unit"], "1");
    assert!(v.get("@odata.nextLink").is_none());
    assert_eq!(v["value"].as_array().unwrap(), &methods_by_user[id]);
    assert!(v["value"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["@odata.type"] == "#microsoft.graph.passwordAuthenticationMethod"
            && m["id"] == "28c10230-6103-485e-b985-444c60001490"));
    let upn = member["userPrincipalName"].as_str().unwrap();
    let (_, _, v2) = get(&client, &tok, &format!("{g}/users/{upn}/authentication/methods")).await;
    assert_eq!(v2["value"], v["value"]);
    let types: BTreeSet<String> =
        methods_by_user.values().flatten().map(|m| m["@odata.type"].as_str().unwrap().to_string()).collect();
    for t in ["microsoftAuthenticator", "phone", "password", "fido2"] {
        assert!(types.contains(&format!("#microsoft.graph.{t}AuthenticationMethod")), "{types:?}");
    }
    let (status, _, v) =
        get(&client, &tok, &format!("{g}/users/00000000-0000-4000-8000-000000000000/authentication/methods")).await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("Request_ResourceNotFound")));

    // Registration report: paged, one row per live user, equal to the truth.
    let (rows, pages) =
        all_pages(&client, &tok, &format!("{g}/reports/authenticationMethods/userRegistrationDetails?$top=60")).await;
    assert_eq!(pages, 5);
    assert_eq!(rows.len(), users.len());
    assert_eq!(by_id(&rows), by_id(truth["userRegistrationDetails"].as_array().unwrap()));
    let row = &rows[0];
    for k in ["userPrincipalName", "isMfaRegistered", "methodsRegistered", "lastUpdatedDateTime", "isAdmin"] {
        assert!(row.get(k).is_some(), "{k}");
    }
    let (guests, _) = all_pages(
        &client,
        &tok,
        &format!("{g}/reports/authenticationMethods/userRegistrationDetails?$filter=userType%20eq%20'guest'"),
    )
    .await;
    assert!(!guests.is_empty() && guests.iter().all(|r| r["userType"] == "guest"));

    // Methods policy singleton.
    let (status, _, v) = get(&client, &tok, &format!("{g}/policies/authenticationMethodsPolicy")).await;
    assert_eq!(status, 200);
    assert_eq!(strip_context(v.clone()), truth["authenticationMethodsPolicy"]);
    assert_eq!(v["id"], "authenticationMethodsPolicy");
    assert!(v["authenticationMethodConfigurations"].as_array().unwrap().iter().all(|c| c["@odata.type"].is_string()));

    // Conditional access: $top/$skip paging.
    let (ca, pages) = all_pages(&client, &tok, &format!("{g}/identity/conditionalAccess/policies?$top=2")).await;
    let truth_ca = truth["conditionalAccessPolicies"].as_array().unwrap();
    assert_eq!(truth_ca.len(), 7);
    assert_eq!(pages, 4);
    assert_eq!(&ca, truth_ca);
    let (_, _, first) = get(&client, &tok, &format!("{g}/identity/conditionalAccess/policies?$top=2")).await;
    assert!(first["@odata.nextLink"].as_str().unwrap().ends_with("$top=2&$skip=2"));
    let (_, _, one) = get(&client, &tok, &format!("{g}/identity/conditionalAccess/policies")).await;
    assert_eq!(one["value"].as_array().unwrap().len(), 7);
    assert!(one.get("@odata.nextLink").is_none());

    // PIM eligibility schedules.
    let (pim, pages) =
        all_pages(&client, &tok, &format!("{g}/roleManagement/directory/roleEligibilitySchedules?$top=3")).await;
    assert!(pages >= 3);
    assert_eq!(by_id(&pim), by_id(truth["roleEligibilitySchedules"].as_array().unwrap()));
    assert!(pim.iter().all(|s| s["scheduleInfo"]["expiration"]["type"].is_string() && s["directoryScopeId"] == "/"));

    // Lifecycle workflows: tasks only with $expand or per workflow.
    let truth_wf = by_id(truth["workflows"].as_array().unwrap());
    let (wf, _) = all_pages(&client, &tok, &format!("{g}/identityGovernance/lifecycleWorkflows/workflows")).await;
    assert_eq!(wf.len(), truth_wf.len());
    assert!(wf.iter().all(|w| w.get("tasks").is_none() && w["executionConditions"].is_object()));
    let (wfx, _) =
        all_pages(&client, &tok, &format!("{g}/identityGovernance/lifecycleWorkflows/workflows?$expand=tasks")).await;
    assert_eq!(by_id(&wfx), truth_wf);
    let (wid, w) = truth_wf.iter().next().unwrap();
    let (status, _, tasks) =
        get(&client, &tok, &format!("{g}/identityGovernance/lifecycleWorkflows/workflows/{wid}/tasks")).await;
    assert_eq!(status, 200);
    assert_eq!(tasks["value"], w["tasks"]);
    assert!(w["tasks"].as_array().unwrap().iter().all(|t| t["taskDefinitionId"].is_string()));

    // SKUs cover every assigned licence; consumed units are counted.
    let (status, h, v) = get(&client, &tok, &format!("{g}/subscribedSkus")).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-resource-unit"], "3");
    let skus = v["value"].as_array().unwrap();
    assert_eq!(skus, truth["subscribedSkus"].as_array().unwrap());
    let sku_ids: BTreeSet<&str> = skus.iter().map(|s| s["skuId"].as_str().unwrap()).collect();
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for u in users {
        for l in u["assignedLicenses"].as_array().unwrap() {
            let s = l["skuId"].as_str().unwrap();
            assert!(sku_ids.contains(s), "{s} not in subscribedSkus");
            *counts.entry(s).or_default() += 1;
        }
    }
    for s in skus {
        assert_eq!(s["consumedUnits"].as_u64(), Some(counts[s["skuId"].as_str().unwrap()]));
        assert!(s["prepaidUnits"]["enabled"].as_u64() >= s["consumedUnits"].as_u64());
        assert!(!s["servicePlans"].as_array().unwrap().is_empty());
        assert_eq!(s["id"], format!("{}_{}", sim.info().tenant_id, s["skuId"].as_str().unwrap()));
    }
    assert!(skus.iter().any(|s| s["skuPartNumber"] == "Microsoft_Entra_ID_Governance"));
    sim.shutdown().await;
}

#[tokio::test]
async fn extension_properties_and_known_issue() {
    let (sim, client) = start(opts(60, Licence::Free)).await;
    let tok = token(&client, &sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let url = format!("{g}/directoryObjects/getAvailableExtensionProperties");
    let (status, v) = post_json(&client, &tok, &url, json!({})).await;
    assert_eq!(status, 200);
    let all = v["value"].as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    let cost = all.iter().find(|e| e["name"] == sim.extension_property()).expect("costCenter definition");
    assert_eq!((cost["dataType"].as_str(), cost["targetObjects"].clone()), (Some("String"), json!(["User"])));
    assert_eq!(cost["@odata.type"], "#microsoft.graph.extensionProperty");
    let truth = sim.truth();
    let truth_ext = truth["extensionProperties"].as_array().unwrap();
    assert_eq!(truth_ext.len(), 2, "only User targets");
    assert!(truth_ext.contains(cost));
    let (_, v) = post_json(&client, &tok, &url, json!({"isSyncedFromOnPremises": true})).await;
    let synced = v["value"].as_array().unwrap();
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0]["isSyncedFromOnPremises"], true);
    assert_eq!(synced[0]["appDisplayName"], "Tenant Schema Extension App");
    let (status, v) = post_json(&client, &tok, &url, json!([1])).await;
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("Request_BadRequest")));
    let (status, _, _) = get(&client, &tok, &url).await;
    assert_eq!(status, 405);

    // The documented known issue: an empty answer; the per-application fallback still works.
    sim.policies().set_knobs(PolicyKnobs { extension_properties_empty: Some(true), ..Default::default() });
    let (_, v) = post_json(&client, &tok, &url, json!({})).await;
    assert_eq!(v["value"], json!([]));
    let apps = sim.policies().extension_apps();
    let hr = &apps[0];
    let (status, h, v) = get(&client, &tok, &format!("{g}/applications/{}/extensionProperties", hr.object_id)).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-resource-unit"], "2");
    let names: Vec<&str> = v["value"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert!(names.contains(&sim.extension_property().as_str()) && names.len() == 2, "{names:?}");
    let filter = format!("$filter=name%20eq%20'{}'", sim.extension_property());
    let (_, _, v) =
        get(&client, &tok, &format!("{g}/applications/{}/extensionProperties?{filter}", hr.object_id)).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 1);
    let (_, _, v) = get(&client, &tok, &format!("{g}/applications(appId='{}')/extensionProperties", hr.app_id)).await;
    assert_eq!(v["value"].as_array().unwrap().len(), 2);
    let (status, _, _) = get(&client, &tok, &format!("{g}/applications/not-a-guid/extensionProperties")).await;
    assert_eq!(status, 404);
    sim.shutdown().await;
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn licence_errors_by_tier() {
    let paths = [
        "auditLogs/signIns",
        "reports/authenticationMethods/userRegistrationDetails",
        "roleManagement/directory/roleEligibilitySchedules",
        "identityGovernance/lifecycleWorkflows/workflows",
        "identity/conditionalAccess/policies",
        "auditLogs/directoryAudits",
        "users/{user}/authentication/methods",
        "policies/authenticationMethodsPolicy",
        "subscribedSkus",
    ];
    let expect = |licence: Licence| -> Vec<(u16, &'static str)> {
        let premium = licence >= Licence::P1;
        let p2 = licence >= Licence::P2;
        let gov = licence == Licence::Governance;
        vec![
            if premium { (200, "") } else { (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant") },
            if premium { (200, "") } else { (403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant") },
            if p2 { (200, "") } else { (400, "AadPremiumLicenseRequired") },
            if gov { (200, "") } else { (403, "NoLicense") },
            if premium { (200, "") } else { (403, "AccessDenied") },
            (200, ""),
            (200, ""),
            (200, ""),
            (200, ""),
        ]
    };
    for licence in [Licence::Free, Licence::P1, Licence::P2, Licence::Governance] {
        let (sim, client) = start(opts(30, licence)).await;
        let tok = token(&client, &sim).await;
        let g = format!("{}/v1.0", sim.info().graph_url);
        let truth = sim.truth();
        let user = truth["users"][0]["id"].as_str().unwrap().to_string();
        for (path, (status, err)) in paths.iter().zip(expect(licence)) {
            let (s, _, v) = get(&client, &tok, &format!("{g}/{}", path.replace("{user}", &user))).await;
            assert_eq!((s, code(&v)), (status, err), "{licence:?} {path}: {v}");
            if s != 200 {
                assert!(v["error"]["innerError"]["request-id"].is_string());
            }
        }
        let info: Value =
            client.get(format!("{}/_sim/info", sim.info().graph_url)).send().await.unwrap().json().await.unwrap();
        assert_eq!(info["licence"], licence.as_str());
        assert_eq!(truth["licence"], licence.as_str());
        let n = |k: &str| truth[k].as_array().unwrap().len();
        assert_eq!(n("signIns") > 0, licence >= Licence::P1, "{licence:?}");
        assert_eq!(n("userRegistrationDetails") > 0, licence >= Licence::P1);
        assert_eq!(n("conditionalAccessPolicies") > 0, licence >= Licence::P1);
        assert_eq!(n("roleEligibilitySchedules") > 0, licence >= Licence::P2);
        assert_eq!(n("workflows") > 0, licence == Licence::Governance);
        assert!(n("directoryAudits") > 0 && n("authenticationMethods") > 0 && n("subscribedSkus") == 4);
        if licence == Licence::Free {
            let (s, _, v) = get(&client, &tok, &format!("{g}/roleManagement/directory/roleEligibilitySchedules")).await;
            assert_eq!(s, 400);
            assert_eq!(
                v["error"]["message"],
                "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."
            );
            let (_, _, v) = get(&client, &tok, &format!("{g}/auditLogs/signIns")).await;
            assert_eq!(v["error"]["message"], "Neither tenant is B2C or tenant doesn't have premium license");
            // Configurable: conditional access answers an empty list instead.
            sim.policies().set_knobs(PolicyKnobs { ca_unlicensed_empty: true, ..Default::default() });
            let (s, _, v) = get(&client, &tok, &format!("{g}/identity/conditionalAccess/policies")).await;
            assert_eq!((s, v["value"].clone()), (200, json!([])));
        }
        sim.shutdown().await;
    }
}

async fn limited_app(sim: &GraphSim, client: &reqwest::Client, roles: &[&str]) -> String {
    let id = "22222222-3333-4444-8555-666666666666";
    sim.register_app(AppRegistration {
        client_id: id.into(),
        client_secret: "limited-secret".into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        secret_expired: false,
    });
    let r = token_for(client, sim, id, "limited-secret").await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn permission_denied_bodies_per_endpoint() {
    let (sim, client) = start(opts(30, Licence::Governance)).await;
    let tok = limited_app(&sim, &client, &["User.Read.All"]).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let user = sim.truth()["users"][0]["id"].as_str().unwrap().to_string();
    let cases: [(&str, &str, &str); 10] = [
        ("users/{user}/authentication/methods", "accessDenied", "Request Authorization failed"),
        (
            "reports/authenticationMethods/userRegistrationDetails",
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        ),
        (
            "auditLogs/directoryAudits",
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        ),
        (
            "auditLogs/signIns",
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
        ),
        ("policies/authenticationMethodsPolicy", "accessDenied", "Request Authorization failed"),
        (
            "identity/conditionalAccess/policies",
            "AccessDenied",
            "You cannot perform the requested operation, required scopes are missing in the token.",
        ),
        ("roleManagement/directory/roleEligibilitySchedules", "UnknownError", ""),
        (
            "identityGovernance/lifecycleWorkflows/workflows",
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        ("subscribedSkus", "Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
        (
            "applications/{user}/extensionProperties",
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
    ];
    for (path, want_code, want_msg) in cases {
        let (s, h, v) = get(&client, &tok, &format!("{g}/{}", path.replace("{user}", &user))).await;
        assert_eq!((s, code(&v)), (403, want_code), "{path}: {v}");
        assert!(h.contains_key("request-id"));
        if want_code == "UnknownError" {
            let inner: Value = serde_json::from_str(v["error"]["message"].as_str().unwrap()).expect("JSON in message");
            assert_eq!(inner["errorCode"], "PermissionScopeNotGranted");
            assert!(inner["message"].as_str().unwrap().contains("RoleEligibilitySchedule.Read.Directory"));
            assert_eq!(inner["instanceAnnotations"], json!([]));
        } else {
            assert_eq!(v["error"]["message"], want_msg, "{path}");
        }
    }
    let r = client
        .post(format!("{g}/directoryObjects/getAvailableExtensionProperties"))
        .bearer_auth(&tok)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(code(&r.json().await.unwrap()), "Authorization_RequestDenied");

    // Narrow permissions open exactly their endpoints.
    let tok = limited_app(&sim, &client, &["Policy.Read.AuthenticationMethod", "Organization.Read.All"]).await;
    let (s, _, _) = get(&client, &tok, &format!("{g}/policies/authenticationMethodsPolicy")).await;
    assert_eq!(s, 200);
    let (s, _, _) = get(&client, &tok, &format!("{g}/subscribedSkus")).await;
    assert_eq!(s, 200);
    let (s, _, v) = get(&client, &tok, &format!("{g}/identity/conditionalAccess/policies")).await;
    assert_eq!((s, code(&v)), (403, "AccessDenied"));

    // Unauthenticated.
    let r = client.get(format!("{g}/auditLogs/directoryAudits")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let stats = sim.stats();
    assert!(stats["requests_per_route"]["GET /v1.0/auditLogs/directoryAudits"].as_u64().unwrap() >= 2, "{stats}");
    sim.shutdown().await;
}
