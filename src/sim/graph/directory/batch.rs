//! `POST /v1.0|beta/$batch`: up to 20 sub-requests, each dispatched through the server's Graph router
//! (own RU charge, throttling, status, headers, body), `dependsOn` → 424, responses in seeded shuffled order.

use crate::sim::graph::errors::{graph_error, unauthenticated};
use crate::sim::graph::gen::Mix;
use crate::sim::graph::http::{json_response, Ctx, Resp};
use crate::sim::graph::server;
use crate::sim::graph::state::Shared;
use crate::sim::graph::token::verify;
use crate::sim::graph::users::Query;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

pub const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: String,
    url: String,
    headers: Map<String, Value>,
    depends_on: Vec<usize>,
}

struct Answer {
    status: u16,
    headers: Map<String, Value>,
    body: Value,
    ru: u32,
}

fn bad(ctx: &Ctx, msg: &str) -> Resp {
    graph_error(ctx, StatusCode::BAD_REQUEST, "BadRequest", msg)
}

/// Graph's spelling of the headers a sub-response carries.
fn header_name(n: &str) -> String {
    match n {
        "content-type" => "Content-Type".into(),
        "cache-control" => "Cache-Control".into(),
        "retry-after" => "Retry-After".into(),
        "odata-version" => "OData-Version".into(),
        "location" => "Location".into(),
        other => other.to_string(),
    }
}

fn parse(body: &[u8]) -> Result<Vec<Item>, String> {
    let invalid = || "Invalid batch payload format.".to_string();
    let v: Value = serde_json::from_slice(body).map_err(|_| invalid())?;
    let reqs = v.get("requests").and_then(Value::as_array).ok_or_else(invalid)?;
    if reqs.is_empty() {
        return Err("Invalid batch payload format. The batch contains no requests.".into());
    }
    if reqs.len() > MAX_REQUESTS {
        let msg = format!(
            "Invalid batch payload format. A batch can contain at most {MAX_REQUESTS} requests; got {}.",
            reqs.len()
        );
        return Err(msg);
    }
    let mut items = Vec::with_capacity(reqs.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, r) in reqs.iter().enumerate() {
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(id), Some(method), Some(url)) = (s("id"), s("method"), s("url")) else {
            return Err("Invalid batch payload format. Every request needs a string id, method and url.".into());
        };
        if index.insert(id.to_lowercase(), i).is_some() {
            return Err(format!("Batch request contains duplicate request id '{id}'."));
        }
        let headers = r.get("headers").and_then(Value::as_object).cloned().unwrap_or_default();
        items.push((Item { id, method, url, headers, depends_on: Vec::new() }, r.get("dependsOn").cloned()));
    }
    let mut out = Vec::with_capacity(items.len());
    for (mut item, deps) in items {
        for d in deps.as_ref().and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            match d.as_str().and_then(|d| index.get(&d.to_lowercase())) {
                Some(&j) => item.depends_on.push(j),
                None => {
                    return Err(format!("Request '{}' depends on an unknown request id: {d}.", item.id));
                }
            }
        }
        out.push(item);
    }
    Ok(out)
}

async fn answer_of(resp: Resp, ru: u32) -> Answer {
    let status = resp.status().as_u16();
    let mut headers = Map::new();
    for (k, v) in resp.headers() {
        if let Ok(v) = v.to_str() {
            headers.insert(header_name(k.as_str()), json!(v));
        }
    }
    let bytes = resp.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Answer { status, headers, body, ru }
}

/// One sub-request through the server's Graph router.
async fn run(sh: &Shared, ver: &str, item: &Item, authorization: Option<&str>) -> Answer {
    let header =
        |name: &str| item.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str());
    let mut ctx = Ctx::new(header("client-request-id"));
    let eventual = header("consistencylevel").is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    if item.url.contains("://") {
        let r = graph_error(&ctx, StatusCode::BAD_REQUEST, "BadRequest", "Batch request URLs must be relative.");
        return answer_of(r, 0).await;
    }
    let Ok(method) = Method::from_bytes(item.method.to_ascii_uppercase().as_bytes()) else {
        return answer_of(graph_error(&ctx, StatusCode::BAD_REQUEST, "BadRequest", "Invalid method."), 0).await;
    };
    let (path, query) = item.url.split_once('?').map_or((item.url.as_str(), None), |(p, q)| (p, Some(q)));
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let q = Query::parse(query);
    let resp = server::dispatch(sh, &mut ctx, &method, ver, &segs, &q, authorization, &[], eventual).await;
    let ru = ctx.ru.unwrap_or(0);
    answer_of(resp, ru).await
}

