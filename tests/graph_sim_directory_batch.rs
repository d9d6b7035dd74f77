//! `$batch` over real TLS: 20 mixed sub-requests answered as direct calls would be, limits and
//! malformed batches (400), `dependsOn` (424), per-item throttling (429 inside a 200 envelope).

#[path = "graph_sim_directory_helpers.rs"]
mod dh;
#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{GraphSim, GraphSimOptions};
use helpers::{small, start, token};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

async fn post_batch(client: &reqwest::Client, sim: &GraphSim, tok: &str, ver: &str, body: &Value) -> (u16, Value) {
    let r = client
        .post(format!("{}/{ver}/$batch", sim.info().graph_url))
        .bearer_auth(tok)
        .json(body)
        .send()
        .await
        .expect("batch");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn by_item(v: &Value) -> BTreeMap<String, Value> {
    v["responses"]
        .as_array()
        .expect("responses")
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// A response body without the parts that differ per call (tokens in links, request ids).
fn stable(body: &Value) -> Value {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.remove("@odata.nextLink");
        o.remove("@odata.deltaLink");
        if let Some(e) = o.get_mut("error").and_then(Value::as_object_mut) {
            e.remove("innerError");
        }
    }
    b
}

#[tokio::test]
async fn twenty_mixed_requests_answer_like_direct_calls() {
    let (sim, client) = start(small(300)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let user = truth["users"][0]["id"].as_str().unwrap();
    let grp = truth["groupMembers"][0]["groupId"].as_str().unwrap();
    let sp = truth["servicePrincipals"][0]["id"].as_str().unwrap();
    let dev = truth["deviceOwners"][0]["deviceId"].as_str().unwrap();
    let role = truth["directoryRoles"][0]["id"].as_str().unwrap();
    let urls: Vec<(String, u16, &str)> = vec![
        ("/users?$select=id,displayName&$top=5".into(), 200, "1"),
        (format!("users/{user}?$select=id,mail"), 200, "1"),
        ("/groups?$top=3".into(), 200, "1"),
        (format!("/groups/{grp}/members?$select=id"), 200, "2"),
        (format!("/groups/{grp}"), 200, "1"),
        ("/groups/delta?$select=displayName".into(), 200, "1"),
        ("directoryRoles".into(), 200, "1"),
        (format!("/directoryRoles/{role}/members"), 200, "1"),
        ("/roleManagement/directory/roleDefinitions".into(), 200, "1"),
        ("/roleManagement/directory/roleAssignments?$top=3".into(), 200, "1"),
        ("/applications?$select=id,appId".into(), 200, "1"),
        ("/applications".into(), 200, "2"),
        (format!("/servicePrincipals/{sp}/appRoleAssignedTo"), 200, "1"),
        ("/servicePrincipals?$select=id&$top=2".into(), 200, "1"),
        (format!("/devices/{dev}/registeredOwners?$select=id"), 200, "1"),
        ("/devices?$top=4".into(), 200, "1"),
        ("/contacts".into(), 200, "1"),
        ("/organization".into(), 200, "1"),
        ("/nothingHere".into(), 404, "1"),
        (format!("/groups/{user}"), 404, "1"),
    ];
    let requests: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, (u, _, _))| json!({"id": (i + 1).to_string(), "method": "GET", "url": u}))
        .collect();
    sim.reset_stats();
    let (status, v) = post_batch(&client, &sim, &tok, "v1.0", &json!({"requests": requests})).await;
    assert_eq!(status, 200, "{v}");
    let got = by_item(&v);
    assert_eq!(got.len(), 20);
    let order: Vec<&str> = v["responses"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    let sorted: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    assert_ne!(order, sorted.iter().map(String::as_str).collect::<Vec<_>>(), "responses are shuffled");

    let stats = sim.stats();
    assert_eq!(stats["requests_per_route"]["POST /v1.0/$batch"], 1, "{stats}");
    assert_eq!(stats["requests_per_route"]["GET /v1.0/groups/{id}/members"], 1);
    assert!(stats["ru_per_route"].get("POST /v1.0/$batch").is_none(), "the envelope costs nothing");

    for (i, (url, want, ru)) in urls.iter().enumerate() {
        let r = &got[&(i + 1).to_string()];
        assert_eq!(r["status"], *want, "{url}: {r}");
        assert_eq!(r["headers"]["x-ms-resource-unit"], *ru, "{url}");
        assert!(r["headers"]["Content-Type"].as_str().unwrap().starts_with("application/json"));
        let (status, _, direct) = dh::get(&client, &tok, &format!("{g}/v1.0/{}", url.trim_start_matches('/'))).await;
        assert_eq!(status, *want);
        if !url.contains("delta") {
            assert_eq!(stable(&r["body"]), stable(&direct), "{url}");
        }
    }
    // A nextLink from inside a batch works as a direct URL.
    let next = got["3"]["body"]["@odata.nextLink"].as_str().unwrap();
    let (status, _, page2) = dh::get(&client, &tok, next).await;
    assert_eq!(status, 200);
    assert_eq!(page2["value"].as_array().unwrap().len(), 3);

    // beta works too.
    let (status, v) = post_batch(
        &client,
        &sim,
        &tok,
        "beta",
        &json!({"requests": [{"id": "a", "method": "GET", "url": "/contacts?$top=1"}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(v["responses"][0]["body"]["@odata.context"].as_str().unwrap().contains("/beta/$metadata#contacts"));
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_batches_and_dependencies() {
    let (sim, client) = start(small(30)).await;
    let tok = token(&client, &sim).await;
    let item = |id: &str, url: &str| json!({"id": id, "method": "GET", "url": url});

    let many: Vec<Value> = (0..21).map(|i| item(&i.to_string(), "/users")).collect();
    let (status, v) = post_batch(&client, &sim, &tok, "v1.0", &json!({"requests": many})).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["code"], "BadRequest");
    for bad in [
        json!({"requests": []}),
        json!({"nope": 1}),
        json!({"requests": [item("1", "/users"), item("1", "/groups")]}),
        json!({"requests": [item("A", "/users"), item("a", "/groups")]}),
        json!({"requests": [{"id": "1", "url": "/users"}]}),
        json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}]}),
    ] {
        let (status, v) = post_batch(&client, &sim, &tok, "v1.0", &bad).await;
        assert_eq!(status, 400, "{bad} → {v}");
    }
    let r =
        client.post(format!("{}/v1.0/$batch", sim.info().graph_url)).body("not json").bearer_auth(&tok).send().await;
    assert_eq!(r.unwrap().status(), 400);
    let r = client.post(format!("{}/v1.0/$batch", sim.info().graph_url)).json(&json!({"requests": []})).send().await;
    assert_eq!(r.unwrap().status(), 401);

    let body = json!({"requests": [
        item("1", "/nothingHere"),
        {"id": "2", "method": "GET", "url": "/users?$top=1", "dependsOn": ["1"]},
        item("3", "/organization"),
        {"id": "4", "method": "GET", "url": "/groups?$top=1", "dependsOn": ["3"]},
        {"id": "5", "method": "GET", "url": "/devices?$top=1", "dependsOn": ["4"]},
        {"id": "6", "method": "DELETE", "url": "/users"},
        item("7", "https://graph.microsoft.com/v1.0/users"),
        {"id": "8", "method": "GET", "url": "/users?$top=1", "headers": {"ConsistencyLevel": "eventual"}, "dependsOn": ["2"]},
    ]});
    let (status, v) = post_batch(&client, &sim, &tok, "v1.0", &body).await;
    assert_eq!(status, 200, "{v}");
    let got = by_item(&v);
    let statuses: BTreeMap<&str, u64> = got.iter().map(|(k, r)| (k.as_str(), r["status"].as_u64().unwrap())).collect();
    assert_eq!(
        statuses,
        BTreeMap::from([
            ("1", 404),
            ("2", 424),
            ("3", 200),
            ("4", 200),
            ("5", 200),
            ("6", 405),
            ("7", 400),
            ("8", 424)
        ])
    );
    assert!(got["2"]["body"]["error"]["message"].as_str().unwrap().contains("'1'"));
    sim.shutdown().await;
}

#[tokio::test]
async fn throttled_items_come_back_as_429_inside_a_200_envelope() {
    let (sim, client) = start(GraphSimOptions { users: 10, throttling: true, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let truth = sim.truth();
    let grp = truth["groups"][0]["id"].as_str().unwrap();
    // 20 × 3 RU per batch against a 3,500 RU bucket.
    let requests: Vec<Value> = (0..20)
        .map(|i| json!({"id": format!("r{i}"), "method": "GET", "url": format!("/groups/{grp}/members")}))
        .collect();
    let body = json!({"requests": requests});
    let mut throttled: Option<Value> = None;
    'outer: for _ in 0..100 {
        let calls = (0..8).map(|_| post_batch(&client, &sim, &tok, "v1.0", &body));
        for (status, v) in futures::future::join_all(calls).await {
            assert_eq!(status, 200, "the envelope is never throttled");
            let items = v["responses"].as_array().unwrap();
            let statuses: BTreeSet<u64> = items.iter().map(|r| r["status"].as_u64().unwrap()).collect();
            assert!(statuses.is_subset(&BTreeSet::from([200, 429])), "{statuses:?}");
            if statuses.contains(&429) {
                throttled = Some(v);
                break 'outer;
            }
        }
    }
    let v = throttled.expect("some items throttled");
    let item = v["responses"].as_array().unwrap().iter().find(|r| r["status"] == 429).unwrap();
    let retry: u64 = item["headers"]["Retry-After"].as_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    assert_eq!(item["body"]["error"]["code"], "TooManyRequests");
    assert!(item["headers"]["x-ms-throttle-scope"].as_str().unwrap().starts_with("Tenant_Application/"));
    assert!(sim.stats()["throttled_429"].as_u64().unwrap() >= 1);
    sim.shutdown().await;
}

/// Policy and report routes answer inside `$batch` as they do directly (the auth-methods extractor
/// batches per-user method reads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_routes_work_inside_a_batch() {
    let sim = entra_airsync::sim::graph::GraphSim::start(entra_airsync::sim::graph::GraphSimOptions {
        users: 30,
        ..Default::default()
    })
    .await
    .unwrap();
    let info = sim.info();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(sim.ca_pem_text().as_bytes()).unwrap())
        .build()
        .unwrap();
    let token: serde_json::Value = client
        .post(format!("{}/{}/oauth2/v2.0/token", info.authority_host, info.tenant_id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &info.client_id),
            ("client_secret", &info.client_secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap().to_string();
    let user = sim.truth()["users"][0]["id"].as_str().unwrap().to_string();
    let body = serde_json::json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/users/{user}/authentication/methods")},
        {"id": "2", "method": "GET", "url": "/policies/authenticationMethodsPolicy"},
    ]});
    let answer: serde_json::Value = client
        .post(format!("{}/v1.0/$batch", info.graph_url))
        .bearer_auth(&bearer)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for r in answer["responses"].as_array().unwrap() {
        assert_eq!(r["status"], 200, "{r}");
    }
}
