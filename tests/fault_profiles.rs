//! End-to-end under each of the Graph simulator's fault profiles (none, flaky: 5xx bursts and dropped
//! connections; hostile: slow, truncated and reset bodies, wrong content types): the import and an
//! incremental sync still end DONE and the DevRev view equals the tenant, users and groups included.

use entra_airsync::sim::graph::{FaultProfile, MutationSpec};
use entra_airsync::sim::harness::{Harness, HarnessOptions};

async fn import_and_sync_under(profile: FaultProfile, seed: u64) {
    let h = Harness::start(HarnessOptions { users: 300, seed, ..HarnessOptions::default() }).await.expect("harness");
    h.graph.policies().set_fault_profile(profile, Some(seed));
    let initial = h.driver.initial_import().await.expect("initial import");
    assert_eq!(
        initial.answers.last().map(String::as_str),
        Some("ATTACHMENT_EXTRACTION_DONE"),
        "{profile:?}: {initial:?}"
    );
    let report = h.verify();
    assert!(report.ok, "{profile:?}: {:?}", report.mismatches);
    assert_eq!(report.per_type["users"].present, 300, "{profile:?}");
    assert!(report.per_type["groups"].present > 0, "{profile:?}");

    h.graph.mutate(&MutationSpec {
        create: 10,
        update: 10,
        soft_delete: 5,
        hard_delete: 5,
        directory: 3,
        ..Default::default()
    });
    let sync = h.driver.incremental_sync().await.expect("incremental sync");
    assert_eq!(sync.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{profile:?}: {sync:?}");
    let report = h.verify();
    assert!(report.ok, "{profile:?} after the incremental sync: {:?}", report.mismatches);
    let faults = h.graph.policies().fault_log();
    let injected = faults["faults"].as_array().map_or(0, Vec::len);
    if profile != FaultProfile::None {
        assert!(injected > 0, "{profile:?}: no fault was injected, the test proves nothing: {faults}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_faults() {
    import_and_sync_under(FaultProfile::None, 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_graph() {
    import_and_sync_under(FaultProfile::Flaky, 21).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_graph() {
    import_and_sync_under(FaultProfile::Hostile, 13).await;
}
