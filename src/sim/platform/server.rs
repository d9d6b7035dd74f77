//! The emulator's HTTP server: routing, authentication (raw token vs `Bearer`), fault application, and every
//! endpoint of §10.3 (callback, state, artifacts, snap-ins.get, blueprints, IDM install) with its checks.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

use super::artifacts::{check_line, digest_lines, parse_jsonl_gz};
use super::events::{is_extractor_answer, is_stateless, valid_answers};
use super::state::parse_update_body;
use super::Inner;

type Resp = Response<Full<Bytes>>;

/// Largest request body read at all (uploads included).
const MAX_BODY: usize = 256 * 1024 * 1024;
/// Largest callback body the platform accepts (§4.6).
pub const MAX_EVENT_BYTES: usize = 200_000;
const WARN_EVENT_BYTES: usize = 160_000;
/// Snap-in id the driver puts in `context.snap_in_id`.
pub const SNAP_IN_ID: &str = "don:integration:dvrv-us-1:devo/sim:snap_in/1";

pub(crate) async fn serve(listener: tokio::net::TcpListener, inner: Arc<Inner>) {
    loop {
        tokio::select! {
            _ = inner.shutdown.notified() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let inner = inner.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let inner = inner.clone();
                        async move { Ok::<_, Infallible>(handle(inner, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        }
    }
}

fn json_resp(status: StatusCode, v: Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

fn error(status: StatusCode, msg: &str) -> Resp {
    json_resp(status, json!({"error": msg}))
}

fn route_name(method: &Method, path: &str) -> &'static str {
    match (method, path) {
        (&Method::POST, "/internal/airdrop.external-extractor.message") => "callback",
        (&Method::GET, "/internal/airdrop.external-worker.get") => "state.get",
        (&Method::POST, "/internal/airdrop.external-worker.update") => "state.update",
        (&Method::GET, "/internal/airdrop.artifacts.upload-url") => "upload-url",
        (&Method::POST, "/internal/airdrop.artifacts.confirm-upload") => "confirm",
        (&Method::GET, "/internal/airdrop.artifacts.download-url") => "download-url",
        (&Method::GET, "/internal/snap-ins.get") => "snap-ins.get",
        (&Method::POST, "/internal/airdrop.recipe.blueprints.create") => "blueprints.create",
        (&Method::POST, "/internal/airdrop.recipe.initial-domain-mappings.install") => "idm.install",
        (&Method::POST, p) if p.starts_with("/upload/") => "upload",
        (&Method::GET, p) if p.starts_with("/download/") => "download",
        _ => "unknown",
    }
}

async fn handle(inner: Arc<Inner>, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = route_name(&method, &path);
    let action = inner.faults.on_request(route);
    if action.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(action.delay_ms)).await;
    }
    let resp = if let Some((status, retry_after)) = action.fail {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = error(code, "injected fault");
        if let Some(ra) = retry_after {
            if let Ok(v) = hyper::header::HeaderValue::from_str(&ra) {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
        }
        r
    } else {
        dispatch(&inner, route, req, &path).await
    };
    inner.faults.record_status(route, resp.status().as_u16());
    resp
}

fn query_map(req: &Request<Incoming>) -> HashMap<String, String> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    Raw,
    Bearer,
}

/// Check the Authorization header; records a violation and returns false when wrong.
fn auth_ok(inner: &Inner, route: &str, headers: &HeaderMap, kind: Auth) -> bool {
    let token = &inner.opts.service_account_token;
    let got = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let ok = match (kind, got) {
        (Auth::Raw, Some(v)) => v == token,
        (Auth::Bearer, Some(v)) => v.strip_prefix("Bearer ") == Some(token.as_str()),
        (_, None) => false,
    };
    if !ok {
        let why = match (kind, got) {
            (_, None) => "missing Authorization".to_string(),
            (Auth::Raw, Some(v)) if v.strip_prefix("Bearer ") == Some(token.as_str()) => {
                "Authorization has a `Bearer ` prefix; this endpoint takes the raw token".to_string()
            }
            (Auth::Bearer, Some(v)) if v == token => {
                "Authorization lacks the `Bearer ` prefix this endpoint needs".to_string()
            }
            _ => "Authorization does not carry the service-account token".to_string(),
        };
        inner.violation(format!("{route}: 401 {why}"));
    }
    ok
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Resp> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(error(StatusCode::PAYLOAD_TOO_LARGE, "body too large or unreadable")),
    }
}

