//! The worker against a simulator with Graph's throttling model and its own documented limits: a full and an
//! incremental sync of a small tenant draw no 429 from any bucket, and the audit events are read once a sync.

use entra_airsync::sim::graph::MutationSpec;
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use serde_json::Value;

fn route(stats: &Value, route: &str) -> u64 {
    stats["requests_per_route"][route].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_and_incremental_syncs_are_never_throttled() {
    let h = Harness::start(HarnessOptions { users: 200, throttling: true, latency_ms: 5, ..HarnessOptions::default() })
        .await
        .expect("simulators start");
    let initial = h.driver.initial_import().await.expect("initial import");
    assert!(initial.errors.is_empty(), "{:?}", initial.errors);
    let stats = h.graph.stats();
    assert_eq!(stats["throttled_429"], 0, "full sync throttled: {stats}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);

    h.graph.reset_stats();
    h.graph.mutate(&MutationSpec { update: 5, directory: 2, activity: 3, seed: 9, ..MutationSpec::default() });
    let incremental = h.driver.incremental_sync().await.expect("incremental sync");
    assert!(incremental.errors.is_empty(), "{:?}", incremental.errors);
    let stats = h.graph.stats();
    assert_eq!(stats["throttled_429"], 0, "incremental sync throttled: {stats}");
    // One read of the audit window serves the audit log, the methods and the registration report.
    assert_eq!(route(&stats, "GET /v1.0/auditLogs/directoryAudits"), 1, "{stats}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
}
