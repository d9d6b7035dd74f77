//! Endpoint-level tests of the AirSync platform emulator: state round trip and validation, auth per endpoint,
//! unknown routes, fault injection (N failures then success, Retry-After, delays), and the artifact flow checks.

#[path = "platform_sim_common.rs"]
mod common;

use std::time::{Duration, Instant};

use entra_airsync::sim::platform::{FaultRule, PlatformOptions, PlatformSim};
use serde_json::{json, Value};

async fn start() -> (PlatformSim, reqwest::Client, String, String) {
    let p = PlatformSim::start(PlatformOptions::default()).await.unwrap();
    let base = p.base_url();
    let tok = p.service_account_token();
    (p, reqwest::Client::new(), base, tok)
}

#[tokio::test]
async fn state_404_then_update_then_get_round_trips() {
    let (p, c, base, tok) = start().await;
    let url = format!("{base}/internal/airdrop.external-worker");
    let q = [("sync_unit", "su-1"), ("request_id", "r-1")];
    let r = c.get(format!("{url}.get")).query(&q).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let text = r#"{"users":{"deltaLink":"x"},"snapInVersionId":"v1"}"#;
    let r = c
        .post(format!("{url}.update"))
        .query(&q)
        .header("Authorization", &tok)
        .json(&json!({ "state": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value =
        c.get(format!("{url}.get")).query(&q).header("Authorization", &tok).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["state"].as_str(), Some(text));
    assert_eq!(p.state_text("su-1").as_deref(), Some(text));
    // Other sync units are separate.
    let r = c
        .get(format!("{url}.get"))
        .query(&[("sync_unit", "su-2"), ("request_id", "r")])
        .header("Authorization", &tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Not double-encoded, not an object, too big → 400.
    for bad in [
        json!({"state": {"a": 1}}),
        json!({"state": "[1,2]"}),
        json!({"state": "not json"}),
        json!({"state": format!("{{\"a\":\"{}\"}}", "x".repeat(1_000_001))}),
    ] {
        let r =
            c.post(format!("{url}.update")).query(&q).header("Authorization", &tok).json(&bad).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
    assert_eq!(p.state_text("su-1").as_deref(), Some(text));
    // Bearer on state → 401.
    let r =
        c.get(format!("{url}.get")).query(&q).header("Authorization", format!("Bearer {tok}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(p.violations().iter().any(|v| v.contains("state.get: 401")));
    p.shutdown().await;
}

#[tokio::test]
async fn auth_and_unknown_routes() {
    let (p, c, base, tok) = start().await;
    let r = c.get(format!("{base}/nope")).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    // Artifacts need Bearer; raw token is refused.
    let r = c
        .get(format!("{base}/internal/airdrop.artifacts.upload-url"))
        .query(&[("request_id", "r"), ("file_type", "application/x-gzip"), ("file_name", "users.jsonl.gz")])
        .header("Authorization", &tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = c.get(format!("{base}/internal/snap-ins.get?id=x")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let si: Value = c
        .get(format!("{base}/internal/snap-ins.get"))
        .query(&[("id", "don:integration:dvrv-us-1:devo/sim:snap_in/1")])
        .header("Authorization", &tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(si["snap_in"]["imports"][0]["name"], "entra-airsync-import");
    assert_eq!(si["snap_in"]["snap_in_version"]["slug"], "entra-airsync");
    let bp: Value = c
        .post(format!("{base}/internal/airdrop.recipe.blueprints.create"))
        .header("Authorization", &tok)
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(bp["recipe_blueprint"]["id"].is_string());
    // IDM install: bad body → 400, good body → counted.
    let idm = format!("{base}/internal/airdrop.recipe.initial-domain-mappings.install");
    let r = c.post(&idm).header("Authorization", &tok).json(&json!({"import_slug": "x"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(&idm)
        .header("Authorization", &tok)
        .json(&json!({"external_system_type": "ADaaS", "import_slug": "entra-airsync-import",
                      "snap_in_slug": "entra-airsync", "record_type_mappings": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(p.idm_installs(), 1);
    assert!(p.store().idm.is_some());
    let counts = p.route_counts();
    assert_eq!(counts["unknown"], 1);
    assert_eq!(counts["idm.install"], 2);
    assert!(p.requests().contains(&("idm.install".to_string(), 400)));
    p.shutdown().await;
}

#[tokio::test]
async fn fault_injection_fails_exactly_n_times() {
    let (p, c, base, tok) = start().await;
    p.inject(FaultRule::fail("state.get", 500, 2));
    p.inject(FaultRule::fail("snap-ins.get", 429, 1).with_retry_after("2"));
    let url = format!("{base}/internal/airdrop.external-worker.get?sync_unit=s&request_id=r");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = c.get(&url).header("Authorization", &tok).send().await.unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, vec![500, 500, 404]);
    let si = format!("{base}/internal/snap-ins.get?id=x");
    let r = c.get(&si).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"));
    let r = c.get(&si).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(p.route_counts()["state.get"], 3);
    // Delay-only rule, persistent until cleared.
    p.inject(FaultRule::delay("snap-ins.get", 300));
    let t = Instant::now();
    let r = c.get(&si).header("Authorization", &tok).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    p.clear_faults();
    let t = Instant::now();
    c.get(&si).header("Authorization", &tok).send().await.unwrap();
    assert!(t.elapsed() < Duration::from_millis(300));
    p.shutdown().await;
}

async fn upload_url(c: &reqwest::Client, base: &str, tok: &str, name: &str) -> Value {
    c.get(format!("{base}/internal/airdrop.artifacts.upload-url"))
        .query(&[("request_id", "r"), ("file_type", "application/x-gzip"), ("file_name", name)])
        .header("Authorization", format!("Bearer {tok}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn form(fd: &Value, skip: Option<&str>, file_first: bool, bytes: Vec<u8>) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new();
    let file = reqwest::multipart::Part::bytes(bytes).file_name("users.jsonl.gz");
    let mut file = Some(file);
    if file_first {
        f = f.part("file", file.take().unwrap());
    }
    for (k, v) in fd.as_object().unwrap() {
        if Some(k.as_str()) != skip {
            f = f.text(k.clone(), v.as_str().unwrap().to_string());
        }
    }
    if let Some(file) = file {
        f = f.part("file", file);
    }
    f
}

#[tokio::test]
async fn artifact_flow_and_upload_checks() {
    let (p, c, base, tok) = start().await;
    let good = common::gz(&[common::user("u1", "Ann")]);
    let a = upload_url(&c, &base, &tok, "users.jsonl.gz").await;
    assert!(a["artifact_id"].as_str().unwrap().starts_with("don:core:dvrv-us-1:devo/sim:artifact/"));
    let fd = &a["form_data"];
    for k in ["key", "policy", "x-amz-signature"] {
        assert!(fd[k].is_string(), "{k}");
    }
    let up = a["upload_url"].as_str().unwrap();
    // Missing a form field → 403; file part first → 403.
    let r = c.post(up).multipart(form(fd, Some("policy"), false, good.clone())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = c.post(up).multipart(form(fd, None, true, good.clone())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Confirm before upload → 400.
    let confirm = format!("{base}/internal/airdrop.artifacts.confirm-upload");
    let r = c
        .post(&confirm)
        .header("Authorization", format!("Bearer {tok}"))
        .json(&json!({"request_id": "r", "artifact_id": a["artifact_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Good upload, confirm, download round trip.
    let r = c.post(up).multipart(form(fd, None, false, good.clone())).send().await.unwrap();
    assert!(r.status().is_success());
    let r = c
        .post(&confirm)
        .header("Authorization", format!("Bearer {tok}"))
        .json(&json!({"request_id": "r", "artifact_id": a["artifact_id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let d: Value = c
        .get(format!("{base}/internal/airdrop.artifacts.download-url"))
        .query(&[("request_id", "r"), ("artifact_id", a["artifact_id"].as_str().unwrap())])
        .header("Authorization", format!("Bearer {tok}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bytes = c.get(d["download_url"].as_str().unwrap()).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), good.as_slice());
    // Not gzip → violation.
    let b = upload_url(&c, &base, &tok, "users.jsonl.gz").await;
    let r = c
        .post(b["upload_url"].as_str().unwrap())
        .multipart(form(&b["form_data"], None, false, b"{\"id\":1}".to_vec()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let v = p.violations();
    assert!(v.iter().any(|x| x.contains("form field policy missing")), "{v:#?}");
    assert!(v.iter().any(|x| x.contains("not the last part")), "{v:#?}");
    assert!(v.iter().any(|x| x.contains("never uploaded")), "{v:#?}");
    assert!(v.iter().any(|x| x.contains("not valid gzip")), "{v:#?}");
    assert_eq!(p.artifact_count(), 2);
    p.shutdown().await;
}
