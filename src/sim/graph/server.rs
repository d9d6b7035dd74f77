//! HTTPS accept loop (tokio-rustls + hyper 1) and request routing: identity platform, Graph
//! (bearer check, permissions, RU cost, throttling, latency, stats) and the `/_sim/` control API.

use super::control;
use super::errors::{aad_error, forbidden, graph_error, graph_error_with, unauthenticated};
use super::http::{Ctx, Resp};
use super::state::{Bucket, Shared};
use super::token::{token_endpoint, verify};
use super::users::{self, Query, Reply};
use super::SimInfo;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

const MAX_BODY: usize = 1 << 20;

const USER_READ: [&str; 4] = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const ORG_READ: [&str; 4] =
    ["Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];

pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    sh: Arc<Shared>,
    info: Arc<SimInfo>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            a = listener.accept() => a,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let _ = tcp.set_nodelay(true);
        let (acceptor, sh, info, cancel) = (acceptor.clone(), sh.clone(), info.clone(), cancel.clone());
        tokio::spawn(async move {
            let tls = tokio::select! {
                _ = cancel.cancelled() => return,
                t = acceptor.accept(tcp) => t,
            };
            let Ok(tls) = tls else { return };
            let svc = hyper::service::service_fn(move |req| {
                let (sh, info) = (sh.clone(), info.clone());
                async move { super::policies::faults::deliver(handle(sh, info, req).await).await }
            });
            let conn =
                hyper::server::conn::http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(tls), svc);
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = conn => {}
            }
        });
    }
}

async fn handle(sh: Arc<Shared>, info: Arc<SimInfo>, req: Request<Incoming>) -> Resp {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut ctx = Ctx::new(header("client-request-id").as_deref());
    let authorization = header("authorization");
    let host = super::metadata::request_host(header("host").as_deref(), &info.authority_host);
    let eventual = header("consistencylevel").is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let body: Bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return graph_error(
                &ctx,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request_BadRequest",
                "Request body too large or unreadable.",
            )
        }
    };

    if path.starts_with("/_sim/") {
        return control::handle(&sh, &info, &ctx, &method, &path, &body);
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let Some(resp) = super::metadata::route(&sh, &ctx, &method, &segs, query.as_deref(), &host) {
        record(&sh, "GET identity metadata", resp.status().as_u16(), 0, 0);
        return resp;
    }
    if segs.len() == 4 && segs[1] == "oauth2" && segs[2] == "v2.0" && segs[3] == "token" {
        sleep_for(&sh, 0).await;
        let resp = if method == Method::POST {
            token_endpoint(&sh, &ctx, segs[0], authorization.as_deref(), &body)
        } else {
            aad_error(
                &ctx,
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                900561,
                &format!("The endpoint only accepts POST, OPTIONS requests. Received a {method} request."),
            )
        };
        record(&sh, "POST /{tenant}/oauth2/v2.0/token", resp.status().as_u16(), 0, 0);
        return resp;
    }
    if segs.first().is_some_and(|v| *v == "v1.0" || *v == "beta") {
        if let Some(retry_after) = sh.take_throttle() {
            let r = graph_error_with(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "Please retry again later.",
                &[("retry-after", retry_after), ("x-ms-throttle-information", "ResourceUnitLimitExceeded".into())],
            );
            record(&sh, "throttled (fault)", 429, 0, 0);
            return r;
        }
    }
    if let Some(r) = super::directory::batch(&sh, &ctx, &method, &segs, authorization.as_deref(), &body).await {
        return r;
    }
    if segs.first().is_some_and(|v| *v == "v1.0" || *v == "beta") {
        let ver = segs[0];
        let q = Query::parse(query.as_deref());
        let fault = super::policies::faults::draw(&sh);
        if let Some(r) = fault.early(&sh, &ctx) {
            record(&sh, "fault", r.status().as_u16(), 0, 0);
            return r;
        }
        let (auth, rest) = (authorization.as_deref(), &segs[1..]);
        let resp = dispatch(&sh, &mut ctx, &method, ver, rest, &q, auth, &body, eventual).await;
        return fault.apply(resp);
    }
    let resp = graph_error(&ctx, StatusCode::NOT_FOUND, "UnknownError", &format!("No route for {method} {path}"));
    record(&sh, "other", 404, 0, 0);
    resp
}

/// Every Graph route: the policy and report endpoints, then users and the directory. Both the top-level
/// request path and `$batch` sub-requests come through here, so every route works inside a batch.
#[allow(clippy::too_many_arguments)]
pub(super) async fn dispatch(
    sh: &Shared,
    ctx: &mut Ctx,
    method: &Method,
    ver: &str,
    rest: &[&str],
    q: &Query,
    auth: Option<&str>,
    body: &[u8],
    eventual: bool,
) -> Resp {
    // A parameterless function may be called with OData's empty parentheses (`users/delta()`, as the
    // Kiota-generated SDKs send it); Graph treats it as the bare name.
    let rest: Vec<&str> = rest.iter().map(|s| s.strip_suffix("()").filter(|f| !f.is_empty()).unwrap_or(s)).collect();
    let rest = rest.as_slice();
    match super::policies::route(sh, ctx, method, ver, rest, q, auth, body).await {
        Some(r) => r,
        None => graph(sh, ctx, method, ver, rest, q, auth, eventual).await,
    }
}

