//! The hyper 1 server: accept loop, per-connection serving, routing, per-request logging and
//! metrics, and the drain sequence of graceful shutdown.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::auth::Auth;
use super::limits::{self, Rejection};
use super::metrics::{MetricKind, Metrics};
use super::pool::{self, Admitted, Outcome, Pool, Refused};
use super::{EventHandler, IngressError, IngressOptions};

type Body = Full<Bytes>;

const HTTP_REQUESTS: &str = "entra_airsync_http_requests_total";
/// Time allowed for a client to send the request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for a client to send the whole request body.
const BODY_READ_TIMEOUT: Duration = Duration::from_secs(60);
/// After the invocations have drained, how long open connections get to finish their response.
const CONNECTION_DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// `Retry-After` (seconds) on 503.
const RETRY_AFTER_SECS: &str = "5";

/// State shared by every connection.
pub(crate) struct Shared {
    auth: Auth,
    max_body_bytes: usize,
    handler: Arc<dyn EventHandler>,
    pool: Arc<Pool>,
    pub(crate) metrics: Arc<Metrics>,
    draining: AtomicBool,
}

impl Shared {
    pub(crate) fn new(
        auth: Auth,
        opts: &IngressOptions,
        handler: Arc<dyn EventHandler>,
        metrics: Arc<Metrics>,
    ) -> Arc<Shared> {
        describe_metrics(&metrics);
        let pool = Pool::new(Arc::clone(&handler), Arc::clone(&metrics), opts.max_concurrency, opts.max_queue);
        Arc::new(Shared {
            auth,
            max_body_bytes: opts.max_body_bytes,
            handler,
            pool,
            metrics,
            draining: AtomicBool::new(false),
        })
    }
}

fn describe_metrics(m: &Metrics) {
    m.describe(pool::IN_FLIGHT, MetricKind::Gauge, "Invocations currently running.");
    m.describe(pool::QUEUE_DEPTH, MetricKind::Gauge, "Invocations accepted and waiting for a free slot.");
    m.describe(pool::INVOCATIONS, MetricKind::Counter, "Invocations finished, by outcome (completed, panicked).");
    m.describe(
        pool::DUPLICATES,
        MetricKind::Counter,
        "Events not started because an invocation with the same request_id was running or queued.",
    );
    m.describe(
        pool::REFUSED,
        MetricKind::Counter,
        "Events refused for lack of capacity or during shutdown, by reason.",
    );
    m.describe(HTTP_REQUESTS, MetricKind::Counter, "HTTP requests served by the ingress, by route and status.");
    m.set(pool::IN_FLIGHT, &[], 0.0);
    m.set(pool::QUEUE_DEPTH, &[], 0.0);
    m.incr(pool::INVOCATIONS, &[("outcome", "completed")], 0);
    m.incr(pool::DUPLICATES, &[], 0);
}

// ---------------------------------------------------------------------------------------------
// Accept loop and shutdown
// ---------------------------------------------------------------------------------------------

/// Counts live connections so shutdown can wait for them.
#[derive(Clone)]
struct Connections(Arc<watch::Sender<usize>>);

struct ConnectionGuard(Connections);

impl Connections {
    fn new() -> Connections {
        Connections(Arc::new(watch::channel(0).0))
    }
    fn enter(&self) -> ConnectionGuard {
        self.0.send_modify(|n| *n += 1);
        ConnectionGuard(self.clone())
    }
    async fn wait_none(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0 .0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

pub(crate) async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    shutdown_timeout: Duration,
) -> Result<(), IngressError> {
    let connections = Connections::new();
    let closing = CancellationToken::new();
    tokio::pin!(shutdown);

    // Serving.
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                on_accept(accepted, &shared, &connections, &closing).await;
            }
        }
    }

    // Draining: refuse new invocations, let accepted ones (running and queued) finish.
    tracing::info!(
        pending = shared.pool.pending(),
        timeout_secs = shutdown_timeout.as_secs(),
        "shutdown requested: draining invocations"
    );
    shared.draining.store(true, Ordering::SeqCst);
    shared.pool.close();
    shared.handler.begin_shutdown();
    let deadline = tokio::time::Instant::now() + shutdown_timeout;
    let idle = shared.pool.wait_idle();
    tokio::pin!(idle);
    let result = loop {
        tokio::select! {
            biased;
            _ = &mut idle => break Ok(()),
            _ = tokio::time::sleep_until(deadline) => {
                let pending = shared.pool.pending();
                tracing::error!(pending, "shutdown timed out waiting for invocations");
                break Err(IngressError::ShutdownTimedOut { pending });
            }
            accepted = listener.accept() => {
                on_accept(accepted, &shared, &connections, &closing).await;
            }
        }
    };

    // Closing: no new connections; open ones finish their current response and close.
    drop(listener);
    closing.cancel();
    if tokio::time::timeout(CONNECTION_DRAIN_TIMEOUT, connections.wait_none()).await.is_err() {
        tracing::warn!("some connections did not close in time");
    }
    tracing::info!("ingress stopped");
    result
}

