//! Shared helpers for the Graph simulator integration tests (included via `#[path]`).
//! Starts the simulator, builds a client trusting its CA, fetches tokens, walks delta rounds.
#![allow(dead_code)]

use entra_airsync::sim::graph::{GraphSim, GraphSimOptions, USER_PROPERTIES};
use serde_json::Value;
use std::collections::BTreeMap;

pub async fn start(opts: GraphSimOptions) -> (GraphSim, reqwest::Client) {
    let sim = GraphSim::start(opts).await.expect("sim starts");
    let pem = std::fs::read(sim.info().ca_pem).expect("CA file written");
    assert_eq!(String::from_utf8_lossy(&pem), sim.ca_pem_text());
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("pem"))
        .build()
        .expect("client");
    (sim, client)
}

pub fn small(users: usize) -> GraphSimOptions {
    GraphSimOptions { users, ..Default::default() }
}

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// A client-credentials token request to `token_url`.
pub async fn client_credentials(
    client: &reqwest::Client,
    token_url: &str,
    id: &str,
    secret: &str,
    scope: &str,
) -> reqwest::Response {
    client
        .post(token_url)
        .form(&[("client_id", id), ("client_secret", secret), ("scope", scope), ("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request")
}

pub async fn token_for(client: &reqwest::Client, sim: &GraphSim, id: &str, secret: &str) -> reqwest::Response {
    let info = sim.info();
    let url = format!("{}/{}/oauth2/v2.0/token", info.authority_host, info.tenant_id);
    client_credentials(client, &url, id, secret, GRAPH_SCOPE).await
}

pub async fn token(client: &reqwest::Client, sim: &GraphSim) -> String {
    let info = sim.info();
    let r = token_for(client, sim, &info.client_id, &info.client_secret).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    v["access_token"].as_str().expect("access_token").to_string()
}

pub async fn get(client: &reqwest::Client, tok: &str, url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = client.get(url).bearer_auth(tok).send().await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    (status, headers, v)
}

/// `$select` of every modelled property plus the directory extension.
pub fn select_all(sim: &GraphSim) -> String {
    let mut p: Vec<String> = USER_PROPERTIES.iter().map(|s| s.to_string()).collect();
    p.push(sim.extension_property());
    p.join(",")
}

pub struct Round {
    pub entries: Vec<Value>,
    pub page_sizes: Vec<usize>,
    pub delta_link: String,
}

/// Follow nextLinks until a deltaLink; asserts exactly one link per page.
pub async fn delta_round(client: &reqwest::Client, tok: &str, first_url: &str) -> Round {
    let mut url = first_url.to_string();
    let mut entries = Vec::new();
    let mut page_sizes = Vec::new();
    for _ in 0..100_000 {
        let (status, _, v) = get(client, tok, &url).await;
        assert_eq!(status, 200, "delta page failed: {v}");
        let page = v["value"].as_array().expect("value array");
        page_sizes.push(page.len());
        entries.extend(page.iter().cloned());
        let next = v.get("@odata.nextLink").and_then(Value::as_str);
        let delta = v.get("@odata.deltaLink").and_then(Value::as_str);
        match (next, delta) {
            (Some(n), None) => {
                assert!(n.contains("$skiptoken="), "{n}");
                assert!(!n.contains("$select"), "select must not be re-appended: {n}");
                url = n.to_string();
            }
            (None, Some(d)) => {
                assert!(d.contains("$deltatoken="), "{d}");
                return Round { entries, page_sizes, delta_link: d.to_string() };
            }
            other => panic!("page must carry exactly one link, got {other:?}"),
        }
    }
    panic!("delta round did not finish")
}

/// Apply delta entries to a replica keyed by id.
pub fn apply(replica: &mut BTreeMap<String, Value>, entries: &[Value]) {
    for e in entries {
        let id = e["id"].as_str().expect("id").to_string();
        if e.get("@removed").is_some() {
            replica.remove(&id);
        } else {
            replica.insert(id, e.clone());
        }
    }
}

pub fn truth_users(truth: &Value) -> BTreeMap<String, Value> {
    truth["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| (u["id"].as_str().expect("id").to_string(), u.clone()))
        .collect()
}

pub fn truth_deleted(truth: &Value) -> BTreeMap<String, String> {
    truth["deleted"]["users"]
        .as_array()
        .expect("deleted.users")
        .iter()
        .map(|u| (u["id"].as_str().expect("id").to_string(), u["reason"].as_str().expect("reason").to_string()))
        .collect()
}