enum Route<'a> {
    List,
    Delta,
    User(&'a str),
    Organization,
    /// `directory/deletedItems/{cast}`: the cast's bin type, or None (the segment) if not kept.
    Deleted(Option<&'static str>, &'a str),
    Dir(super::directory::Endpoint<'a>),
    Unknown,
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn graph(
    sh: &Shared,
    ctx: &mut Ctx,
    method: &Method,
    ver: &str,
    rest: &[&str],
    q: &Query,
    authorization: Option<&str>,
    eventual: bool,
) -> Resp {
    let route = match rest {
        ["users"] => Route::List,
        ["users", "delta"] | ["users", "microsoft.graph.delta"] => Route::Delta,
        ["users", id] => Route::User(id),
        ["organization"] => Route::Organization,
        ["directory", bin, cast] if bin.eq_ignore_ascii_case("deletedItems") => {
            Route::Deleted(super::recycle::cast_of(cast), cast)
        }
        _ => super::directory::resolve(rest).map_or(Route::Unknown, Route::Dir),
    };
    let label = match route {
        Route::List => format!("GET /{ver}/users"),
        Route::Delta => format!("GET /{ver}/users/delta"),
        Route::User(_) => format!("GET /{ver}/users/{{id}}"),
        Route::Organization => format!("GET /{ver}/organization"),
        Route::Deleted(..) => format!("GET /{ver}/directory/deletedItems/{{cast}}"),
        Route::Dir(ref e) => e.label(ver),
        Route::Unknown => format!("{method} /{ver}/other"),
    };
    let ru = match route {
        Route::List => users::users_ru(sh, q, false),
        Route::Delta => users::users_ru(sh, q, true),
        Route::Dir(ref e) => e.ru(sh, q),
        _ => 1,
    };
    ctx.ru = Some(ru);

    // Authentication.
    let token = authorization.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")));
    let claims = match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Err("Access token is empty."),
        Some(t) => verify(sh, t),
    };
    let claims = match claims {
        Ok(c) => c,
        Err(msg) => {
            let r = unauthenticated(ctx, msg);
            record(sh, &label, 401, 0, 0);
            return r;
        }
    };

    if *method != Method::GET {
        let r = graph_error(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        );
        record(sh, &label, 405, 0, 0);
        return r;
    }
    let needed: Option<&[&str]> = match route {
        Route::List | Route::Delta | Route::User(_) => Some(&USER_READ),
        Route::Organization => Some(&ORG_READ),
        Route::Deleted(cast, _) => cast.map(super::recycle::roles),
        Route::Dir(ref e) => Some(e.roles()),
        Route::Unknown => None,
    };
    if let Some(roles) = needed {
        if !claims.has_any(roles) {
            record(sh, &label, 403, 0, 0);
            return forbidden(ctx);
        }
    }

    // Throttling (RU token bucket per app + tenant).
    let mut limit_pct: Option<f64> = None;
    if sh.opts.throttling {
        let users = sh.tenant.read().map(|t| t.user_count()).unwrap_or(0);
        let key = format!("{}/{}", claims.appid, claims.tid);
        let taken = match sh.throttle.lock() {
            Ok(mut b) => b.entry(key).or_insert_with(|| Bucket::for_tenant(users)).take(ru as f64),
            Err(_) => Ok(0.0),
        };
        match taken {
            Ok(used) => limit_pct = Some(used),
            Err(wait) => {
                let secs = wait.ceil().max(1.0) as u64;
                let r = graph_error_with(
                    ctx,
                    StatusCode::TOO_MANY_REQUESTS,
                    "TooManyRequests",
                    &format!(
                        "Too many requests from Identifier:{}+{} under category:throttle.aad.ags.appId.large. Please try again later.",
                        claims.appid, claims.tid
                    ),
                    &[
                        ("retry-after", secs.to_string()),
                        (
                            "x-ms-throttle-scope",
                            format!("Tenant_Application/ReadWrite/{}/{}", claims.appid, claims.tid),
                        ),
                        ("x-ms-throttle-information", "ResourceUnitLimitExceeded".into()),
                    ],
                );
                record(sh, &label, 429, 0, 0);
                return r;
            }
        }
    }

    let (mut resp, n): Reply = match route {
        Route::List => users::list_users(sh, ctx, ver, q, eventual),
        Route::Delta => users::delta(sh, ctx, ver, q),
        Route::User(id) => users::get_user(sh, ctx, ver, id, q),
        Route::Organization => users::organization(sh, ctx, ver),
        Route::Deleted(Some(cast), _) => super::recycle::list(sh, ctx, ver, cast, q, eventual),
        Route::Deleted(None, segment) => super::recycle::unknown_cast(ctx, segment),
        Route::Dir(ref e) => e.handle(sh, ctx, ver, q, eventual),
        Route::Unknown => (
            graph_error(
                ctx,
                StatusCode::NOT_FOUND,
                "Request_ResourceNotFound",
                &format!("Resource not found for the segment '{}'.", rest.first().unwrap_or(&"")),
            ),
            0,
        ),
    };
    if let Some(p) = limit_pct.filter(|p| *p >= 0.8) {
        if let Ok(v) = HeaderValue::from_str(&format!("{p:.1}")) {
            resp.headers_mut().insert("x-ms-throttle-limit-percentage", v);
        }
    }
    sleep_for(sh, n).await;
    record(sh, &label, resp.status().as_u16(), ru, n);
    resp
}

async fn sleep_for(sh: &Shared, objects: usize) {
    let us = sh.opts.latency_ms.saturating_mul(1000) + sh.opts.per_object_us.saturating_mul(objects as u64);
    if us > 0 {
        tokio::time::sleep(Duration::from_micros(us)).await;
    }
}

fn record(sh: &Shared, route: &str, status: u16, ru: u32, objects: usize) {
    if let Ok(mut s) = sh.stats.lock() {
        s.record(route, status, ru, objects);
    }
}