async fn on_accept(
    accepted: std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)>,
    shared: &Arc<Shared>,
    connections: &Connections,
    closing: &CancellationToken,
) {
    match accepted {
        Ok((stream, peer)) => {
            let _ = stream.set_nodelay(true);
            let guard = connections.enter();
            let shared = Arc::clone(shared);
            let closing = closing.clone();
            tokio::spawn(async move {
                serve_connection(stream, peer, shared, closing).await;
                drop(guard);
            });
        }
        Err(e) => {
            // Typically EMFILE/ENFILE: back off briefly instead of spinning.
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    shared: Arc<Shared>,
    closing: CancellationToken,
) {
    let service = service_fn(move |req| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(respond(&shared, req).await) }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = closing.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    HandleAsync,
    HandleSync,
    Healthz,
    Readyz,
    Metrics,
    Other,
}

impl Route {
    fn of(path: &str) -> Route {
        match path {
            "/handle/async" => Route::HandleAsync,
            "/handle/sync" => Route::HandleSync,
            "/healthz" => Route::Healthz,
            "/readyz" => Route::Readyz,
            "/metrics" => Route::Metrics,
            _ => Route::Other,
        }
    }

    /// Bounded label set (never the raw path) for logs and metrics.
    fn label(self) -> &'static str {
        match self {
            Route::HandleAsync => "/handle/async",
            Route::HandleSync => "/handle/sync",
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::Metrics => "/metrics",
            Route::Other => "other",
        }
    }
}

/// Logs a request whose response future was dropped (client went away during `/handle/sync`).
struct RequestLog {
    method: Method,
    route: Route,
    started: Instant,
    finished: bool,
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(
                method = %self.method,
                route = self.route.label(),
                duration_ms = self.started.elapsed().as_millis() as u64,
                "client closed the connection before the response; the invocation continues"
            );
        }
    }
}

async fn respond(shared: &Shared, req: Request<Incoming>) -> Response<Body> {
    let mut log = RequestLog {
        method: req.method().clone(),
        route: Route::of(req.uri().path()),
        started: Instant::now(),
        finished: false,
    };
    let route = log.route;
    let response = route_request(shared, route, req).await;
    log.finished = true;
    let status = response.status();
    shared.metrics.incr(HTTP_REQUESTS, &[("route", route.label()), ("status", status.as_str())], 1);
    tracing::info!(
        method = %log.method,
        route = route.label(),
        status = status.as_u16(),
        duration_ms = log.started.elapsed().as_millis() as u64,
        "http request"
    );
    response
}

