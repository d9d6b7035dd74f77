//! A small scripted Graph over loopback HTTP for extractor tests: routes by path (and `$skiptoken` /
//! `$deltatoken`), `$batch` answered item by item, every request logged; artifacts kept in memory.
//! Include with `#[path]` beside `static_token.rs` (declared as `mod static_token`).
#![allow(dead_code)] // each test crate uses part of it

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entra_airsync::airsync::artifacts::{ArtifactSink, ArtifactStore};
use entra_airsync::extract::ExtractCtx;
use entra_airsync::graph::auth::TokenSource;
use entra_airsync::graph::limiter::{Limits, TenantLimiter};
use entra_airsync::graph::GraphClient;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::static_token::StaticToken;

/// Scripted Graph: `path` or `path#token` (the `$skiptoken`/`$deltatoken` value) → (status, body).
#[derive(Default)]
pub struct Script {
    pub routes: HashMap<String, (u16, Value)>,
    pub log: Vec<String>,
}

pub type Shared = Arc<Mutex<Script>>;

fn key_of(path_and_query: &str) -> String {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let token =
        query.split('&').find_map(|kv| kv.strip_prefix("$skiptoken=").or_else(|| kv.strip_prefix("$deltatoken=")));
    match token {
        Some(t) => format!("{path}#{t}"),
        None => path.to_string(),
    }
}

/// Logs `GET <path>` for direct requests and `batch <path>` for `$batch` items.
fn answer(script: &Shared, path_and_query: &str, via: &str) -> (u16, Value) {
    let mut s = script.lock().unwrap();
    s.log.push(format!("{via} {path_and_query}"));
    s.routes.get(&key_of(path_and_query)).cloned().unwrap_or_else(|| {
        (404, json!({"error": {"code": "Request_ResourceNotFound", "message": format!("no route {path_and_query}")}}))
    })
}

async fn handle(
    script: Shared,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let pq = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let (status, body) = if req.uri().path() == "/v1.0/$batch" {
        script.lock().unwrap().log.push("$batch".into());
        let body: Value = serde_json::from_slice(&req.into_body().collect().await?.to_bytes()).unwrap_or(Value::Null);
        let responses: Vec<Value> = body["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let (status, body) = answer(&script, &format!("/v1.0{}", r["url"].as_str().unwrap()), "batch");
                json!({"id": r["id"], "status": status, "headers": {}, "body": body})
            })
            .collect();
        (200, json!({"responses": responses}))
    } else {
        answer(&script, &pq, "GET")
    };
    let mut resp = hyper::Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    Ok(resp)
}

pub async fn serve(script: Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let script = script.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(script.clone(), req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[derive(Default)]
pub struct Memory(Mutex<Vec<(String, Vec<u8>)>>);

#[async_trait::async_trait]
impl ArtifactStore for Memory {
    async fn put(&self, item_type: &str, gzip_jsonl: bytes::Bytes, _: bool) -> Result<String, String> {
        let mut all = self.0.lock().unwrap();
        all.push((item_type.to_string(), gzip_jsonl.to_vec()));
        Ok(format!("art-{}", all.len()))
    }
}

impl Memory {
    pub fn records(&self, item_type: &str) -> Vec<Value> {
        let all = self.0.lock().unwrap();
        let mut out = Vec::new();
        for (t, gz) in all.iter().filter(|(t, _)| t == item_type) {
            let mut text = String::new();
            flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut text).unwrap();
            out.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
            let _ = t;
        }
        out
    }
}

pub struct Fake {
    pub script: Shared,
    pub store: Arc<Memory>,
    pub ctx: ExtractCtx,
    pub base: String,
}

pub fn sync_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc)
}

pub async fn fake(routes: Vec<(&str, Value)>, deadline_in: Duration) -> Fake {
    fake_with(routes, deadline_in, Limits { identity_ru_per_10s: 8000, ..Limits::default() }).await
}

/// As [`fake`], with the worker keeping to `limits` (e.g. a reports bucket a test need not wait for).
pub async fn fake_with(routes: Vec<(&str, Value)>, deadline_in: Duration, limits: Limits) -> Fake {
    let script: Shared = Arc::default();
    let base = serve(script.clone()).await;
    {
        let mut s = script.lock().unwrap();
        for (k, v) in routes {
            let body: Value = serde_json::from_str(&v.to_string().replace("{base}", &base)).unwrap();
            s.routes.insert(k.to_string(), (200, body));
        }
    }
    let tokens = TokenSource::from_credential(Arc::new(StaticToken));
    let graph = GraphClient::new(
        reqwest::Client::new(),
        &base,
        tokens,
        Arc::new(TenantLimiter::with_limits(&limits)),
        2,
        Duration::from_millis(5),
    )
    .unwrap();
    let store = Arc::new(Memory::default());
    let sink = Arc::new(ArtifactSink::new(store.clone(), 1000));
    let ctx = ExtractCtx {
        graph: Arc::new(graph),
        sink,
        deadline: tokio::time::Instant::now() + deadline_in,
        stop: CancellationToken::new(),
        sync_time: sync_time(),
        custom_fields: Arc::new(entra_airsync::schema::custom_fields::user_custom_fields(&[])),
        audit_feed: entra_airsync::extract::audit_feed::AuditFeed::none(),
        methods: entra_airsync::extract::authmethods::MethodsSource::default(),
    };
    Fake { script, store, ctx, base }
}

impl Fake {
    pub fn log(&self) -> Vec<String> {
        self.script.lock().unwrap().log.clone()
    }
    pub fn set(&self, key: &str, status: u16, body: Value) {
        self.script.lock().unwrap().routes.insert(key.to_string(), (status, body));
    }
}