async fn dispatch(inner: &Inner, route: &str, req: Request<Incoming>, path: &str) -> Resp {
    let query = query_map(&req);
    let headers = req.headers().clone();
    let auth = match route {
        "callback" | "state.get" | "state.update" | "snap-ins.get" | "blueprints.create" | "idm.install" => {
            Some(Auth::Raw)
        }
        "upload-url" | "confirm" | "download-url" => Some(Auth::Bearer),
        _ => None,
    };
    if let Some(kind) = auth {
        if !auth_ok(inner, route, &headers, kind) {
            return error(StatusCode::UNAUTHORIZED, "unauthorized");
        }
    }
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(r) => {
            inner.violation(format!("{route}: request body too large or unreadable"));
            return r;
        }
    };
    match route {
        "callback" => callback(inner, &headers, &body),
        "state.get" => state_get(inner, &query),
        "state.update" => state_update(inner, &query, &body),
        "upload-url" => upload_url(inner, &query),
        "upload" => upload(inner, path, &headers, body).await,
        "confirm" => confirm(inner, &body),
        "download-url" => download_url(inner, &query),
        "download" => download(inner, path),
        "snap-ins.get" => snap_ins_get(inner, &query),
        "blueprints.create" => blueprints_create(inner, &body),
        "idm.install" => idm_install(inner, &body),
        _ => {
            inner.violation(format!("unknown route {path}"));
            error(StatusCode::NOT_FOUND, "no such route")
        }
    }
}

// ---------------------------------------------------------------- callback

