//! End-to-end tests of the Graph simulator over real TLS: identity platform, bearer checks,
//! users list and delta (initial + change rounds), control API, and injected faults.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use base64::Engine as _;
use entra_airsync::sim::graph::{AppRegistration, Faults, GraphSimOptions, MutationSpec, ALL_ROLES};
use helpers::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn check_aad_error(v: &Value, error: &str, code: u64) {
    assert_eq!(v["error"], error, "{v}");
    let desc = v["error_description"].as_str().expect("error_description");
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
    assert!(
        desc.contains("\r\nTrace ID: ") && desc.contains("\r\nCorrelation ID: ") && desc.contains("\r\nTimestamp: ")
    );
    assert_eq!(v["error_codes"], serde_json::json!([code]));
    let ts = v["timestamp"].as_str().expect("timestamp");
    assert_eq!(ts.len(), 20, "YYYY-MM-DD HH:MM:SSZ: {ts}");
    assert!(desc.ends_with(ts));
    assert_eq!(v["trace_id"].as_str().map(str::len), Some(36));
    assert_eq!(v["correlation_id"].as_str().map(str::len), Some(36));
    assert_eq!(v["error_uri"], format!("https://login.microsoftonline.com/error?code={code}"));
}

#[tokio::test]
async fn token_success_claims_domain_and_basic() {
    let (sim, client) = start(small(20)).await;
    let info = sim.info();
    assert_eq!(info.authority_host, info.graph_url);
    let r = token_for(&client, &sim, &info.client_id, &info.client_secret).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    assert_eq!(v["ext_expires_in"], 3599);
    let at = v["access_token"].as_str().unwrap();
    let parts: Vec<&str> = at.split('.').collect();
    assert_eq!(parts.len(), 3);
    let payload: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(payload["tid"], info.tenant_id);
    assert_eq!(payload["appid"], info.client_id);
    let roles: Vec<&str> = payload["roles"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for r in ALL_ROLES {
        assert!(roles.contains(&r), "missing {r}");
    }
    assert!(payload["exp"].as_i64().unwrap() > payload["iat"].as_i64().unwrap());

    // Tenant by domain, secret via HTTP Basic.
    let r = client
        .post(format!("{}/{}/oauth2/v2.0/token", info.authority_host, sim.tenant_domain()))
        .basic_auth(&info.client_id, Some(&info.client_secret))
        .form(&[("scope", "https://graph.microsoft.com/.default"), ("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let (status, _, _) = get(&client, &tok, &format!("{}/v1.0/organization", info.graph_url)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn token_errors() {
    let (sim, client) = start(small(20)).await;
    let info = sim.info();
    sim.register_app(AppRegistration {
        client_id: "11111111-2222-4333-8444-555555555555".into(),
        client_secret: "old-secret".into(),
        roles: vec!["User.Read.All".into()],
        secret_expired: true,
    });

    let r = token_for(&client, &sim, &info.client_id, "wrong").await;
    assert_eq!(r.status(), 401);
    check_aad_error(&r.json().await.unwrap(), "invalid_client", 7000215);

    let r = token_for(&client, &sim, "11111111-2222-4333-8444-555555555555", "old-secret").await;
    assert_eq!(r.status(), 401);
    check_aad_error(&r.json().await.unwrap(), "invalid_client", 7000222);

    let r = token_for(&client, &sim, "99999999-2222-4333-8444-555555555555", "x").await;
    assert_eq!(r.status(), 400);
    check_aad_error(&r.json().await.unwrap(), "unauthorized_client", 700016);

    for tenant in ["aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "nobody.onmicrosoft.com"] {
        let url = format!("{}/{tenant}/oauth2/v2.0/token", info.authority_host);
        let r = client_credentials(&client, &url, &info.client_id, &info.client_secret, GRAPH_SCOPE).await;
        assert_eq!(r.status(), 400);
        let v: Value = r.json().await.unwrap();
        check_aad_error(&v, "invalid_tenant", 90002);
        assert!(v["error_description"].as_str().unwrap().contains(&format!("Tenant '{tenant}' not found.")));
    }

    let url = format!("{}/{}/oauth2/v2.0/token", info.authority_host, info.tenant_id);
    let r =
        client_credentials(&client, &url, &info.client_id, &info.client_secret, "https://foo.microsoft.com/.default")
            .await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    check_aad_error(&v, "invalid_scope", 70011);
    assert!(v["error_description"]
        .as_str()
        .unwrap()
        .contains("The scope https://foo.microsoft.com/.default is not valid."));
}

#[tokio::test]
async fn bearer_required_and_headers() {
    let (sim, client) = start(small(20)).await;
    let url = format!("{}/v1.0/users", sim.info().graph_url);
    for auth in [None, Some("Bearer garbage"), Some("Bearer a.b.c")] {
        let mut req = client.get(&url).header("client-request-id", "my-req-1");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        let h = r.headers().clone();
        assert!(h["www-authenticate"].to_str().unwrap().starts_with("Bearer realm=\"\""));
        assert_eq!(h["client-request-id"], "my-req-1");
        assert!(h.contains_key("request-id") && h.contains_key("x-ms-ags-diagnostic"));
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(v["error"]["innerError"]["client-request-id"], "my-req-1");
        assert_eq!(v["error"]["innerError"]["request-id"], h["request-id"].to_str().unwrap());
        assert!(v["error"]["innerError"]["date"].is_string());
    }
    // A token expires with the simulated clock.
    let tok = token(&client, &sim).await;
    sim.advance_clock(3600);
    let (status, _, v) = get(&client, &tok, &url).await;
    assert_eq!(status, 401);
    assert_eq!(v["error"]["message"], "Access token has expired or is not yet valid.");
}

#[tokio::test]
async fn forbidden_without_user_read() {
    let (sim, client) = start(small(20)).await;
    sim.register_app(AppRegistration {
        client_id: "22222222-2222-4333-8444-555555555555".into(),
        client_secret: "s3cret".into(),
        roles: vec!["Group.Read.All".into()],
        secret_expired: false,
    });
    let r = token_for(&client, &sim, "22222222-2222-4333-8444-555555555555", "s3cret").await;
    let tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let g = sim.info().graph_url;
    for path in ["/v1.0/users", "/v1.0/users/delta", "/beta/users/microsoft.graph.delta"] {
        let (status, h, v) = get(&client, &tok, &format!("{g}{path}")).await;
        assert_eq!(status, 403, "{path}");
        assert_eq!(v["error"]["code"], "Authorization_RequestDenied");
        assert_eq!(v["error"]["message"], "Insufficient privileges to complete the operation.");
        assert!(h.contains_key("x-ms-resource-unit"));
    }
}

#[tokio::test]
async fn users_list_paging_top_and_ru() {
    let (sim, client) = start(small(250)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/users?$top=1000")).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["message"], "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/users?$top=0")).await;
    assert_eq!(status, 400);
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/users?$select=nosuchprop")).await;
    assert_eq!(status, 400, "{v}");

    // Default page 100 without $select: 11 default properties, RU 2.
    let (status, h, v) = get(&client, &tok, &format!("{g}/v1.0/users")).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-resource-unit"], "2");
    assert_eq!(v["value"].as_array().unwrap().len(), 100);
    assert_eq!(v["value"][0].as_object().unwrap().len(), 11);
    assert_eq!(v["@odata.context"], format!("{g}/v1.0/$metadata#users"));

    // Walk all with $select + $top.
    let mut url = format!("{g}/v1.0/users?$select=id,displayName,mail&$top=77");
    let mut ids = BTreeSet::new();
    let mut pages = 0;
    loop {
        let (status, h, v) = get(&client, &tok, &url).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(h["x-ms-resource-unit"], "1");
        pages += 1;
        for u in v["value"].as_array().unwrap() {
            assert_eq!(u.as_object().unwrap().len(), 3);
            assert!(ids.insert(u["id"].as_str().unwrap().to_string()));
        }
        match v.get("@odata.nextLink").and_then(Value::as_str) {
            Some(n) => {
                assert!(
                    n.starts_with(&format!("{g}/v1.0/users?$select=id,displayName,mail&$top=77&$skiptoken=")),
                    "{n}"
                );
                url = n.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(ids, truth_users(&sim.truth()).keys().cloned().collect());

    // Single user by id.
    let id = ids.iter().next().unwrap();
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/users/{id}?$select=id,userType")).await;
    assert_eq!(status, 200);
    assert_eq!(&v["id"], id.as_str());
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/users/00000000-0000-4000-8000-000000000000")).await;
    assert_eq!(status, 404);
    assert_eq!(v["error"]["code"], "Request_ResourceNotFound");
}

#[tokio::test]
async fn delta_full_round_then_changes() {
    let (sim, client) = start(small(1000)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let sel = select_all(&sim);
    let round = delta_round(&client, &tok, &format!("{g}/v1.0/users/delta?$select={sel}")).await;
    let sizes = &round.page_sizes;
    assert!(sizes.len() >= 4, "{sizes:?}");
    assert!(sizes[..sizes.len() - 1].iter().all(|s| (50..=250).contains(s)), "{sizes:?}");
    assert!(sizes.iter().collect::<BTreeSet<_>>().len() > 1, "page sizes must vary: {sizes:?}");
    let mut replica = BTreeMap::new();
    apply(&mut replica, &round.entries);
    assert_eq!(round.entries.len(), 1000);
    let truth0 = sim.truth();
    assert_eq!(replica, truth_users(&truth0));

    // Shape sanity: guests, nulls, extension property.
    let guests: Vec<&Value> = replica.values().filter(|u| u["userType"] == "Guest").collect();
    assert!(guests.len() > 50 && guests.len() < 160, "{}", guests.len());
    assert!(guests
        .iter()
        .all(|u| u["userPrincipalName"].as_str().unwrap().contains("#EXT#@contoso-sim.onmicrosoft.com")));
    assert!(guests.iter().any(|u| u["mail"].is_null()));
    assert!(replica.values().any(|u| u["accountEnabled"] == false));
    assert!(replica.values().any(|u| u.get(sim.extension_property()).is_some()));
    assert!(replica.values().all(|u| u["onPremisesExtensionAttributes"].as_object().unwrap().len() == 15));

    // Mutations of every kind (two batches so restores have something to restore).
    sim.mutate(&MutationSpec { soft_delete: 20, ..Default::default() });
    let truth_mid = sim.truth();
    let s = sim.mutate(&MutationSpec {
        create: 30,
        update: 40,
        soft_delete: 15,
        restore: 8,
        hard_delete: 12,
        seed: 7,
        ..Default::default()
    });
    assert_eq!(s, serde_json::json!({"created":30,"updated":40,"soft_deleted":15,"restored":8,"hard_deleted":12}));
    let truth1 = sim.truth();
    let new_users = truth_users(&truth1);
    let deleted = truth_deleted(&truth1);

    let round2 = delta_round(&client, &tok, &round.delta_link).await;
    let mut seen = BTreeSet::new();
    for e in &round2.entries {
        let id = e["id"].as_str().unwrap().to_string();
        assert!(seen.insert(id.clone()), "object appears once per round: {id}");
        match e.get("@removed") {
            Some(r) => assert_eq!(deleted.get(&id).map(String::as_str), r["reason"].as_str(), "{e}"),
            None => assert_eq!(new_users.get(&id), Some(e)),
        }
    }
    // Exactly the objects changed by either batch (a restored user may look as it did before).
    let mut expected = BTreeSet::new();
    for (a, b) in [(&truth0, &truth_mid), (&truth_mid, &truth1)] {
        let (old, new) = (truth_users(a), truth_users(b));
        for (id, u) in &new {
            if old.get(id) != Some(u) {
                expected.insert(id.clone());
            }
        }
    }
    assert!(truth_deleted(&truth0).is_empty());
    expected.extend(truth_deleted(&truth_mid).into_keys());
    expected.extend(truth_deleted(&truth1).into_keys());
    assert_eq!(seen, expected);
    assert!(round2.entries.iter().any(|e| e["@removed"]["reason"] == "changed"));
    assert!(round2.entries.iter().any(|e| e["@removed"]["reason"] == "deleted"));
    apply(&mut replica, &round2.entries);
    assert_eq!(replica, new_users);

    // Empty round: no objects, fresh deltaLink.
    let round3 = delta_round(&client, &tok, &round2.delta_link).await;
    assert!(round3.entries.is_empty());
    assert_eq!(round3.page_sizes, vec![0]);
    assert_ne!(round3.delta_link, round2.delta_link);
}

#[tokio::test]
async fn delta_latest_and_long_form_route() {
    let (sim, client) = start(small(300)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let (status, _, v) =
        get(&client, &tok, &format!("{g}/v1.0/users/microsoft.graph.delta?$deltatoken=latest&$select=id,displayName"))
            .await;
    assert_eq!(status, 200);
    assert_eq!(v["value"], serde_json::json!([]));
    assert!(v.get("@odata.nextLink").is_none());
    let link = v["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(link.starts_with(&format!("{g}/v1.0/users/delta?$deltatoken=")));
    sim.mutate(&MutationSpec { update: 5, create: 2, seed: 1, ..Default::default() });
    let round = delta_round(&client, &tok, &link).await;
    assert_eq!(round.entries.len(), 7);
    for e in &round.entries {
        let keys: BTreeSet<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["displayName", "id"].into_iter().collect());
    }
    let round = delta_round(&client, &tok, &format!("{g}/beta/users/microsoft.graph.delta")).await;
    assert_eq!(round.entries.len(), 302);
    assert!(round.delta_link.contains("/beta/users/delta?$deltatoken="));
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/users/delta?$deltatoken=not-a-token")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn delta_faults_expiry_and_gone() {
    let (sim, client) = start(small(100)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let round = delta_round(&client, &tok, &format!("{g}/v1.0/users/delta?$select=id")).await;

    sim.set_faults(Faults { gone_next: 1, ..Default::default() });
    let r = client.get(&round.delta_link).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(r.headers()["location"], format!("{g}/v1.0/users/delta?$deltatoken="));
    // Next call works again.
    let again = delta_round(&client, &tok, &round.delta_link).await;
    assert!(again.entries.is_empty());

    // Replays: an already-delivered change comes back.
    sim.mutate(&MutationSpec { update: 3, seed: 5, ..Default::default() });
    let r1 = delta_round(&client, &tok, &again.delta_link).await;
    assert_eq!(r1.entries.len(), 3);
    sim.set_faults(Faults { replay_changes: 3, ..Default::default() });
    let r2 = delta_round(&client, &tok, &r1.delta_link).await;
    assert_eq!(r2.entries.len(), 3, "replayed");
    sim.set_faults(Faults::default());

    // Expiry after 7 simulated days.
    sim.advance_clock(8 * 86_400);
    let tok = token(&client, &sim).await;
    let (status, _, v) = get(&client, &tok, &r2.delta_link).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["code"], "syncStateNotFound");
    assert_eq!(
        v["error"]["message"],
        "The sync state generation is not found. The delta token is expired and data must be synchronized again."
    );
}

#[tokio::test]
async fn control_api_organization_and_unknown_routes() {
    let (sim, client) = start(GraphSimOptions { users: 40, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let (status, h, v) = get(&client, &tok, &format!("{g}/v1.0/organization")).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-resource-unit"], "1");
    assert_eq!(v["value"][0]["id"], sim.info().tenant_id);
    assert_eq!(v["value"][0]["verifiedDomains"][0]["name"], "contoso-sim.onmicrosoft.com");
    assert_eq!(v["value"][0]["verifiedDomains"][0]["isDefault"], true);
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/nothingHere")).await;
    assert_eq!(status, 404);
    assert!(v["error"]["code"].is_string());
    let r = client.get(format!("{g}/whatever")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let info: Value = client.get(format!("{g}/_sim/info")).send().await.unwrap().json().await.unwrap();
    assert_eq!(info["client_id"], sim.info().client_id);
    let summary: Value = client
        .post(format!("{g}/_sim/mutate"))
        .json(&serde_json::json!({"create": 2, "soft_delete": 1, "hard_delete": 1, "seed": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["created"], 2);
    let truth: Value = client.get(format!("{g}/_sim/truth")).send().await.unwrap().json().await.unwrap();
    assert!(truth.get("users").is_some() && truth.get("deleted").is_some());
    let del = truth["deleted"]["users"].as_array().unwrap();
    assert_eq!(truth["users"].as_array().unwrap().len() + del.len(), 42);
    assert!(!del.is_empty());
    assert!(del.iter().all(|d| d.as_object().unwrap().len() == 2));
    assert_eq!(truth, sim.truth());
    let stats: Value = client.get(format!("{g}/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert!(stats["requests_total"].as_u64().unwrap() >= 3);
    assert_eq!(stats["requests_per_route"]["GET /v1.0/organization"], 1);
    assert_eq!(stats["ru_per_route"]["GET /v1.0/organization"], 1);
    assert_eq!(stats["errors_by_status"]["404"], 2);
    let r = client.post(format!("{g}/_sim/reset-stats")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sim.stats()["requests_total"], 0);
    sim.shutdown().await;
}

#[tokio::test]
async fn throttling_returns_429_with_retry_after() {
    let (sim, client) = start(GraphSimOptions { users: 10, throttling: true, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    // Small tenant: 3,500 RU per 10 s; each unselected list costs 2 RU.
    let mut got429 = None;
    'outer: for _ in 0..100 {
        let batch = (0..64).map(|_| client.get(format!("{g}/v1.0/users")).bearer_auth(&tok).send());
        for r in futures::future::join_all(batch).await {
            let r = r.unwrap();
            if r.status() == 429 {
                got429 = Some(r);
                break 'outer;
            }
        }
    }
    let r = got429.expect("throttled");
    let h = r.headers().clone();
    assert!(h["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(h["x-ms-throttle-scope"].to_str().unwrap().starts_with("Tenant_Application/ReadWrite/"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "TooManyRequests");
    assert!(sim.stats()["throttled_429"].as_u64().unwrap() >= 1);
}
