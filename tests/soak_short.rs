//! The short soak CI runs: 20 seeded runs on a small tenant with randomized faults on both simulators;
//! after each run's clean final sync, DevRev must equal the tenant, with no record lost.

use entra_airsync::soak::{run, SoakArgs};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_faulty_runs_lose_nothing() {
    let result = run(SoakArgs { runs: 20, seed: 7, users: 100, syncs: 3 }).await.unwrap();
    assert_eq!(result["records_lost"], 0, "{result:#}");
    assert_eq!(result["failures"].as_array().map(Vec::len), Some(0), "{result:#}");
    let faults: u64 = result["faults"].as_object().unwrap().values().filter_map(|v| v.as_u64()).sum();
    assert!(faults >= 20, "the soak injected faults: {result:#}");
}
