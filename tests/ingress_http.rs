//! Black-box tests of the `serve` HTTP ingress over real loopback HTTP (reqwest and raw TCP),
//! with a recording `EventHandler` whose invocations can be held open with a semaphore.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_airsync::ingress::{EventHandler, Ingress, IngressError, IngressOptions, Metrics};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot, Notify, Semaphore};
use tokio::task::JoinHandle;

const TOKEN: &str = "test-token-0123456789";
/// Generous upper bound for anything that should happen "soon".
const SOON: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// Test handler
// ------------------------------------------------------------------------------------------

struct Recorder {
    /// When set, each invocation takes (and consumes) one permit before returning.
    gate: Option<Arc<Semaphore>>,
    started_tx: mpsc::UnboundedSender<Value>,
    finished_tx: mpsc::UnboundedSender<Value>,
    calls: Mutex<Vec<Value>>,
    current: AtomicUsize,
    max_seen: AtomicUsize,
    shutdown_called: AtomicBool,
    shutdown_notify: Notify,
    panic_on: Option<String>,
}

struct Probe {
    rec: Arc<Recorder>,
    started: mpsc::UnboundedReceiver<Value>,
    finished: mpsc::UnboundedReceiver<Value>,
}

impl Recorder {
    fn probe(gate: Option<Arc<Semaphore>>) -> Probe {
        Recorder::with_panic(gate, None)
    }

    fn with_panic(gate: Option<Arc<Semaphore>>, panic_on: Option<&str>) -> Probe {
        let (started_tx, started) = mpsc::unbounded_channel();
        let (finished_tx, finished) = mpsc::unbounded_channel();
        let rec = Arc::new(Recorder {
            gate,
            started_tx,
            finished_tx,
            calls: Mutex::new(Vec::new()),
            current: AtomicUsize::new(0),
            max_seen: AtomicUsize::new(0),
            shutdown_called: AtomicBool::new(false),
            shutdown_notify: Notify::new(),
            panic_on: panic_on.map(str::to_owned),
        });
        Probe { rec, started, finished }
    }

    fn calls(&self) -> Vec<Value> {
        self.calls.lock().expect("lock").clone()
    }
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    async fn handle(&self, event: Value) {
        let now = self.current.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_seen.fetch_max(now, Ordering::SeqCst);
        self.calls.lock().expect("lock").push(event.clone());
        let _ = self.started_tx.send(event.clone());
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate").forget();
        }
        self.current.fetch_sub(1, Ordering::SeqCst);
        let _ = self.finished_tx.send(event.clone());
        if self.panic_on.is_some() && event.get("name").and_then(Value::as_str) == self.panic_on.as_deref() {
            panic!("test handler panics on purpose");
        }
    }

    fn begin_shutdown(&self) {
        self.shutdown_called.store(true, Ordering::SeqCst);
        self.shutdown_notify.notify_one();
    }
}

impl Probe {
    async fn next_started(&mut self) -> Value {
        tokio::time::timeout(SOON, self.started.recv())
            .await
            .expect("an invocation should start")
            .expect("channel open")
    }
    async fn next_finished(&mut self) -> Value {
        tokio::time::timeout(SOON, self.finished.recv())
            .await
            .expect("an invocation should finish")
            .expect("channel open")
    }
}

// ------------------------------------------------------------------------------------------
// Server harness
// ------------------------------------------------------------------------------------------

struct Server {
    base: String,
    addr: std::net::SocketAddr,
    metrics: Arc<Metrics>,
    stop: Option<oneshot::Sender<()>>,
    run: JoinHandle<Result<(), IngressError>>,
}

fn opts() -> IngressOptions {
    IngressOptions { listen: "127.0.0.1:0".parse().expect("addr"), token: Some(TOKEN.to_owned()), ..Default::default() }
}

async fn start(opts: IngressOptions, handler: Arc<Recorder>) -> Server {
    let ingress = Ingress::bind(opts, handler).await.expect("bind");
    let addr = ingress.local_addr();
    let metrics = ingress.metrics();
    let (stop, stopped) = oneshot::channel::<()>();
    let run = tokio::spawn(ingress.run(async move {
        let _ = stopped.await;
    }));
    Server { base: format!("http://{addr}"), addr, metrics, stop: Some(stop), run }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("client")
}