fn callback(inner: &Inner, headers: &HeaderMap, body: &[u8]) -> Resp {
    if body.len() > MAX_EVENT_BYTES {
        inner.violation(format!("callback: body is {} bytes, over the {MAX_EVENT_BYTES}-byte event limit", body.len()));
    } else if body.len() >= WARN_EVENT_BYTES {
        tracing::warn!(bytes = body.len(), "callback body above the 160 000-byte threshold");
    }
    let Ok(ev) = serde_json::from_slice::<Value>(body) else {
        inner.violation("callback: body is not JSON");
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    for key in ["event_type", "event_context", "event_data", "worker_metadata"] {
        if ev.get(key).is_none() {
            inner.violation(format!("callback: body lacks `{key}`"));
        }
    }
    let answer = ev.get("event_type").and_then(Value::as_str).unwrap_or("").to_string();
    let Some(request_id) =
        ev.get("event_context").and_then(|c| c.get("request_id")).and_then(Value::as_str).map(str::to_string)
    else {
        inner.violation(format!("callback {answer}: event_context.request_id missing; cannot match an invocation"));
        return json_resp(StatusCode::OK, json!({}));
    };

    // Claim the invocation atomically.
    let claimed = {
        let Ok(mut invs) = inner.invocations.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        match invs.get_mut(&request_id) {
            None => Err(None),
            Some(inv) if inv.answered => Err(Some(inv.incoming.clone())),
            Some(inv) => {
                inv.answered = true;
                Ok((
                    inv.incoming.clone(),
                    inv.event_context.clone(),
                    inv.state_posted,
                    inv.snap_in_slug.clone(),
                    inv.snap_in_version_id.clone(),
                    inv.tx.take(),
                ))
            }
        }
    };
    let (incoming, sent_ctx, state_posted, slug, version, tx) = match claimed {
        Err(None) => {
            inner.violation(format!("callback {answer}: no invocation with request_id {request_id}"));
            return json_resp(StatusCode::OK, json!({}));
        }
        Err(Some(incoming)) => {
            inner.violation(format!(
                "callback {answer}: second callback for one {incoming} invocation (request_id {request_id})"
            ));
            return json_resp(StatusCode::OK, json!({}));
        }
        Ok(c) => c,
    };
    let tag = format!("callback {answer} (to {incoming})");

    // Headers.
    for (name, want) in [
        ("x-devrev-client-platform", Some(slug.as_str())),
        ("x-devrev-client-id", Some(version.as_str())),
        ("x-devrev-client-version", None),
    ] {
        match headers.get(name).and_then(|v| v.to_str().ok()) {
            None => inner.violation(format!("{tag}: header {name} missing")),
            Some("") => inner.violation(format!("{tag}: header {name} empty")),
            Some(v) => {
                if let Some(w) = want {
                    if v != w {
                        inner.violation(format!("{tag}: header {name} is {v:?}, expected {w:?}"));
                    }
                }
            }
        }
    }

    // Answer type.
    let valid = valid_answers(&incoming);
    if !valid.contains(&answer.as_str()) {
        inner.violation(format!("{tag}: not a valid answer; expected one of {}", valid.join(", ")));
    }

    // event_context echo.
    check_echo(inner, &tag, &sent_ctx, ev.get("event_context"));

    let event_data = ev.get("event_data").cloned().unwrap_or(Value::Null);
    if ev.get("event_data").is_some() && !event_data.is_object() {
        inner.violation(format!("{tag}: event_data is not an object"));
    }
    if let Some(wm) = ev.get("worker_metadata") {
        if !wm.is_object() {
            inner.violation(format!("{tag}: worker_metadata is not an object"));
        }
    }

    // Artifacts.
    if is_extractor_answer(&answer) {
        match event_data.get("artifacts") {
            Some(Value::Array(list)) => check_artifacts(inner, &tag, &request_id, list),
            Some(_) => inner.violation(format!("{tag}: event_data.artifacts is not an array")),
            None => inner.violation(format!("{tag}: event_data.artifacts missing")),
        }
    } else if event_data.get("artifacts").is_some() {
        inner.violation(format!("{tag}: artifacts on a non-extractor event"));
    }
    if answer == "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE" && event_data.get("external_sync_units").is_some() {
        inner.violation(format!("{tag}: inline event_data.external_sync_units (ESUs must travel as an artifact)"));
    }
    if answer.ends_with("_DELAYED") {
        match event_data.get("delay") {
            Some(d) if d.is_u64() => {}
            other => inner.violation(format!(
                "{tag}: event_data.delay must be an integer number of seconds, got {}",
                other.map_or("nothing".to_string(), Value::to_string)
            )),
        }
    }
    if answer.ends_with("_ERROR") {
        let msg = event_data.get("error").and_then(|e| e.get("message")).and_then(Value::as_str);
        match msg {
            None => inner.violation(format!("{tag}: event_data.error.message missing")),
            Some(m) if m.chars().count() > 10_100 => {
                inner.violation(format!("{tag}: error.message not truncated ({} chars)", m.len()))
            }
            Some(_) => {}
        }
    }
    // An ERROR may come without a state post (the SDK posts none when an upload failed).
    if !is_stateless(&incoming) && !state_posted && valid.contains(&answer.as_str()) && !answer.ends_with("_ERROR") {
        inner.violation(format!("{tag}: answered a stateful event without posting state first"));
    }

    match tx {
        Some(tx) => {
            if tx.send(ev).is_err() {
                inner.violation(format!("{tag}: answer arrived after the driver gave up"));
            }
        }
        None => inner.violation(format!("{tag}: answer arrived after the driver gave up")),
    }
    json_resp(StatusCode::OK, json!({}))
}

fn check_echo(inner: &Inner, tag: &str, sent: &Value, got: Option<&Value>) {
    let Some(got) = got.and_then(Value::as_object) else {
        inner.violation(format!("{tag}: event_context is not an object"));
        return;
    };
    if let Some(sent) = sent.as_object() {
        for (k, v) in sent {
            match got.get(k) {
                None => inner.violation(format!("{tag}: event_context.{k} not echoed")),
                Some(g) if g != v => inner.violation(format!("{tag}: event_context.{k} changed from {v} to {g}")),
                Some(_) => {}
            }
        }
        for k in got.keys() {
            if !sent.contains_key(k) && k != "extract_from" && k != "extract_to" {
                inner.violation(format!("{tag}: event_context.{k} added"));
            }
        }
    }
    for k in ["extract_from", "extract_to"] {
        if let Some(v) = got.get(k) {
            let ok = v.as_str().is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
            if !ok && sent.get(k) != Some(v) {
                inner.violation(format!("{tag}: event_context.{k} is not an RFC3339 time: {v}"));
            }
        }
    }
}

fn check_artifacts(inner: &Inner, tag: &str, request_id: &str, list: &[Value]) {
    let Ok(mut store) = inner.artifacts.lock() else {
        return;
    };
    let mut problems = Vec::new();
    for d in list {
        let Some(id) = d.get("id").and_then(Value::as_str) else {
            problems.push(format!("artifact descriptor without a string id: {d}"));
            continue;
        };
        let item_type = d.get("item_type").and_then(Value::as_str);
        let item_count = d.get("item_count").and_then(Value::as_u64);
        if item_type.is_none() {
            problems.push(format!("artifact {id}: item_type missing"));
        }
        if item_count.is_none() {
            problems.push(format!("artifact {id}: item_count missing or not an integer"));
        }
        let Some(a) = store.by_id(id) else {
            problems.push(format!("artifact {id}: listed but never issued by upload-url"));
            continue;
        };
        if a.listed {
            problems.push(format!("artifact {id}: listed again (already in an earlier answer)"));
        }
        a.listed = true;
        if a.bytes.is_none() {
            problems.push(format!("artifact {id}: listed but never uploaded"));
        }
        if !a.confirmed && a.item_type != "external_sync_units" {
            problems.push(format!("artifact {id}: listed but not confirmed"));
        }
        if a.request_id != request_id {
            problems.push(format!("artifact {id}: requested under request_id {} in another invocation", a.request_id));
        }
        if let Some(t) = item_type {
            if t != a.item_type {
                problems.push(format!("artifact {id}: item_type {t} but uploaded as {}", a.file_name));
            }
        }
        if let (Some(c), Some(lines)) = (item_count, a.line_count) {
            if c != lines as u64 {
                problems.push(format!("artifact {id}: item_count {c} but the file has {lines} lines"));
            }
        }
    }
    drop(store);
    for p in problems {
        inner.violation(format!("{tag}: {p}"));
    }
}

// ---------------------------------------------------------------- state

/// Find the invocation whose `request_id_adaas` is `rid`: (request_id, incoming, sync_unit_id, answered).
fn invocation_by_adaas(inner: &Inner, rid: &str) -> Option<(String, String, String, bool)> {
    let invs = inner.invocations.lock().ok()?;
    invs.iter()
        .find(|(_, inv)| inv.request_id_adaas == rid)
        .map(|(k, inv)| (k.clone(), inv.incoming.clone(), inv.sync_unit_id.clone(), inv.answered))
}

fn check_state_call(inner: &Inner, route: &str, query: &HashMap<String, String>) -> Option<String> {
    let sync_unit = query.get("sync_unit").filter(|s| !s.is_empty())?.clone();
    match query.get("request_id") {
        None => inner.violation(format!("{route}: request_id query parameter missing")),
        Some(rid) => match invocation_by_adaas(inner, rid) {
            None => inner.violation(format!("{route}: request_id {rid} is not the request_id_adaas of any invocation")),
            Some((_, incoming, su, answered)) => {
                if su != sync_unit {
                    inner.violation(format!("{route}: sync_unit {sync_unit} but the event's sync_unit_id is {su}"));
                }
                if is_stateless(&incoming) {
                    inner.violation(format!("{route}: stateless event {incoming} touched state"));
                }
                if answered && route == "state.update" {
                    inner.violation(format!("{route}: state posted after the {incoming} answer"));
                }
            }
        },
    }
    Some(sync_unit)
}

fn state_get(inner: &Inner, query: &HashMap<String, String>) -> Resp {
    let Some(sync_unit) = check_state_call(inner, "state.get", query) else {
        inner.violation("state.get: sync_unit query parameter missing");
        return error(StatusCode::BAD_REQUEST, "sync_unit required");
    };
    let text = inner.states.lock().ok().and_then(|s| s.by_sync_unit.get(&sync_unit).cloned());
    match text {
        Some(t) => json_resp(StatusCode::OK, json!({ "state": t })),
        None => error(StatusCode::NOT_FOUND, "no state for this sync unit"),
    }
}

fn state_update(inner: &Inner, query: &HashMap<String, String>, body: &[u8]) -> Resp {
    let Some(sync_unit) = check_state_call(inner, "state.update", query) else {
        inner.violation("state.update: sync_unit query parameter missing");
        return error(StatusCode::BAD_REQUEST, "sync_unit required");
    };
    let text = match parse_update_body(body) {
        Ok(t) => t,
        Err(e) => {
            inner.violation(format!("state.update: {e}"));
            return error(StatusCode::BAD_REQUEST, &e);
        }
    };
    if let Ok(mut s) = inner.states.lock() {
        s.by_sync_unit.insert(sync_unit, text);
    }
    if let Some(rid) = query.get("request_id") {
        if let Ok(mut invs) = inner.invocations.lock() {
            for inv in invs.values_mut().filter(|i| &i.request_id_adaas == rid) {
                inv.state_posted = true;
            }
        }
    }
    json_resp(StatusCode::OK, json!({}))
}

// ---------------------------------------------------------------- artifacts

fn check_artifact_request_id(inner: &Inner, route: &str, rid: Option<&String>) {
    let Some(rid) = rid else {
        inner.violation(format!("{route}: request_id missing"));
        return;
    };
    let known =
        inner.invocations.lock().ok().map(|invs| invs.get(rid.as_str()).map(|i| (i.answered, i.incoming.clone())));
    match known.flatten() {
        None => {
            inner.violation(format!("{route}: request_id {rid} is not the event_context.request_id of any invocation"))
        }
        Some((true, incoming)) => inner.violation(format!("{route}: called after the {incoming} answer was sent")),
        Some(_) => {}
    }
}

fn upload_url(inner: &Inner, query: &HashMap<String, String>) -> Resp {
    check_artifact_request_id(inner, "upload-url", query.get("request_id"));
    let (Some(file_name), Some(file_type)) = (query.get("file_name"), query.get("file_type")) else {
        inner.violation("upload-url: file_name and file_type are required");
        return error(StatusCode::BAD_REQUEST, "file_name and file_type required");
    };
    if file_name.ends_with(".jsonl.gz") && file_type != "application/x-gzip" {
        inner
            .violation(format!("upload-url: file_type {file_type:?} for {file_name}, expected \"application/x-gzip\""));
    }
    if file_name.len() > 256 {
        inner.violation(format!("upload-url: file_name longer than 256 chars: {file_name}"));
    }
    if let Some(size) = query.get("file_size") {
        match size.parse::<u64>() {
            Ok(0) | Err(_) => {
                inner.violation(format!("upload-url: bad file_size {size}"));
                return error(StatusCode::BAD_REQUEST, "bad file_size");
            }
            Ok(n) if n > 2 * 1024 * 1024 * 1024 => {
                return error(StatusCode::BAD_REQUEST, "file too large");
            }
            Ok(_) => {}
        }
    }
    let rid = query.get("request_id").cloned().unwrap_or_default();
    let Ok(mut store) = inner.artifacts.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
    };
    let a = store.create(&rid, file_name, file_type);
    let form: serde_json::Map<String, Value> =
        a.form_data.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json_resp(
        StatusCode::OK,
        json!({
            "artifact_id": a.id,
            "upload_url": format!("{}/upload/{}", inner.base_url, a.n),
            "form_data": form,
        }),
    )
}

