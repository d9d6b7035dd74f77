//! Shared helpers for the platform-emulator tests: a tiny scripted fake worker that speaks the AirSync protocol
//! over real HTTP (state, three-call upload, IDM install, callback), with knobs to break it on purpose.
#![allow(dead_code)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use entra_airsync::sim::platform::events::to_new;
use entra_airsync::sim::platform::FnWorker;
use serde_json::{json, Value};

#[derive(Default)]
pub struct Knobs {
    pub bearer_on_callback: bool,
    pub skip_headers: bool,
    pub wrong_answer: bool,
    pub skip_confirm: bool,
    pub bad_line: bool,
    pub double_callback: bool,
    pub delayed_once: bool,
    pub change_context: bool,
    pub skip_state_post: bool,
    pub delayed_as_string: bool,
    /// Users emitted by START (2) and CONTINUE (1) data events, overridable.
    pub users: Option<Vec<Value>>,
    pub deletions: Vec<Value>,
    /// The item type the first data artifact (a users file) is listed as.
    pub users_listed_as: Option<&'static str>,
    pub delayed_done: AtomicUsize,
}

pub fn gz(lines: &[Value]) -> Vec<u8> {
    let text = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

pub fn user(id: &str, name: &str) -> Value {
    json!({"id": id, "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-02-01T00:00:00Z",
           "data": {"display_name": name, "user_principal_name": format!("{id}@t.test"), "email": format!("{id}@t.test"),
                    "account_enabled": true, "user_type": "Member"}})
}

pub fn truth_user(id: &str, name: &str) -> Value {
    json!({"id": id, "displayName": name, "userPrincipalName": format!("{id}@t.test"), "mail": format!("{id}@t.test"),
           "accountEnabled": true, "userType": "Member", "createdDateTime": "2024-01-01T00:00:00Z"})
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

/// Upload one artifact via upload-url → multipart → (confirm). Returns its descriptor.
pub async fn upload(
    c: &reqwest::Client,
    ev: &Value,
    item_type: &str,
    raw: Vec<u8>,
    count: usize,
    confirm: bool,
) -> Value {
    let base = s(ev, "/execution_metadata/devrev_endpoint");
    let token = s(ev, "/context/secrets/service_account_token");
    let rid = s(ev, "/payload/event_context/request_id");
    let r: Value = c
        .get(format!("{base}/internal/airdrop.artifacts.upload-url"))
        .query(&[
            ("request_id", rid),
            ("file_type", "application/x-gzip"),
            ("file_name", &format!("{item_type}.jsonl.gz")),
        ])
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in r["form_data"].as_object().unwrap() {
        form = form.text(k.clone(), v.as_str().unwrap().to_string());
    }
    form = form.part("file", reqwest::multipart::Part::bytes(raw).file_name(format!("{item_type}.jsonl.gz")));
    let st = c.post(r["upload_url"].as_str().unwrap()).multipart(form).send().await.unwrap().status();
    assert!(st.is_success(), "upload status {st}");
    let id = r["artifact_id"].as_str().unwrap().to_string();
    if confirm {
        let st = c
            .post(format!("{base}/internal/airdrop.artifacts.confirm-upload"))
            .header("Authorization", format!("Bearer {token}"))
            .json(&json!({"request_id": rid, "artifact_id": id}))
            .send()
            .await
            .unwrap()
            .status();
        assert!(st.is_success());
    }
    json!({"id": id, "item_type": item_type, "item_count": count})
}

/// One invocation of the fake worker.
pub async fn fake_worker(ev: Value, k: Arc<Knobs>) {
    let c = reqwest::Client::new();
    let token = s(&ev, "/context/secrets/service_account_token").to_string();
    let base = s(&ev, "/execution_metadata/devrev_endpoint").to_string();
    let ctx = ev["payload"]["event_context"].clone();
    let incoming = to_new(s(&ev, "/payload/event_type"));
    let wdu = s(&ctx, "/worker_data_url").to_string();
    let q =
        [("sync_unit", s(&ctx, "/sync_unit_id").to_string()), ("request_id", s(&ctx, "/request_id_adaas").to_string())];
    let stateless = incoming == "START_EXTRACTING_EXTERNAL_SYNC_UNITS";
    let mut state = json!({});
    if !stateless {
        let r = c.get(format!("{wdu}.get")).query(&q).header("Authorization", &token).send().await.unwrap();
        if r.status().as_u16() == 404 {
            c.post(format!("{wdu}.update"))
                .query(&q)
                .header("Authorization", &token)
                .json(&json!({"state": "{}"}))
                .send()
                .await
                .unwrap();
        } else {
            let body: Value = r.json().await.unwrap();
            state = serde_json::from_str(body["state"].as_str().unwrap()).unwrap();
        }
        let version = s(&ev, "/context/snap_in_version_id").to_string();
        if state["snapInVersionId"].as_str() != Some(version.as_str()) {
            let si: Value = c
                .get(format!("{base}/internal/snap-ins.get"))
                .query(&[("id", s(&ev, "/context/snap_in_id"))])
                .header("Authorization", &token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let st = c
                .post(format!("{base}/internal/airdrop.recipe.initial-domain-mappings.install"))
                .header("Authorization", &token)
                .json(&json!({"external_system_type": "ADaaS",
                    "import_slug": si["snap_in"]["imports"][0]["name"],
                    "snap_in_slug": si["snap_in"]["snap_in_version"]["slug"],
                    "record_type_mappings": {"users": {}}, "format_version": "v0.2.0"}))
                .send()
                .await
                .unwrap()
                .status();
            assert!(st.is_success());
            state["snapInVersionId"] = json!(version);
        }
    }
    let mut artifacts = Vec::new();
    let mut event_data = json!({});
    let answer = match incoming.as_str() {
        "START_EXTRACTING_EXTERNAL_SYNC_UNITS" => {
            let units = [json!({"id": "tenant-1", "name": "Tenant", "description": ""})];
            artifacts.push(upload(&c, &ev, "external_sync_units", gz(&units), 1, false).await);
            "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE"
        }
        "START_EXTRACTING_METADATA" => {
            let md = [json!({"schema_version": "v0.2.0", "record_types": {"users": {}}})];
            artifacts.push(upload(&c, &ev, "external_domain_metadata", gz(&md), 1, true).await);
            if k.wrong_answer {
                "DATA_EXTRACTION_DONE"
            } else {
                "METADATA_EXTRACTION_DONE"
            }
        }
        "START_EXTRACTING_DATA" => {
            let mut users = k.users.clone().unwrap_or_else(|| vec![user("u1", "Ann"), user("u2", "Bob")]);
            users.extend(k.deletions.iter().cloned());
            if k.bad_line {
                users.push(json!({"id": 7, "created_date": "soon", "data": {}}));
            }
            let n = users.len();
            let mut listed = upload(&c, &ev, "users", gz(&users), n, !k.skip_confirm).await;
            if let Some(t) = k.users_listed_as {
                listed["item_type"] = json!(t);
            }
            artifacts.push(listed);
            if k.wrong_answer {
                "METADATA_EXTRACTION_DONE"
            } else {
                "DATA_EXTRACTION_PROGRESS"
            }
        }
        "CONTINUE_EXTRACTING_DATA" => {
            if k.delayed_once && k.delayed_done.fetch_add(1, Ordering::SeqCst) == 0 {
                event_data["delay"] = if k.delayed_as_string { json!("3") } else { json!(3) };
                "DATA_EXTRACTION_DELAYED"
            } else {
                if k.users.is_none() {
                    artifacts.push(upload(&c, &ev, "users", gz(&[user("u3", "Cy")]), 1, true).await);
                }
                "DATA_EXTRACTION_DONE"
            }
        }
        "START_EXTRACTING_ATTACHMENTS" | "CONTINUE_EXTRACTING_ATTACHMENTS" => "ATTACHMENT_EXTRACTION_DONE",
        _ => "UNKNOWN_EVENT_TYPE",
    };
    if !stateless && !k.skip_state_post {
        state["last"] = json!(answer);
        c.post(format!("{wdu}.update"))
            .query(&q)
            .header("Authorization", &token)
            .json(&json!({"state": state.to_string()}))
            .send()
            .await
            .unwrap();
    }
    event_data["artifacts"] = json!(artifacts);
    let mut echoed = ctx.clone();
    echoed["extract_from"] = json!("1970-01-01T00:00:00.000Z");
    echoed["extract_to"] = json!("2026-01-01T00:00:00.000Z");
    if k.change_context {
        echoed["mode"] = json!("LOADING");
    }
    let body = json!({"event_type": answer, "event_context": echoed, "event_data": event_data,
                      "worker_metadata": {"adaas_library_version": "fake-0.1"}});
    let times = if k.double_callback { 2 } else { 1 };
    for _ in 0..times {
        let mut req = c
            .post(s(&ctx, "/callback_url"))
            .header("Authorization", if k.bearer_on_callback { format!("Bearer {token}") } else { token.clone() })
            .json(&body);
        if !k.skip_headers {
            req = req
                .header("X-DevRev-Client-Platform", s(&ctx, "/snap_in_slug"))
                .header("X-DevRev-Client-Id", s(&ctx, "/snap_in_version_id"))
                .header("X-DevRev-Client-Version", "fake-0.1");
        }
        let _ = req.send().await;
    }
}

pub fn worker(k: Knobs) -> Arc<FnWorker> {
    let k = Arc::new(k);
    Arc::new(FnWorker::new(move |ev| fake_worker(ev, k.clone())))
}