/// Handle `POST /{ver}/$batch`; `None` when the path is not a batch.
pub async fn batch(
    sh: &Shared,
    ctx: &Ctx,
    method: &Method,
    segs: &[&str],
    authorization: Option<&str>,
    body: &[u8],
) -> Option<Resp> {
    let ver = match segs {
        [v @ ("v1.0" | "beta"), b] if b.eq_ignore_ascii_case("$batch") || b.eq_ignore_ascii_case("%24batch") => *v,
        _ => return None,
    };
    let label = format!("POST /{ver}/$batch");
    let resp = envelope(sh, ctx, method, ver, authorization, body).await;
    if let Ok(mut s) = sh.stats.lock() {
        s.record(&label, resp.status().as_u16(), 0, 0);
    }
    Some(resp)
}

async fn envelope(
    sh: &Shared,
    ctx: &Ctx,
    method: &Method,
    ver: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> Resp {
    let token = authorization.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")));
    let claims = match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Err("Access token is empty."),
        Some(t) => verify(sh, t),
    };
    if let Err(msg) = claims {
        return unauthenticated(ctx, msg);
    }
    if *method != Method::POST {
        let msg = "Specified HTTP method is not allowed for the request target.";
        return graph_error(ctx, StatusCode::METHOD_NOT_ALLOWED, "Request_BadRequest", msg);
    }
    let items = match parse(body) {
        Ok(i) => i,
        Err(msg) => return bad(ctx, &msg),
    };
    let mut answers: Vec<Option<Answer>> = items.iter().map(|_| None).collect();
    while answers.iter().any(Option::is_none) {
        let ready: Vec<usize> = (0..items.len())
            .filter(|&i| answers[i].is_none() && items[i].depends_on.iter().all(|&j| answers[j].is_some()))
            .collect();
        if ready.is_empty() {
            // A dependency cycle: nothing can run.
            for a in answers.iter_mut().filter(|a| a.is_none()) {
                let r = graph_error(ctx, StatusCode::FAILED_DEPENDENCY, "FailedDependency", "Circular dependsOn.");
                *a = Some(answer_of(r, 0).await);
            }
            break;
        }
        let runs = ready.iter().map(|&i| {
            let failed = items[i]
                .depends_on
                .iter()
                .find(|&&j| answers[j].as_ref().is_some_and(|a| !(200..300).contains(&a.status)))
                .map(|&j| items[j].id.clone());
            let item = &items[i];
            async move {
                match failed {
                    Some(dep) => {
                        let sub = Ctx::new(None);
                        let msg = format!("The request depends on request '{dep}', which failed.");
                        answer_of(graph_error(&sub, StatusCode::FAILED_DEPENDENCY, "FailedDependency", &msg), 0).await
                    }
                    None => run(sh, ver, item, authorization).await,
                }
            }
        });
        let done = futures::future::join_all(runs).await;
        for (i, a) in ready.into_iter().zip(done) {
            answers[i] = Some(a);
        }
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    items.iter().for_each(|i| i.id.hash(&mut h));
    let mut r = Mix::new(sh.opts.seed, h.finish());
    for i in (1..order.len()).rev() {
        order.swap(i, r.below(i as u64 + 1) as usize);
    }
    let mut total_ru = 0;
    let responses: Vec<Value> = order
        .into_iter()
        .filter_map(|i| {
            let a = answers[i].take()?;
            if !matches!(a.status, 401 | 403 | 405 | 429) {
                total_ru += a.ru;
            }
            Some(json!({"id": items[i].id, "status": a.status, "headers": a.headers, "body": a.body}))
        })
        .collect();
    let mut ctx = ctx.clone();
    ctx.ru = Some(total_ru);
    json_response(&ctx, StatusCode::OK, &json!({"responses": responses}), true, &[])
}