fn path_n(path: &str, prefix: &str) -> Option<u64> {
    path.strip_prefix(prefix).and_then(|s| s.parse().ok())
}

async fn upload(inner: &Inner, path: &str, headers: &HeaderMap, body: Bytes) -> Resp {
    let Some(n) = path_n(path, "/upload/") else {
        inner.violation(format!("upload: bad path {path}"));
        return error(StatusCode::NOT_FOUND, "no such upload slot");
    };
    let expected = {
        let Ok(mut store) = inner.artifacts.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        match store.by_n(n) {
            Some(a) => (a.id.clone(), a.form_data.clone(), a.file_name.clone(), a.item_type.clone(), a.bytes.is_some()),
            None => {
                drop(store);
                inner.violation(format!("upload: no upload slot {n}"));
                return error(StatusCode::NOT_FOUND, "no such upload slot");
            }
        }
    };
    let (id, form_data, file_name, item_type, already) = expected;
    let tag = format!("upload {id} ({file_name})");
    if headers.contains_key(hyper::header::AUTHORIZATION) {
        inner.violation(format!("{tag}: carries an Authorization header (presigned POST takes none)"));
    }
    if headers
        .get(hyper::header::TRANSFER_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("chunked"))
    {
        inner.violation(format!("{tag}: chunked transfer encoding (S3 presigned POST needs Content-Length)"));
    }
    let Some(boundary) = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok())
    else {
        inner.violation(format!("{tag}: not multipart/form-data"));
        return error(StatusCode::BAD_REQUEST, "multipart/form-data required");
    };
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut parts: Vec<(String, Bytes)> = Vec::new();
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                match field.bytes().await {
                    Ok(b) => parts.push((name, b)),
                    Err(e) => {
                        inner.violation(format!("{tag}: bad multipart part {name}: {e}"));
                        return error(StatusCode::BAD_REQUEST, "bad multipart body");
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                inner.violation(format!("{tag}: bad multipart body: {e}"));
                return error(StatusCode::BAD_REQUEST, "bad multipart body");
            }
        }
    }
    let mut missing = Vec::new();
    for (k, v) in &form_data {
        match parts.iter().find(|(n, _)| n == k) {
            None => missing.push(format!("form field {k} missing")),
            Some((_, b)) if b.as_ref() != v.as_bytes() => missing.push(format!("form field {k} has the wrong value")),
            Some(_) => {}
        }
    }
    let file_pos = parts.iter().position(|(n, _)| n == "file");
    let Some(file_pos) = file_pos else {
        inner.violation(format!("{tag}: no `file` part"));
        return error(StatusCode::BAD_REQUEST, "file part missing");
    };
    if file_pos + 1 != parts.len() {
        missing.push("the `file` part is not the last part".to_string());
    }
    if !missing.is_empty() {
        for m in &missing {
            inner.violation(format!("{tag}: {m}"));
        }
        return error(StatusCode::FORBIDDEN, "policy check failed");
    }
    if already {
        inner.violation(format!("{tag}: uploaded twice"));
    }
    let bytes = parts.swap_remove(file_pos).1.to_vec();
    let mut lines = None;
    if file_name.ends_with(".jsonl.gz") {
        match parse_jsonl_gz(&bytes) {
            Err(e) => inner.violation(format!("{tag}: {e}")),
            Ok(ls) => {
                if ls.is_empty() {
                    inner.violation(format!("{tag}: artifact has no items"));
                }
                if item_type == "external_domain_metadata" && ls.len() != 1 {
                    inner.violation(format!("{tag}: metadata artifact has {} lines, expected 1", ls.len()));
                }
                let mut bad = 0usize;
                for (i, l) in ls.iter().enumerate() {
                    let problems = check_line(&item_type, l);
                    if !problems.is_empty() {
                        bad += 1;
                        if bad <= 5 {
                            inner.violation(format!("{tag}: line {}: {}", i + 1, problems.join("; ")));
                        }
                    }
                }
                if bad > 5 {
                    inner.violation(format!("{tag}: {} more bad lines", bad - 5));
                }
                lines = Some((ls.len(), digest_lines(&item_type, ls)));
            }
        }
    }
    let body = inner.spool.keep(n, bytes);
    if let Ok(mut store) = inner.artifacts.lock() {
        if let Some(a) = store.by_n(n) {
            a.bytes = Some(body);
            a.line_count = lines.as_ref().map(|(count, _)| *count);
            a.lines = lines.map(|(_, digested)| digested);
        }
    }
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn confirm(inner: &Inner, body: &[u8]) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        inner.violation("confirm: body is not JSON");
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let rid = v.get("request_id").and_then(Value::as_str).map(str::to_string);
    check_artifact_request_id(inner, "confirm", rid.as_ref());
    let Some(id) = v.get("artifact_id").and_then(Value::as_str) else {
        inner.violation("confirm: artifact_id missing");
        return error(StatusCode::BAD_REQUEST, "artifact_id required");
    };
    let outcome = {
        let Ok(mut store) = inner.artifacts.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "poisoned");
        };
        match store.by_id(id) {
            None => Err(format!("confirm: unknown artifact {id}")),
            Some(a) if a.bytes.is_none() => Err(format!("confirm: artifact {id} was never uploaded")),
            Some(a) => {
                a.confirmed = true;
                Ok(a.request_id.clone())
            }
        }
    };
    match outcome {
        Err(e) => {
            inner.violation(e.clone());
            error(StatusCode::BAD_REQUEST, &e)
        }
        Ok(art_rid) => {
            if rid.as_deref().is_some_and(|r| r != art_rid) {
                inner.violation(format!("confirm: artifact {id} confirmed under another request_id"));
            }
            json_resp(StatusCode::OK, json!({}))
        }
    }
}

