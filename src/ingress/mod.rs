//! HTTP ingress of `serve`: the public API (handler trait, options, errors, `Ingress`) through
//! which DevRev's snap-in runtime posts AirSync invocations (`/handle/async`, `/handle/sync`).
//!
//! Routes (see `server.rs`):
//! - `POST /handle/async` — a JSON array of events (or one event object); answered at once with
//!   `200 {"accepted": N, "duplicates": D}`; each event then runs on the bounded pool.
//! - `POST /handle/sync` — one event (object, or an array of exactly one); answered
//!   `200 {"status": "done"}` when the handler has returned.
//! - `GET /healthz` (always `ok`), `GET /readyz` (503 while draining), `GET /metrics`
//!   (Prometheus text). These three need no authentication.
//!
//! Protocol answers never travel in these HTTP responses: the handler emits them to the event's
//! `callback_url`.

mod auth;
mod limits;
mod metrics;
mod pool;
mod server;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use metrics::{MetricKind, Metrics};

/// The worker side of the ingress: processes one AirSync event.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Process one AirSync event to completion (the handler emits its own answer to callback_url).
    async fn handle(&self, event: serde_json::Value);
    /// Called on graceful shutdown: in-flight invocations should stop soon and answer PROGRESS.
    fn begin_shutdown(&self) {}
}

/// Options of [`Ingress::bind`]. Construct with `..Default::default()` so new fields do not break
/// callers.
#[derive(Clone)]
pub struct IngressOptions {
    /// Listen address (`serve --listen`).
    pub listen: SocketAddr,
    /// Bearer token required on `/handle/*` (`AIRSYNC_INGRESS_TOKEN`). Surrounding whitespace is
    /// ignored; empty counts as unset.
    pub token: Option<String>,
    /// Serve `/handle/*` without authentication; allowed only with a loopback listen address and
    /// only matters when no token is set.
    pub insecure_no_auth: bool,
    /// Largest accepted request body (default 8 MiB).
    pub max_body_bytes: usize,
    /// Invocations running at once (default 4).
    pub max_concurrency: usize,
    /// Invocations accepted but waiting for a slot (default 64); beyond it `/handle/*` answers
    /// 503 with `Retry-After`.
    pub max_queue: usize,
    /// How long [`Ingress::run`] waits for running and queued invocations after shutdown
    /// (default 60 s).
    pub shutdown_timeout: Duration,
    /// Registry to expose at `/metrics`; pass one to share it with the worker, or leave `None`
    /// for a fresh one (available from [`Ingress::metrics`]).
    pub metrics: Option<Arc<Metrics>>,
}

impl Default for IngressOptions {
    fn default() -> Self {
        IngressOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            insecure_no_auth: false,
            max_body_bytes: 8 * 1024 * 1024,
            max_concurrency: 4,
            max_queue: 64,
            shutdown_timeout: Duration::from_secs(60),
            metrics: None,
        }
    }
}

impl std::fmt::Debug for IngressOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngressOptions")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("insecure_no_auth", &self.insecure_no_auth)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrency", &self.max_concurrency)
            .field("max_queue", &self.max_queue)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish_non_exhaustive()
    }
}

/// Errors of [`Ingress::bind`] and [`Ingress::run`].
#[derive(Debug, thiserror::Error)]
pub enum IngressError {
    /// No token configured and not explicitly insecure on loopback.
    #[error(
        "refusing to serve without authentication: set AIRSYNC_INGRESS_TOKEN \
         (or use --insecure-no-auth with a loopback listen address)"
    )]
    NoToken,
    /// `insecure_no_auth` with a listen address other than loopback.
    #[error("--insecure-no-auth is only allowed with a loopback listen address, not {0}")]
    InsecureNotLoopback(SocketAddr),
    /// Options out of range (zero limits, a token with spaces, ...).
    #[error("invalid ingress options: {0}")]
    InvalidOptions(String),
    /// The listen address could not be bound.
    #[error("cannot listen: {0}")]
    Bind(#[source] std::io::Error),
    /// Shutdown gave up waiting for invocations after `shutdown_timeout`.
    #[error("shutdown timed out with {pending} invocation(s) still running or queued")]
    ShutdownTimedOut {
        /// Invocations that had not finished.
        pending: usize,
    },
}

/// A bound, not yet serving, ingress. See [`Ingress::run`].
pub struct Ingress {
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown_timeout: Duration,
}

impl Ingress {
    /// Validate options and bind; returns once listening (so tests learn the port).
    pub async fn bind(opts: IngressOptions, handler: Arc<dyn EventHandler>) -> Result<Ingress, IngressError> {
        let auth = auth::Auth::from_options(opts.listen, opts.token.as_deref(), opts.insecure_no_auth)?;
        if opts.max_body_bytes == 0 {
            return Err(IngressError::InvalidOptions("max_body_bytes must be at least 1".to_owned()));
        }
        if opts.max_concurrency == 0 {
            return Err(IngressError::InvalidOptions("max_concurrency must be at least 1".to_owned()));
        }
        let listener = tokio::net::TcpListener::bind(opts.listen).await.map_err(IngressError::Bind)?;
        let local_addr = listener.local_addr().map_err(IngressError::Bind)?;
        let metrics = opts.metrics.clone().unwrap_or_default();
        let shared = server::Shared::new(auth, &opts, handler, metrics);
        tracing::info!(
            listen = %local_addr,
            max_body_bytes = opts.max_body_bytes,
            max_concurrency = opts.max_concurrency,
            max_queue = opts.max_queue,
            "ingress listening"
        );
        Ok(Ingress { listener, local_addr, shared, shutdown_timeout: opts.shutdown_timeout })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The registry served at `/metrics`; the worker may add its own series to it.
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.shared.metrics)
    }

    /// Serve until `shutdown` resolves, then stop accepting, call handler.begin_shutdown(), and
    /// wait (bounded by `shutdown_timeout`) for running invocations to finish.
    ///
    /// While draining, the listener stays open so probes keep working: `/readyz` answers 503,
    /// `/healthz` and `/metrics` still answer, and new `/handle/*` invocations are refused with
    /// 503 + `Retry-After` (the platform retries them elsewhere). Invocations already accepted,
    /// queued ones included, still run (the handler, told to shut down, answers them quickly
    /// with PROGRESS). Then the listener is closed and open connections are shut gracefully.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), IngressError> {
        server::run(self.listener, self.shared, shutdown, self.shutdown_timeout).await
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received: shutting down"),
        _ = term => tracing::info!("SIGTERM received: shutting down"),
    }
}
