//! The Graph client's pacing under a throttled tenant, measured where the requests arrive: an instrumented
//! loopback hyper server records every arrival; the bucket bound holds and a decimal `Retry-After` pauses one bucket.

#[path = "common/static_token.rs"]
mod static_token;
use static_token::StaticToken;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use entra_airsync::graph::auth::TokenSource;
use entra_airsync::graph::client::GraphClient;
use entra_airsync::graph::limiter::{Limits, TenantLimiter};
use http_body_util::Full;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Identity bucket of the test: 20 RU per 10 s, so a burst of 20 and then one request every 500 ms.
const IDENTITY_RU: u32 = 20;
const REFILL: Duration = Duration::from_millis(500);
const IDENTITY_WORKERS: usize = 6;
/// The identity request that is answered 429 (after the burst is spent, while workers wait for refills).
const THROTTLED_NTH: usize = IDENTITY_RU as usize + 2;
const RETRY_AFTER: &str = "1.5";
const PAUSE: Duration = Duration::from_millis(1500);
/// Requests that left the client before it read the 429 may still arrive just after it was written.
const IN_FLIGHT_SLACK: Duration = Duration::from_millis(300);
const LATENCY: Duration = Duration::from_millis(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Identity,
    Reports,
}

#[derive(Default)]
struct Log {
    /// (arrival since the server started, bucket)
    arrivals: Vec<(Duration, Kind)>,
    identity_seen: usize,
    throttled_at: Option<Duration>,
    in_flight: usize,
    max_in_flight: usize,
}

struct Server {
    start: Instant,
    log: Mutex<Log>,
}

async fn handle(server: Arc<Server>, req: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let kind = if req.uri().path().starts_with("/v1.0/auditLogs/") { Kind::Reports } else { Kind::Identity };
    let throttle = {
        let mut log = server.log.lock().unwrap();
        log.arrivals.push((server.start.elapsed(), kind));
        if kind == Kind::Identity {
            log.identity_seen += 1;
            log.in_flight += 1;
            log.max_in_flight = log.max_in_flight.max(log.in_flight);
        }
        kind == Kind::Identity && log.identity_seen == THROTTLED_NTH
    };
    let response = if throttle {
        let body = r#"{"error":{"code":"TooManyRequests","message":"Please retry again later."}}"#;
        Response::builder()
            .status(429)
            .header("Retry-After", RETRY_AFTER)
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    } else {
        tokio::time::sleep(LATENCY).await;
        Response::builder()
            .status(200)
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(r#"{"value":[]}"#)))
            .unwrap()
    };
    let mut log = server.log.lock().unwrap();
    if kind == Kind::Identity {
        log.in_flight -= 1;
    }
    if throttle {
        log.throttled_at = Some(server.start.elapsed());
    }
    response
}

async fn start_server() -> (String, Arc<Server>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Arc::new(Server { start: Instant::now(), log: Mutex::new(Log::default()) });
    let shared = server.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let server = shared.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let server = server.clone();
                    async move { Ok::<_, Infallible>(handle(server, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
            });
        }
    });
    (base, server)
}

fn count(arrivals: &[(Duration, Kind)], kind: Kind, from: Duration, to: Duration) -> usize {
    arrivals.iter().filter(|(at, k)| *k == kind && *at >= from && *at < to).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_bucket_pauses_for_a_decimal_retry_after_and_the_other_bucket_keeps_going() {
    let (base, server) = start_server().await;
    let limits = Limits { identity_ru_per_10s: IDENTITY_RU, reports_per_10s: 200, conditional_access_per_s: 1 };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let tokens = TokenSource::from_credential(Arc::new(StaticToken));
    let limiter = Arc::new(TenantLimiter::with_limits(&limits));
    let client = Arc::new(GraphClient::new(http, &base, tokens, limiter, 3, Duration::from_millis(50)).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..=IDENTITY_WORKERS {
        let (client, stop) = (client.clone(), stop.clone());
        // Worker 0 reads the reports bucket, the others the identity bucket (cost 1 RU with `$select`).
        let path = if i == 0 { "/v1.0/auditLogs/directoryAudits?$top=10" } else { "/v1.0/users/delta?$select=id" };
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = client.get_page(path, false).await {
                    failures.push(e.to_string());
                }
            }
            failures
        }));
    }
    // Run until the 429 has been answered and the pause has been over for a while.
    let deadline = Instant::now() + Duration::from_secs(20);
    let throttled_at = loop {
        if let Some(t) = server.log.lock().unwrap().throttled_at {
            break t;
        }
        assert!(Instant::now() < deadline, "the server never got to answer the 429");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    while server.start.elapsed() < throttled_at + PAUSE + Duration::from_millis(1500) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let failures = task.await.unwrap();
        assert!(failures.is_empty(), "a request failed although its retry was honoured: {failures:?}");
    }
    let log = server.log.lock().unwrap();
    let arrivals = &log.arrivals;
    let t = throttled_at;

    // Decimal Retry-After: nothing reaches the paused bucket for 1.5 s, except requests that had already left
    // the client when the 429 was written (at most one per worker).
    let racing = count(arrivals, Kind::Identity, t, t + IN_FLIGHT_SLACK);
    assert!(racing < IDENTITY_WORKERS, "{racing} identity requests arrived right after the 429");
    let during = count(arrivals, Kind::Identity, t + IN_FLIGHT_SLACK, t + PAUSE);
    assert_eq!(during, 0, "identity requests sent during the 1.5 s pause (429 at {t:?}): {arrivals:?}");
    let after = count(arrivals, Kind::Identity, t + PAUSE, t + PAUSE + Duration::from_secs(5));
    assert!(after >= 1, "the identity bucket never resumed after the pause: {arrivals:?}");
    // The reports bucket is not paused by the identity bucket's 429.
    let reports = count(arrivals, Kind::Reports, t + IN_FLIGHT_SLACK, t + PAUSE);
    assert!(reports >= 3, "only {reports} reports requests during the identity pause: {arrivals:?}");

    // The bucket bound: in any stretch of time, no more identity requests than the bucket allows (its burst
    // plus one per refill interval) plus one per worker (a request that held its permit when a pause began).
    let identity: Vec<Duration> = arrivals.iter().filter(|(_, k)| *k == Kind::Identity).map(|(at, _)| *at).collect();
    for (i, first) in identity.iter().enumerate() {
        for (j, last) in identity.iter().enumerate().skip(i) {
            let n = j - i + 1;
            let refills = ((*last - *first).as_millis() / REFILL.as_millis()) as usize + 1;
            let allowed = IDENTITY_RU as usize + refills + IDENTITY_WORKERS;
            assert!(n <= allowed, "{n} identity requests between {first:?} and {last:?} (allowed {allowed})");
        }
    }
    assert!(
        log.max_in_flight <= IDENTITY_RU as usize + IDENTITY_WORKERS,
        "{} identity requests in flight at once",
        log.max_in_flight
    );
    // The run had enough traffic for the bound to mean something: the burst was spent, then paced.
    assert!(identity.len() > IDENTITY_RU as usize + 2, "too few identity requests: {}", identity.len());
}