fn download_url(inner: &Inner, query: &HashMap<String, String>) -> Resp {
    let Some(id) = query.get("artifact_id") else {
        inner.violation("download-url: artifact_id missing");
        return error(StatusCode::BAD_REQUEST, "artifact_id required");
    };
    let n = inner.artifacts.lock().ok().and_then(|mut s| s.by_id(id).filter(|a| a.bytes.is_some()).map(|a| a.n));
    match n {
        Some(n) => json_resp(StatusCode::OK, json!({"download_url": format!("{}/download/{n}", inner.base_url)})),
        None => {
            inner.violation(format!("download-url: no uploaded artifact {id}"));
            error(StatusCode::NOT_FOUND, "no such artifact")
        }
    }
}

fn download(inner: &Inner, path: &str) -> Resp {
    let body = path_n(path, "/download/").and_then(|n| {
        inner
            .artifacts
            .lock()
            .ok()
            .and_then(|mut s| s.by_n(n).and_then(|a| Some((a.bytes.clone()?, a.file_type.clone()))))
    });
    let bytes = body.and_then(|(body, file_type)| Some((body.read()?, file_type)));
    match bytes {
        Some((b, file_type)) => {
            let mut r = Response::new(Full::new(Bytes::from(b)));
            let ct = hyper::header::HeaderValue::from_str(&file_type)
                .unwrap_or(hyper::header::HeaderValue::from_static("application/octet-stream"));
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, ct);
            r
        }
        None => error(StatusCode::NOT_FOUND, "no such artifact"),
    }
}

