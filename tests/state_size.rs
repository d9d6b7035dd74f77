//! The state the worker keeps in DevRev stays small whatever the tenant: at most 16 KiB after an import
//! and an incremental sync, and while a sync is paused mid-way (cursors, pending answer and all).

use std::time::Duration;

use entra_airsync::sim::graph::MutationSpec;
use entra_airsync::sim::harness::{Harness, HarnessOptions};

const LIMIT: usize = 16 * 1024;

fn state_len(h: &Harness) -> usize {
    let text = h.platform.state_text(&h.driver.sync_unit()).expect("a saved state");
    eprintln!("state ({} bytes): {text}", text.len());
    text.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_stays_under_16_kib_through_import_pauses_and_incremental_syncs() {
    // A short soft timeout with latency: the import pauses several times, so the largest state (every
    // type mid-round, the pending answer's copy) is saved along the way.
    let opts = HarnessOptions {
        users: 2000,
        soft_timeout: Duration::from_secs(2),
        latency_ms: 60,
        ..HarnessOptions::default()
    };
    let h = Harness::start(opts).await.expect("harness");
    let mut largest = 0;
    let start = h.driver.event("START_EXTRACTING_DATA", "INITIAL");
    let mut answer = h.driver.send(start).await.expect("data answer");
    largest = largest.max(state_len(&h));
    while answer["event_type"] == "DATA_EXTRACTION_PROGRESS" {
        answer = h.driver.send(h.driver.event("CONTINUE_EXTRACTING_DATA", "INITIAL")).await.expect("continue");
        largest = largest.max(state_len(&h));
    }
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DONE", "{answer}");
    let attachments =
        h.driver.send(h.driver.event("START_EXTRACTING_ATTACHMENTS", "INITIAL")).await.expect("attachments");
    assert_eq!(attachments["event_type"], "ATTACHMENT_EXTRACTION_DONE", "{attachments}");

    h.graph.mutate(&MutationSpec {
        create: 50,
        update: 50,
        hard_delete: 20,
        directory: 10,
        activity: 5,
        ..Default::default()
    });
    let sync = h.driver.incremental_sync().await.expect("incremental sync");
    assert!(sync.errors.is_empty(), "{:?}", sync.errors);
    largest = largest.max(state_len(&h));
    assert!(largest <= LIMIT, "the state grew to {largest} bytes (limit {LIMIT})");
}
