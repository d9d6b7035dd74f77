//! Per-request context (request ids, RU cost) and response builders with the Graph headers.
//! Every Graph response carries request-id, client-request-id, x-ms-ags-diagnostic, x-ms-resource-unit.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use serde_json::Value;

pub type Resp = Response<Full<Bytes>>;

pub const AGS_DIAGNOSTIC: &str =
    r#"{"ServerInfo":{"DataCenter":"Sim West","Slice":"E","Ring":"4","ScaleUnit":"001","RoleInstance":"SIM0000001"}}"#;
pub const GRAPH_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// What a handler knows about the request it is answering.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub request_id: String,
    pub client_request_id: String,
    /// RU charged (None for non-Graph endpoints).
    pub ru: Option<u32>,
}

impl Ctx {
    pub fn new(client_request_id: Option<&str>) -> Ctx {
        let request_id = uuid::Uuid::new_v4().to_string();
        let client_request_id = client_request_id
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .map(str::to_string)
            .unwrap_or_else(|| request_id.clone());
        Ctx { request_id, client_request_id, ru: None }
    }

    pub fn date() -> String {
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

/// A JSON response; Graph headers are added when `graph` is set.
pub fn json_response(ctx: &Ctx, status: StatusCode, body: &Value, graph: bool, extra: &[(&str, String)]) -> Resp {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(bytes)));
    *r.status_mut() = status;
    let h = r.headers_mut();
    let ct = if graph { GRAPH_JSON } else { "application/json; charset=utf-8" };
    h.insert("content-type", HeaderValue::from_static(ct));
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    if graph {
        set(h, "request-id", &ctx.request_id);
        set(h, "client-request-id", &ctx.client_request_id);
        h.insert("x-ms-ags-diagnostic", HeaderValue::from_static(AGS_DIAGNOSTIC));
        h.insert("odata-version", HeaderValue::from_static("4.0"));
        h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000"));
        set(h, "x-ms-resource-unit", &ctx.ru.unwrap_or(1).to_string());
    } else {
        set(h, "x-ms-request-id", &ctx.request_id);
        set(h, "client-request-id", &ctx.client_request_id);
    }
    for (k, v) in extra {
        if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
            set_named(h, name, v);
        }
    }
    r
}

fn set(h: &mut hyper::HeaderMap, k: &'static str, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(k, v);
    }
}

fn set_named(h: &mut hyper::HeaderMap, k: HeaderName, v: &str) {
    if let Ok(v) = HeaderValue::from_str(v) {
        h.insert(k, v);
    }
}