fn event(name: &str, request_id: Option<&str>) -> Value {
    let mut ev = json!({
        "name": name,
        "context": {"secrets": {"service_account_token": "sat"}},
        "execution_metadata": {"function_name": "extraction"},
        "payload": {"event_type": "START_EXTRACTING_DATA", "event_context": {"callback_url": "http://cb"}},
    });
    if let Some(id) = request_id {
        ev["payload"]["event_context"]["request_id"] = json!(id);
    }
    ev
}

async fn post(c: &reqwest::Client, url: &str, body: &Value) -> reqwest::Response {
    c.post(url).bearer_auth(TOKEN).json(body).send().await.expect("request")
}

/// A raw HTTP/1.1 exchange: writes `head` (and `body`), returns (status, raw response text).
/// Fails if the server does not answer (and close) within `SOON`.
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    tokio::time::timeout(SOON, stream.read_to_end(&mut buf))
        .await
        .expect("server should answer and close without waiting for the body")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Wait until a series of the registry reaches `want` (polling, bounded by `SOON`).
async fn wait_metric(metrics: &Metrics, name: &str, labels: &[(&str, &str)], want: f64) {
    let deadline = tokio::time::Instant::now() + SOON;
    while metrics.get(name, labels) != Some(want) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}{labels:?} never reached {want}: {:?}",
            metrics.get(name, labels)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn metric_value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auth_is_required_and_checked() {
    let probe = Recorder::probe(None);
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    for path in ["/handle/async", "/handle/sync"] {
        let r = c.post(server.url(path)).json(&event("a", None)).send().await.expect("req");
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));
        let body: Value = r.json().await.expect("json error body");
        assert_eq!(body["error"], "unauthorized");

        let r = c.post(server.url(path)).bearer_auth("wrong-token").json(&event("a", None)).send().await.expect("req");
        assert_eq!(r.status(), 401);
        let r = c
            .post(server.url(path))
            .header("authorization", format!("Basic {TOKEN}"))
            .json(&event("a", None))
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 401);
    }
    // Refused before the body is read: declared 1000 bytes, none sent.
    let (status, text) = raw(
        server.addr,
        b"POST /handle/async HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 401, "{text}");
    assert!(!text.contains(TOKEN));
    assert!(probe.rec.calls().is_empty(), "handler must not be called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn body_limit_is_enforced() {
    let probe = Recorder::probe(None);
    let server = start(IngressOptions { max_body_bytes: 64, ..opts() }, probe.rec.clone()).await;

    // Declared length above the limit: 413 at once, without waiting for the body.
    let head = format!(
        "POST /handle/async HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
    );
    let (status, text) = raw(server.addr, head.as_bytes()).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("payload_too_large"), "{text}");

    // Chunked (no declared length): enforced while reading.
    let chunk = format!("{{\"pad\":\"{}\"}}", "x".repeat(100));
    let req = format!(
        "POST /handle/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n",
        chunk.len()
    );
    let (status, text) = raw(server.addr, req.as_bytes()).await;
    assert_eq!(status, 413, "{text}");

    // Through a normal client, too.
    let big = json!([{ "pad": "y".repeat(200) }]);
    let r = post(&client(), &server.url("/handle/async"), &big).await;
    assert_eq!(r.status(), 413);

    // At the limit is fine.
    let small = json!({ "pad": "z".repeat(40) });
    let r = post(&client(), &server.url("/handle/async"), &small).await;
    assert_eq!(r.status(), 200);
    let mut probe = probe;
    probe.next_finished().await;
    assert_eq!(probe.rec.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn content_type_and_json_are_validated() {
    let probe = Recorder::probe(None);
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    let url = server.url("/handle/async");

    let r = c.post(&url).bearer_auth(TOKEN).header("content-type", "text/plain").body("{}").send().await.expect("req");
    assert_eq!(r.status(), 415);
    let r = c.post(&url).bearer_auth(TOKEN).body("{}").send().await.expect("req");
    assert_eq!(r.status(), 415, "missing content type");

    for (body, needle) in
        [("{not json", "not valid JSON"), ("42", "a number"), ("[{}, \"x\"]", "element 1"), ("null", "null")]
    {
        let r = c
            .post(&url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .expect("req");
        assert_eq!(r.status(), 400, "{body}");
        let err: Value = r.json().await.expect("json");
        let msg = err["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{body}: {msg}");
    }

    // /handle/sync takes exactly one event.
    let r = post(&c, &server.url("/handle/sync"), &json!([event("a", None), event("b", None)])).await;
    assert_eq!(r.status(), 400);

    // Wrong method and unknown route.
    let r = c.get(&url).send().await.expect("req");
    assert_eq!(r.status(), 405);
    let r = c.get(server.url("/nope")).send().await.expect("req");
    assert_eq!(r.status(), 404);

    assert!(probe.rec.calls().is_empty(), "handler must not be called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn async_accepts_an_array_and_runs_every_event() {
    let mut probe = Recorder::probe(None);
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    let batch = json!([event("a", Some("r-a")), event("b", Some("r-b")), event("c", None)]);
    let r = post(&c, &server.url("/handle/async"), &batch).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["accepted"], 3);
    assert_eq!(body["duplicates"], 0);

    // A single object is accepted too.
    let r = post(&c, &server.url("/handle/async"), &event("d", None)).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["accepted"], 1);

    let mut names = Vec::new();
    for _ in 0..4 {
        let ev = probe.next_finished().await;
        names.push(ev["name"].as_str().unwrap_or_default().to_owned());
    }
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d"]);
    // Events reach the handler unchanged.
    let calls = probe.rec.calls();
    assert!(calls.contains(&event("a", Some("r-a"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sync_answers_when_the_handler_is_done() {
    let gate = Arc::new(Semaphore::new(0));
    let mut probe = Recorder::probe(Some(gate.clone()));
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    let url = server.url("/handle/sync");
    // An array with one element is accepted as well as an object.
    let req = tokio::spawn(async move { post(&c, &url, &json!([event("s", Some("r-s"))])).await });

    probe.next_started().await;
    assert!(!req.is_finished(), "the sync answer must wait for the handler");
    gate.add_permits(1);
    let r = tokio::time::timeout(SOON, req).await.expect("answer after completion").expect("task");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"status": "done"}));
    assert_eq!(probe.rec.calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn probes_and_metrics() {
    let mut probe = Recorder::probe(None);
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();

    let r = c.get(server.url("/healthz")).send().await.expect("req");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("text").trim(), "ok");
    let r = c.get(server.url("/readyz")).send().await.expect("req");
    assert_eq!(r.status(), 200);

    let r = post(&c, &server.url("/handle/async"), &json!([event("m", None)])).await;
    assert_eq!(r.status(), 200);
    probe.next_finished().await;
    // The invocation counter is bumped just after the handler returns; wait for it.
    wait_metric(&server.metrics, "entra_airsync_invocations_total", &[("outcome", "completed")], 1.0).await;

    // Other modules can add their own series to the same registry.
    server.metrics.incr("entra_airsync_records_total", &[("record_type", "users")], 7);

    let r = c.get(server.url("/metrics")).send().await.expect("req");
    assert_eq!(r.status(), 200);
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(ct.starts_with("text/plain"), "{ct}");
    let text = r.text().await.expect("text");
    for needle in [
        "# TYPE entra_airsync_invocations_in_flight gauge",
        "# TYPE entra_airsync_invocations_total counter",
        "# TYPE entra_airsync_http_requests_total counter",
        "# TYPE entra_airsync_queue_depth gauge",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert_eq!(metric_value(&text, "entra_airsync_invocations_total{outcome=\"completed\"}"), Some(1.0), "{text}");
    assert_eq!(metric_value(&text, "entra_airsync_invocations_in_flight"), Some(0.0));
    assert_eq!(metric_value(&text, "entra_airsync_queue_depth"), Some(0.0));
    assert_eq!(
        metric_value(&text, "entra_airsync_http_requests_total{route=\"/handle/async\",status=\"200\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(metric_value(&text, "entra_airsync_http_requests_total{route=\"/healthz\",status=\"200\"}"), Some(1.0));
    assert_eq!(metric_value(&text, "entra_airsync_records_total{record_type=\"users\"}"), Some(7.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrency_is_bounded_and_the_queue_is_finite() {
    let gate = Arc::new(Semaphore::new(0));
    let mut probe = Recorder::probe(Some(gate.clone()));
    let server = start(IngressOptions { max_concurrency: 2, max_queue: 3, ..opts() }, probe.rec.clone()).await;
    let c = client();
    let batch: Vec<Value> = (0..5).map(|i| event(&format!("e{i}"), None)).collect();
    let r = post(&c, &server.url("/handle/async"), &json!(batch)).await;
    assert_eq!(r.status(), 200);

    probe.next_started().await;
    probe.next_started().await;
    // Two running, three waiting: the pool is full.
    let text = c.get(server.url("/metrics")).send().await.expect("req").text().await.expect("text");
    assert_eq!(metric_value(&text, "entra_airsync_invocations_in_flight"), Some(2.0), "{text}");
    assert_eq!(metric_value(&text, "entra_airsync_queue_depth"), Some(3.0), "{text}");
    let r = post(&c, &server.url("/handle/async"), &json!([event("x", None)])).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    let r = post(&c, &server.url("/handle/sync"), &event("y", None)).await;
    assert_eq!(r.status(), 503);
    // A batch that can never fit is refused with a clear error, not "retry later".
    let huge: Vec<Value> = (0..6).map(|i| event(&format!("h{i}"), None)).collect();
    let r = post(&c, &server.url("/handle/async"), &json!(huge)).await;
    assert_eq!(r.status(), 413);

    // Release one at a time: never more than two at once.
    for _ in 0..5 {
        gate.add_permits(1);
        probe.next_finished().await;
        assert!(probe.rec.max_seen.load(Ordering::SeqCst) <= 2);
    }
    assert_eq!(probe.rec.max_seen.load(Ordering::SeqCst), 2);
    assert_eq!(probe.rec.calls().len(), 5, "refused events must not run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicate_request_id_is_not_run_twice_concurrently() {
    let gate = Arc::new(Semaphore::new(0));
    let mut probe = Recorder::probe(Some(gate.clone()));
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    let url = server.url("/handle/async");

    let r = post(&c, &url, &json!([event("first", Some("req-1"))])).await;
    assert_eq!(r.status(), 200);
    probe.next_started().await;

    // Same request id while running: accepted, not started.
    let r = post(&c, &url, &json!([event("again", Some("req-1"))])).await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"accepted": 1, "duplicates": 1}));
    // Also via execution_metadata.request_id, and twice within one batch.
    let mut via_meta = event("meta", None);
    via_meta["execution_metadata"]["request_id"] = json!("req-2");
    let r = post(&c, &url, &json!([via_meta.clone(), via_meta])).await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"accepted": 2, "duplicates": 1}));
    // A sync duplicate waits for the original and says so.
    let c2 = c.clone();
    let sync_url = server.url("/handle/sync");
    let dup_sync = tokio::spawn(async move { post(&c2, &sync_url, &event("sync-dup", Some("req-1"))).await });

    probe.next_started().await; // req-2
                                // Release only once the sync duplicate has been admitted as a duplicate.
    wait_metric(&server.metrics, "entra_airsync_duplicate_events_total", &[], 3.0).await;
    gate.add_permits(2);
    probe.next_finished().await;
    probe.next_finished().await;
    let r = tokio::time::timeout(SOON, dup_sync).await.expect("sync duplicate answers").expect("task");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"status": "done", "duplicate": true}));

    let names: Vec<String> =
        probe.rec.calls().iter().map(|e| e["name"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"first".to_owned()) && names.contains(&"meta".to_owned()));

    // Once finished, the same id may run again (dedup is only against running/queued work).
    gate.add_permits(1);
    let r = post(&c, &server.url("/handle/sync"), &event("later", Some("req-1"))).await;
    let body: Value = r.json().await.expect("json");
    assert_eq!(body, json!({"status": "done"}));
    assert_eq!(probe.rec.calls().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn graceful_shutdown_drains_in_flight_work() {
    let gate = Arc::new(Semaphore::new(0));
    let mut probe = Recorder::probe(Some(gate.clone()));
    let mut server = start(IngressOptions { max_concurrency: 1, ..opts() }, probe.rec.clone()).await;
    let c = client();
    let url = server.url("/handle/sync");
    let c2 = c.clone();
    let in_flight = tokio::spawn(async move { post(&c2, &url, &event("long", Some("r-long"))).await });
    probe.next_started().await;
    // One more accepted but queued behind it: it must still run (nothing is lost).
    let r = post(&c, &server.url("/handle/async"), &event("queued", None)).await;
    assert_eq!(r.status(), 200);

    server.shutdown();
    tokio::time::timeout(SOON, probe.rec.shutdown_notify.notified()).await.expect("begin_shutdown is called");
    assert!(probe.rec.shutdown_called.load(Ordering::SeqCst));

    // Draining: not ready, still alive, new invocations refused, run() still waiting.
    let r = c.get(server.url("/readyz")).send().await.expect("req");
    assert_eq!(r.status(), 503);
    let r = c.get(server.url("/healthz")).send().await.expect("req");
    assert_eq!(r.status(), 200);
    let r = post(&c, &server.url("/handle/async"), &event("late", None)).await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().get("retry-after").is_some());
    assert!(!server.run.is_finished());
    assert!(!in_flight.is_finished());

    gate.add_permits(2);
    let r = tokio::time::timeout(SOON, in_flight).await.expect("in-flight sync answers").expect("task");
    assert_eq!(r.status(), 200);
    let result = tokio::time::timeout(SOON, &mut server.run).await.expect("run returns after the drain").expect("task");
    assert!(result.is_ok(), "{result:?}");
    let names: Vec<String> =
        probe.rec.calls().iter().map(|e| e["name"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(names, ["long", "queued"]);
    probe.next_finished().await;
    probe.next_finished().await;

    // The listener is closed afterwards.
    assert!(tokio::net::TcpStream::connect(server.addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_wait_is_bounded() {
    let gate = Arc::new(Semaphore::new(0)); // never opened
    let mut probe = Recorder::probe(Some(gate));
    let mut server =
        start(IngressOptions { shutdown_timeout: Duration::from_millis(200), ..opts() }, probe.rec.clone()).await;
    let r = post(&client(), &server.url("/handle/async"), &event("stuck", None)).await;
    assert_eq!(r.status(), 200);
    probe.next_started().await;
    server.shutdown();
    let result =
        tokio::time::timeout(SOON, &mut server.run).await.expect("run returns after shutdown_timeout").expect("task");
    assert!(matches!(result, Err(IngressError::ShutdownTimedOut { pending: 1 })), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn handler_panic_is_contained() {
    let probe = Recorder::with_panic(None, Some("boom"));
    let server = start(opts(), probe.rec.clone()).await;
    let c = client();
    let r = post(&c, &server.url("/handle/sync"), &event("boom", Some("r-boom"))).await;
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["status"], "failed");
    // The slot and the request id were released: the same id runs again.
    let r = post(&c, &server.url("/handle/sync"), &event("fine", Some("r-boom"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(server.metrics.get("entra_airsync_invocations_total", &[("outcome", "panicked")]), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bind_refuses_unsafe_configurations() {
    let handler: Arc<dyn EventHandler> = Recorder::probe(None).rec;
    let r = Ingress::bind(
        IngressOptions { listen: "127.0.0.1:0".parse().expect("addr"), token: None, ..Default::default() },
        handler.clone(),
    )
    .await;
    assert!(matches!(r, Err(IngressError::NoToken)));
    let r = Ingress::bind(
        IngressOptions {
            listen: "0.0.0.0:0".parse().expect("addr"),
            token: None,
            insecure_no_auth: true,
            ..Default::default()
        },
        handler.clone(),
    )
    .await;
    assert!(matches!(r, Err(IngressError::InsecureNotLoopback(_))));
    let r = Ingress::bind(IngressOptions { max_concurrency: 0, ..opts() }, handler.clone()).await;
    assert!(matches!(r, Err(IngressError::InvalidOptions(_))));
    // Binding an address in use is a Bind error.
    let taken = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let r = Ingress::bind(IngressOptions { listen: taken.local_addr().expect("addr"), ..opts() }, handler).await;
    assert!(matches!(r, Err(IngressError::Bind(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn insecure_mode_on_loopback_serves_without_auth() {
    let mut probe = Recorder::probe(None);
    let server = start(
        IngressOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            token: None,
            insecure_no_auth: true,
            ..Default::default()
        },
        probe.rec.clone(),
    )
    .await;
    let r = client().post(server.url("/handle/sync")).json(&event("open", None)).send().await.expect("req");
    assert_eq!(r.status(), 200);
    probe.next_finished().await;
}
