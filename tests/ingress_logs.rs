//! Captures every log line the ingress writes while serving authenticated, rejected and
//! invalid requests, and checks that neither the bearer token nor any body content appears.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_airsync::ingress::{EventHandler, Ingress, IngressOptions};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const TOKEN: &str = "tok-SECRET-4f1c9a";
const BODY_SECRET: &str = "body-SECRET-77ab";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Forward(mpsc::UnboundedSender<Value>);

#[async_trait::async_trait]
impl EventHandler for Forward {
    async fn handle(&self, event: Value) {
        let _ = self.0.send(event);
    }
}

// current_thread: the thread-local subscriber sees every task of the server.
#[tokio::test(flavor = "current_thread")]
async fn logs_never_contain_the_token_or_the_body() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (tx, mut rx) = mpsc::unbounded_channel();
    let ingress = Ingress::bind(
        IngressOptions {
            listen: "127.0.0.1:0".parse().expect("addr"),
            token: Some(TOKEN.to_owned()),
            max_body_bytes: 4096,
            ..Default::default()
        },
        Arc::new(Forward(tx)),
    )
    .await
    .expect("bind");
    let base = format!("http://{}", ingress.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(ingress.run(async move {
        let _ = stopped.await;
    }));

    let c = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().expect("client");
    let event = json!({
        "context": {"secrets": {"service_account_token": BODY_SECRET}},
        "payload": {"connection_data": {"key": BODY_SECRET}, "event_context": {"request_id": "r1"}},
    });
    let url = format!("{base}/handle/async");
    let ok = c.post(&url).bearer_auth(TOKEN).json(&event).send().await.expect("req");
    assert_eq!(ok.status(), 200);
    let seen = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.expect("handled").expect("open");
    assert_eq!(seen, event);
    let wrong = c.post(&url).bearer_auth(format!("{TOKEN}x")).json(&event).send().await.expect("req");
    assert_eq!(wrong.status(), 401);
    let invalid = c
        .post(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(format!("{{\"x\": \"{BODY_SECRET}\""))
        .send()
        .await
        .expect("req");
    assert_eq!(invalid.status(), 400);
    let text = invalid.text().await.expect("text");
    assert!(!text.contains(BODY_SECRET), "error echoes the body: {text}");
    let big = c.post(&url).bearer_auth(TOKEN).json(&json!({"pad": BODY_SECRET.repeat(400)})).send().await;
    if let Ok(big) = big {
        assert_eq!(big.status(), 413);
    }

    let _ = stop.send(());
    run.await.expect("task").expect("run");

    let logs = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("{logs}");
    }
    assert!(logs.contains("http request"), "requests are logged:\n{logs}");
    assert!(logs.contains("status=401"), "{logs}");
    assert!(!logs.contains(TOKEN), "token leaked into logs:\n{logs}");
    assert!(!logs.contains(BODY_SECRET), "body leaked into logs:\n{logs}");
}
