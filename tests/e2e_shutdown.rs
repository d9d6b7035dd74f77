//! Graceful shutdown: when the worker is told to stop in the middle of a data extraction (what SIGTERM
//! does in `serve`), the running invocation answers PROGRESS, and a new worker process finishes the sync
//! on CONTINUE with nothing lost.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use entra_airsync::airsync::runner::Worker;
use entra_airsync::sim::harness::{worker_config, Harness, HarnessOptions};
use entra_airsync::sim::platform::{Connection, Driver, DriverOptions, FnWorker};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_extraction_answers_progress_and_a_new_worker_finishes() {
    let opts = HarnessOptions { users: 3000, latency_ms: 80, batch_size: 200, ..HarnessOptions::default() };
    let h = Harness::start(opts.clone()).await.unwrap();
    let first = h.worker.clone();
    let current = Arc::new(RwLock::new(first.clone()));
    let handle = {
        let current = current.clone();
        FnWorker::new(move |event| {
            let worker = current.read().unwrap().clone();
            async move {
                let _ = worker.handle(event).await;
            }
        })
    };
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let driver = Driver::new(h.platform.clone(), Arc::new(handle), connection, DriverOptions::default());

    let platform = h.platform.clone();
    let swap = tokio::spawn({
        let current = current.clone();
        let info = h.info.clone();
        async move {
            // Wait until the data phase has uploaded something, then "SIGTERM" the first worker and
            // start a second one, as a restarted pod would.
            for _ in 0..600 {
                if platform.route_counts().get("confirm").copied().unwrap_or(0) >= 3 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            first.begin_shutdown();
            *current.write().unwrap() = Worker::new(worker_config(&info, &opts)).unwrap();
        }
    });
    let run = driver.initial_import().await.unwrap();
    swap.await.unwrap();
    assert!(run.answers.iter().any(|a| a == "DATA_EXTRACTION_PROGRESS"), "{:?}", run.answers);
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{run:?}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
    assert_eq!(report.per_type["users"].present, 3000);
}