async fn route_request(shared: &Shared, route: Route, req: Request<Incoming>) -> Response<Body> {
    let method = req.method();
    let is_get = method == Method::GET || method == Method::HEAD;
    match route {
        Route::HandleAsync | Route::HandleSync if method != Method::POST => method_not_allowed("POST"),
        Route::HandleAsync => handle_events(shared, req, Mode::Async).await,
        Route::HandleSync => handle_events(shared, req, Mode::Sync).await,
        Route::Healthz | Route::Readyz | Route::Metrics if !is_get => method_not_allowed("GET, HEAD"),
        Route::Healthz => text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
        Route::Readyz => {
            if shared.draining.load(Ordering::SeqCst) {
                text(StatusCode::SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", "shutting down\n".into())
            } else {
                text(StatusCode::OK, "text/plain; charset=utf-8", "ready\n".into())
            }
        }
        Route::Metrics => text(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", shared.metrics.render()),
        Route::Other => error_json(StatusCode::NOT_FOUND, "not_found", "no such route"),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Async,
    Sync,
}

async fn handle_events(shared: &Shared, req: Request<Incoming>, mode: Mode) -> Response<Body> {
    // Authentication first, before looking at (or reading) the body.
    if !shared.auth.check(req.headers()) {
        let mut r = error_json(StatusCode::UNAUTHORIZED, "unauthorized", "missing or invalid bearer token");
        r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    if shared.draining.load(Ordering::SeqCst) {
        return shutting_down();
    }
    if let Err(r) = limits::check_content_type(req.headers()) {
        return rejection(r);
    }
    if let Err(r) = limits::check_declared_length(req.headers(), shared.max_body_bytes) {
        let mut resp = rejection(r);
        // The body was not read, so the connection cannot be reused.
        resp.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
        return resp;
    }
    let body = match limits::read_body(req.into_body(), shared.max_body_bytes, BODY_READ_TIMEOUT).await {
        Ok(b) => b,
        Err(r) => {
            let mut resp = rejection(r);
            resp.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    let events = match limits::parse_events(&body) {
        Ok(e) => e,
        Err(r) => return rejection(r),
    };
    drop(body);

    match mode {
        Mode::Async => {
            let total = events.len();
            match shared.pool.submit(events) {
                Ok(admitted) => {
                    let duplicates = admitted.iter().filter(|a| matches!(a, Admitted::Duplicate(_))).count();
                    json_response(StatusCode::OK, &json!({ "accepted": total, "duplicates": duplicates }))
                }
                Err(refused) => refused_response(refused),
            }
        }
        Mode::Sync => {
            if events.len() != 1 {
                return error_json(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    &format!("/handle/sync takes exactly one event, got {}", events.len()),
                );
            }
            let admitted = match shared.pool.submit(events) {
                Ok(mut a) => a.pop(),
                Err(refused) => return refused_response(refused),
            };
            let (completion, duplicate) = match admitted {
                Some(Admitted::Started(c)) => (c, false),
                Some(Admitted::Duplicate(c)) => (c, true),
                None => return error_json(StatusCode::INTERNAL_SERVER_ERROR, "internal", "event was not admitted"),
            };
            match completion.wait().await {
                Outcome::Completed if duplicate => {
                    json_response(StatusCode::OK, &json!({ "status": "done", "duplicate": true }))
                }
                Outcome::Completed => json_response(StatusCode::OK, &json!({ "status": "done" })),
                Outcome::Panicked => json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({ "status": "failed", "error": "the event handler failed unexpectedly" }),
                ),
            }
        }
    }
}

fn refused_response(refused: Refused) -> Response<Body> {
    match refused {
        Refused::Busy => {
            let mut r = error_json(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many invocations running or queued; retry later",
            );
            r.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
            r
        }
        Refused::ShuttingDown => shutting_down(),
        Refused::TooManyEvents { capacity } => error_json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            &format!("the batch has more events than this worker can hold ({capacity})"),
        ),
    }
}

fn shutting_down() -> Response<Body> {
    let mut r = error_json(
        StatusCode::SERVICE_UNAVAILABLE,
        "shutting_down",
        "the worker is shutting down; retry on another instance",
    );
    r.headers_mut().insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    r
}

// ---------------------------------------------------------------------------------------------
// Response helpers
// ---------------------------------------------------------------------------------------------

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut body = value.to_string();
    body.push('\n');
    text(status, "application/json", body)
}

fn error_json(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    json_response(status, &json!({ "error": code, "message": message }))
}

fn rejection(r: Rejection) -> Response<Body> {
    let code = match r.status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        _ => "bad_request",
    };
    error_json(r.status, code, &r.message)
}

fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut r = error_json(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", &format!("allowed: {allow}"));
    r.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
    r
}