// ---------------------------------------------------------------- IDM

fn snap_ins_get(inner: &Inner, query: &HashMap<String, String>) -> Resp {
    match query.get("id") {
        None => inner.violation("snap-ins.get: id missing"),
        Some(id) if id != SNAP_IN_ID => inner.violation(format!("snap-ins.get: id {id} is not context.snap_in_id")),
        Some(_) => {}
    }
    json_resp(
        StatusCode::OK,
        json!({"snap_in": {
            "imports": [{"name": inner.opts.import_slug}],
            "snap_in_version": {"slug": inner.opts.snap_in_slug}
        }}),
    )
}

fn blueprints_create(inner: &Inner, body: &[u8]) -> Resp {
    if !serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object()) {
        inner.violation("blueprints.create: body is not a JSON object");
        return error(StatusCode::BAD_REQUEST, "body must be a JSON object");
    }
    json_resp(
        StatusCode::OK,
        json!({"recipe_blueprint": {"id": format!("don:integration:dvrv-us-1:devo/sim:recipe_blueprint/{}", uuid::Uuid::new_v4().simple())}}),
    )
}

const MAPPING_KEYS: &[&str] = &["record_type_mappings", "format_version", "devrev_metadata_version"];

fn idm_install(inner: &Inner, body: &[u8]) -> Resp {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        inner.violation("idm.install: body is not JSON");
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let mut problems = Vec::new();
    if v.get("external_system_type").and_then(Value::as_str) != Some("ADaaS") {
        problems.push("external_system_type is not \"ADaaS\"".to_string());
    }
    for (k, want) in [("import_slug", &inner.opts.import_slug), ("snap_in_slug", &inner.opts.snap_in_slug)] {
        match v.get(k).and_then(Value::as_str) {
            None => problems.push(format!("{k} missing")),
            Some(s) if s != want => problems.push(format!("{k} is {s:?}, expected {want:?}")),
            Some(_) => {}
        }
    }
    if !MAPPING_KEYS.iter().any(|k| v.get(*k).is_some()) {
        problems.push("no mapping keys (record_type_mappings, ...) at the top level".to_string());
    }
    if !problems.is_empty() {
        for p in &problems {
            inner.violation(format!("idm.install: {p}"));
        }
        return error(StatusCode::BAD_REQUEST, &problems.join("; "));
    }
    let version = inner.current_version.lock().map(|v| v.clone()).unwrap_or_default();
    if let Ok(mut c) = inner.idm_counts.lock() {
        *c.entry(version).or_insert(0) += 1;
    }
    if let Ok(mut s) = inner.store.lock() {
        s.idm = Some(v);
    }
    json_resp(StatusCode::OK, json!({}))
}
