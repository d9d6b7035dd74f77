//! End-to-end under faults: Graph throttling past the retry budget (DELAYED, then CONTINUE loses nothing),
//! the limiter's pacing and decimal `Retry-After` measured where the requests arrive, an answer that never
//! reaches the platform (callback refused, or the process killed before it), and a soft timeout inside a
//! `$batch` fan-out. Every test ends by comparing the emulated DevRev view with the simulated tenant.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use entra_airsync::airsync::runner::Worker;
use entra_airsync::sim::graph::{Faults, MutationSpec};
use entra_airsync::sim::harness::{worker_config, Harness, HarnessOptions};
use entra_airsync::sim::platform::{Connection, Driver, DriverOptions, FaultRule, WorkerHandle};
use serde_json::Value;

fn event_type(answer: &Value) -> String {
    answer["event_type"].as_str().unwrap_or_default().to_string()
}

/// A worker process as the platform sees it: one delivery runs one invocation to its end (answered or
/// not), so a missing answer is known to be missing once `deliver` returns.
struct Inline(Arc<Mutex<Worker>>);

#[async_trait::async_trait]
impl WorkerHandle for Inline {
    async fn deliver(&self, event: Value) -> Result<(), String> {
        let worker = self.0.lock().expect("worker lock").clone();
        let _ = worker.handle(event).await;
        Ok(())
    }
}

/// A driver whose `send` returns once the invocation has ended; a missing answer is an `Err` at once.
fn inline_driver(h: &Harness, worker: Arc<Mutex<Worker>>) -> Driver {
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let options = DriverOptions { answer_timeout: Duration::from_millis(500), delay_scale: 0.0, ..Default::default() };
    let driver = Driver::new(h.platform.clone(), Arc::new(Inline(worker)), connection, options);
    driver.set_external_sync_unit(&h.info.tenant_id, "Simulated tenant");
    driver
}

/// START_EXTRACTING_DATA, then CONTINUE while the answer is PROGRESS or DELAYED; every answer, in order.
async fn data_phase(driver: &Driver, mode: &str) -> Vec<Value> {
    let mut answers = Vec::new();
    let mut incoming = "START_EXTRACTING_DATA";
    for _ in 0..60 {
        let answer = driver.send(driver.event(incoming, mode)).await.expect("the data phase answers");
        let t = event_type(&answer);
        answers.push(answer);
        if !(t.ends_with("_PROGRESS") || t.ends_with("_DELAYED")) {
            break;
        }
        incoming = "CONTINUE_EXTRACTING_DATA";
    }
    answers
}

async fn send_ok(driver: &Driver, incoming: &str, mode: &str, expected: &str) {
    let answer = driver.send(driver.event(incoming, mode)).await.expect("an answer");
    assert_eq!(event_type(&answer), expected, "{answer}");
}

/// A tenant imported once and then changed in every directory type: the changes an incremental sync owes.
async fn imported_then_changed(opts: HarnessOptions) -> Harness {
    let h = Harness::start(opts).await.expect("simulators start");
    let run = h.driver.initial_import().await.expect("initial import");
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{run:?}");
    h.graph.mutate(&MutationSpec {
        create: 10,
        update: 10,
        soft_delete: 5,
        hard_delete: 5,
        directory: 3,
        activity: 5,
        seed: 5,
        ..MutationSpec::default()
    });
    h
}

fn assert_verified(h: &Harness) {
    let report = h.verify();
    assert!(report.ok, "records lost: {:?}", report.mismatches);
}

