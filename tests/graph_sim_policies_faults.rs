//! Graph simulator throttling buckets (reports 5 / 10 s with `Retry-After`, conditional access 1 / s
//! without) and fault profiles (flaky, hostile): every fault kind occurs, reproducibly for a seed.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{AppRegistration, FaultProfile, GraphSim, GraphSimOptions, ALL_ROLES};
use helpers::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

#[tokio::test]
async fn reports_bucket_allows_five_per_ten_seconds() {
    let (sim, client) = start(GraphSimOptions { users: 30, throttling: true, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    for i in 0..5 {
        let path = if i % 2 == 0 { "auditLogs/directoryAudits?$top=1" } else { "auditLogs/signIns?$top=1" };
        let (status, _, v) = get(&client, &tok, &format!("{g}/{path}")).await;
        assert_eq!(status, 200, "request {i}: {v}");
    }
    let r = client
        .get(format!("{g}/reports/authenticationMethods/userRegistrationDetails"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let h = r.headers().clone();
    let wait: f64 = h["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 0.0 && wait <= 2.0, "{wait}");
    assert!(h["x-ms-throttle-scope"].to_str().unwrap().starts_with("Tenant_Application/Read/"));
    assert!(h.contains_key("x-ms-throttle-information"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "TooManyRequests");
    assert!(v["error"]["innerError"]["request-id"].is_string());

    // Other buckets are untouched; another app has its own reports bucket.
    let (status, _, _) = get(&client, &tok, &format!("{g}/subscribedSkus")).await;
    assert_eq!(status, 200);
    sim.register_app(AppRegistration {
        client_id: "33333333-4444-4555-8666-777777777777".into(),
        client_secret: "other".into(),
        roles: ALL_ROLES.iter().map(|r| r.to_string()).collect(),
        secret_expired: false,
    });
    let other = token_for(&client, &sim, "33333333-4444-4555-8666-777777777777", "other").await;
    let other = other.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let (status, _, _) = get(&client, &other, &format!("{g}/auditLogs/directoryAudits?$top=1")).await;
    assert_eq!(status, 200);

    // Retry-After is seeded: sometimes an integer, sometimes decimal.
    let mut forms = BTreeSet::new();
    for _ in 0..16 {
        let r = client.get(format!("{g}/auditLogs/directoryAudits?$top=1")).bearer_auth(&tok).send().await.unwrap();
        if r.status() == 429 {
            let ra = r.headers()["retry-after"].to_str().unwrap().to_string();
            assert!(ra.parse::<f64>().unwrap() > 0.0);
            forms.insert(ra.contains('.'));
        }
    }
    assert_eq!(forms.len(), 2, "both integer and decimal Retry-After values");
    assert!(sim.stats()["throttled_429"].as_u64().unwrap() >= 10);

    // After the bucket refills (2 s per request) requests pass again.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, _, _) = get(&client, &tok, &format!("{g}/auditLogs/directoryAudits?$top=1")).await;
    assert_eq!(status, 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn conditional_access_bucket_has_no_retry_after() {
    let (sim, client) = start(GraphSimOptions { users: 30, throttling: true, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let url = format!("{}/v1.0/identity/conditionalAccess/policies", sim.info().graph_url);
    let (status, _, _) = get(&client, &tok, &url).await;
    assert_eq!(status, 200);
    let (status, h, v) = get(&client, &tok, &url).await;
    assert_eq!(status, 429, "{v}");
    assert!(!h.contains_key("retry-after"), "conditional access sends no Retry-After");
    assert!(h["x-ms-throttle-scope"].to_str().unwrap().starts_with("Tenant/"));
    assert_eq!(v["error"]["code"], "TooManyRequests");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, _) = get(&client, &tok, &url).await;
    assert_eq!(status, 200);
    sim.shutdown().await;

    // Throttling off: no bucket applies.
    let (sim, client) = start(GraphSimOptions { users: 30, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    for _ in 0..8 {
        let (s1, _, _) = get(&client, &tok, &format!("{g}/v1.0/identity/conditionalAccess/policies")).await;
        let (s2, _, _) = get(&client, &tok, &format!("{g}/v1.0/auditLogs/directoryAudits?$top=1")).await;
        assert_eq!((s1, s2), (200, 200));
    }
    sim.shutdown().await;
}

/// What a client saw for one request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Seen {
    Ok,
    Status(u16, bool),
    Reset,
    ResetMidBody,
    Truncated,
    Html,
    Slow,
}

const PATHS: [&str; 4] = ["users?$top=60", "subscribedSkus", "auditLogs/directoryAudits?$top=40", "users/delta"];

async fn observe(sim: &GraphSim, n: usize) -> Vec<Seen> {
    let pem = std::fs::read(sim.info().ca_pem).unwrap();
    // No pooling: a dropped connection never affects the next request.
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let tok = token(&client, sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let mut out = Vec::new();
    for i in 0..n {
        let started = Instant::now();
        let r = match client.get(format!("{g}/{}", PATHS[i % PATHS.len()])).bearer_auth(&tok).send().await {
            Err(_) => {
                out.push(Seen::Reset);
                continue;
            }
            Ok(r) => r,
        };
        let status = r.status().as_u16();
        let html = r.headers().get("content-type").is_some_and(|c| c.to_str().unwrap_or("").starts_with("text/html"));
        let retry_after = r.headers().contains_key("retry-after");
        let body = r.bytes().await;
        out.push(match body {
            Err(_) => Seen::ResetMidBody,
            Ok(_) if html => Seen::Html,
            Ok(_) if status != 200 => Seen::Status(status, retry_after),
            Ok(b) if serde_json::from_slice::<Value>(&b).is_err() => Seen::Truncated,
            Ok(_) if started.elapsed() > Duration::from_millis(200) => Seen::Slow,
            Ok(_) => Seen::Ok,
        });
    }
    out
}

async fn run(profile: FaultProfile, seed: u64, n: usize) -> (Vec<Seen>, Value) {
    let sim =
        GraphSim::start(GraphSimOptions { users: 80, seed, faults: profile, ..Default::default() }).await.unwrap();
    let seen = observe(&sim, n).await;
    let log = sim.policies().fault_log();
    sim.shutdown().await;
    (seen, log)
}

#[tokio::test]
async fn flaky_profile_bursts_5xx_and_resets_reproducibly() {
    let (a, log) = run(FaultProfile::Flaky, 5, 300).await;
    let (b, _) = run(FaultProfile::Flaky, 5, 300).await;
    assert_eq!(a, b, "same seed, same faults");
    let (c, _) = run(FaultProfile::Flaky, 6, 300).await;
    assert_ne!(a, c, "another seed, other faults");
    let kinds: BTreeSet<Seen> = a.iter().cloned().collect();
    for k in [
        Seen::Ok,
        Seen::Status(500, false),
        Seen::Status(502, false),
        Seen::Status(503, false),
        Seen::Status(503, true),
        Seen::Status(504, false),
        Seen::Reset,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing: {kinds:?}");
    }
    assert!(kinds.iter().all(|k| !matches!(k, Seen::Html | Seen::Truncated | Seen::ResetMidBody | Seen::Slow)));
    assert!(a.windows(2).any(|w| w[0] != Seen::Ok && w[1] != Seen::Ok), "faults come in bursts");
    let faults = a.iter().filter(|s| **s != Seen::Ok).count();
    assert_eq!(log["faults"].as_array().unwrap().len(), faults, "server log matches what the client saw");
    assert_eq!(log["requests"], 300);
}

#[tokio::test]
async fn hostile_profile_adds_body_faults_reproducibly() {
    let (a, log) = run(FaultProfile::Hostile, 3, 320).await;
    let kinds: BTreeSet<Seen> = a.iter().cloned().collect();
    for k in [
        Seen::Ok,
        Seen::Status(500, false),
        Seen::Status(503, true),
        Seen::Reset,
        Seen::ResetMidBody,
        Seen::Truncated,
        Seen::Html,
        Seen::Slow,
    ] {
        assert!(kinds.contains(&k), "{k:?} missing: {kinds:?}");
    }
    let server: Vec<(u64, String)> = log["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f[0].as_u64().unwrap(), f[1].as_str().unwrap().to_string()))
        .collect();
    for (n, kind) in &server {
        let seen = &a[*n as usize];
        let expected = match kind.as_str() {
            "reset" => Seen::Reset,
            "reset_mid_body" => Seen::ResetMidBody,
            "truncated" => Seen::Truncated,
            "wrong_content_type" => Seen::Html,
            "trickle" => Seen::Slow,
            "status503_retry_after" => Seen::Status(503, true),
            s => Seen::Status(s.trim_start_matches("status").parse().unwrap(), false),
        };
        assert_eq!(seen, &expected, "request {n}: server injected {kind}");
    }
    let (b, _) = run(FaultProfile::Hostile, 3, 320).await;
    assert_eq!(a, b, "same seed, same faults");
}

#[tokio::test]
async fn faults_spare_token_endpoint_and_control_api() {
    let sim = GraphSim::start(GraphSimOptions { users: 20, faults: FaultProfile::Hostile, ..Default::default() })
        .await
        .unwrap();
    let pem = std::fs::read(sim.info().ca_pem).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let info = sim.info();
    for _ in 0..40 {
        let r = token_for(&client, &sim, &info.client_id, &info.client_secret).await;
        assert_eq!(r.status(), 200);
        let r = client.get(format!("{}/_sim/info", info.graph_url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["faults"], "hostile");
    }
    assert_eq!(sim.policies().fault_log()["requests"], 0);

    // Switching the profile off at runtime stops the faults.
    let r = client
        .post(format!("{}/_sim/policies/fault-profile", info.graph_url))
        .json(&serde_json::json!({"profile": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = observe(&sim, 60).await;
    assert!(seen.iter().all(|s| *s == Seen::Ok), "{seen:?}");
    sim.shutdown().await;
}