fn violations_except_missing_answers(h: &Harness) -> Vec<String> {
    h.platform.violations().into_iter().filter(|v| !v.starts_with("no answer to")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_past_the_retry_budget_answers_delayed_and_continue_loses_nothing() {
    let h = imported_then_changed(HarnessOptions { users: 300, ..HarnessOptions::default() }).await;
    send_ok(&h.driver, "START_EXTRACTING_METADATA", "INCREMENTAL", "METADATA_EXTRACTION_DONE").await;
    // Every Graph request answers 429 (decimal Retry-After) until 300 have been refused: more than the
    // budgets (1 + 6 attempts) of all the requests the record types can have in flight at once (about 34,
    // with prefetch), so some request must spend its whole budget and the first invocation cannot finish.
    h.graph.set_faults(Faults { throttle_next: 300, throttle_retry_after: "0.2".into(), ..Faults::default() });
    h.graph.reset_stats();
    let answers = data_phase(&h.driver, "INCREMENTAL").await;
    let types: Vec<String> = answers.iter().map(event_type).collect();
    assert_eq!(types[0], "DATA_EXTRACTION_DELAYED", "{answers:?}");
    let delay = answers[0]["event_data"]["delay"].as_u64().expect("DELAYED carries an integer delay");
    assert!((1..=60).contains(&delay), "delay {delay}");
    assert_eq!(types.last().map(String::as_str), Some("DATA_EXTRACTION_DONE"), "{types:?}");
    assert_eq!(h.graph.stats()["throttled_429"], 300, "every injected 429 was met");
    send_ok(&h.driver, "START_EXTRACTING_ATTACHMENTS", "INCREMENTAL", "ATTACHMENT_EXTRACTION_DONE").await;
    assert!(h.platform.violations().is_empty(), "{:?}", h.platform.violations());
    assert_verified(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_the_platform_refused_is_recovered_when_the_event_comes_again() {
    let h = imported_then_changed(HarnessOptions { users: 300, ..HarnessOptions::default() }).await;
    let driver = inline_driver(&h, Arc::new(Mutex::new(h.worker.clone())));
    send_ok(&driver, "START_EXTRACTING_METADATA", "INCREMENTAL", "METADATA_EXTRACTION_DONE").await;
    // The data is read and uploaded, then every callback attempt fails (1 + 5 retries).
    let callbacks = || h.platform.route_counts().get("callback").copied().unwrap_or(0);
    let before = callbacks();
    h.platform.inject(FaultRule::fail("callback", 500, 6));
    let start = driver.event("START_EXTRACTING_DATA", "INCREMENTAL");
    assert!(driver.send(start.clone()).await.is_err(), "the answer cannot have arrived");
    assert_eq!(callbacks() - before, 6, "the answer was tried 1 + 5 times");
    assert!(!h.verify().ok, "uploaded but never announced: DevRev has not seen the changes");
    // The platform sends the same event again.
    let again = driver.send(start).await.expect("the event sent again is answered");
    assert_eq!(event_type(&again), "DATA_EXTRACTION_DONE", "{again}");
    send_ok(&driver, "START_EXTRACTING_ATTACHMENTS", "INCREMENTAL", "ATTACHMENT_EXTRACTION_DONE").await;
    assert_verified(&h);
    assert!(violations_except_missing_answers(&h).is_empty(), "{:?}", h.platform.violations());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continue_after_a_refused_answer_loses_nothing() {
    let opts = HarnessOptions { users: 300, ..HarnessOptions::default() };
    let h = imported_then_changed(opts).await;
    let driver = inline_driver(&h, Arc::new(Mutex::new(h.worker.clone())));
    send_ok(&driver, "START_EXTRACTING_METADATA", "INCREMENTAL", "METADATA_EXTRACTION_DONE").await;
    h.platform.inject(FaultRule::fail("callback", 503, 6));
    assert!(driver.send(driver.event("START_EXTRACTING_DATA", "INCREMENTAL")).await.is_err());
    // This time the platform carries on with a CONTINUE (a new request id).
    let next = driver.send(driver.event("CONTINUE_EXTRACTING_DATA", "INCREMENTAL")).await.expect("answered");
    assert_eq!(event_type(&next), "DATA_EXTRACTION_DONE", "{next}");
    send_ok(&driver, "START_EXTRACTING_ATTACHMENTS", "INCREMENTAL", "ATTACHMENT_EXTRACTION_DONE").await;
    assert_verified(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_after_uploading_and_before_answering_is_recovered_on_the_same_event() {
    // A 3 s soft timeout: the hard timeout (5 s) ends the invocation while its callback hangs, which is
    // what a killed process looks like from outside: artifacts uploaded and state saved, no answer.
    let opts = HarnessOptions { users: 300, soft_timeout: Duration::from_secs(3), ..HarnessOptions::default() };
    let h = imported_then_changed(opts.clone()).await;
    let current = Arc::new(Mutex::new(h.worker.clone()));
    let driver = inline_driver(&h, current.clone());
    send_ok(&driver, "START_EXTRACTING_METADATA", "INCREMENTAL", "METADATA_EXTRACTION_DONE").await;
    h.platform.inject(FaultRule {
        route: "callback".into(),
        status: 500,
        times: 1,
        delay_ms: 60_000,
        retry_after: None,
    });
    let uploads_before = h.platform.route_counts().get("confirm").copied().unwrap_or(0);
    let start = driver.event("START_EXTRACTING_DATA", "INCREMENTAL");
    assert!(driver.send(start.clone()).await.is_err(), "no answer arrived");
    assert!(h.platform.route_counts().get("confirm").copied().unwrap_or(0) > uploads_before, "artifacts were uploaded");
    assert!(!h.verify().ok, "DevRev has not seen the changes");
    // A new process receives the same event again.
    *current.lock().expect("worker lock") = Worker::new(worker_config(&h.info, &opts)).expect("worker");
    let answers = {
        let mut answers = vec![driver.send(start).await.expect("the event sent again is answered")];
        while event_type(&answers[answers.len() - 1]) == "DATA_EXTRACTION_PROGRESS" {
            answers.push(driver.send(driver.event("CONTINUE_EXTRACTING_DATA", "INCREMENTAL")).await.expect("answer"));
        }
        answers
    };
    assert_eq!(answers.last().map(event_type).as_deref(), Some("DATA_EXTRACTION_DONE"), "{answers:?}");
    send_ok(&driver, "START_EXTRACTING_ATTACHMENTS", "INCREMENTAL", "ATTACHMENT_EXTRACTION_DONE").await;
    assert_verified(&h);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soft_timeout_inside_a_batch_fan_out_answers_progress_and_loses_nothing() {
    // Slow Graph (300 ms a request, $batch envelopes included) and a 1 s soft timeout: the deadline passes
    // while app role names and per-application extension reads wait on their $batch envelopes.
    let opts = HarnessOptions {
        users: 1200,
        soft_timeout: Duration::from_secs(1),
        latency_ms: 300,
        batch_size: 500,
        ..HarnessOptions::default()
    };
    let h = Harness::start(opts).await.expect("simulators start");
    let run = h.driver.initial_import().await.expect("initial import");
    let progress = run.answers.iter().filter(|a| *a == "DATA_EXTRACTION_PROGRESS").count();
    assert!(progress >= 2, "{:?} {:?}", run.answers, run.errors);
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.errors);
    let stats = h.graph.stats();
    assert!(stats["batch_items"].as_u64().unwrap_or(0) > 50, "the fan-outs went through $batch: {stats}");
    assert!(run.violations.is_empty(), "{:?}", run.violations);
    assert_verified(&h);
    for t in ["app_role_assignments", "devices", "authentication_methods"] {
        let c = &h.verify().per_type[t];
        assert!(c.expected > 0 && c.present >= c.expected, "{t}: {c:?}");
    }
}
