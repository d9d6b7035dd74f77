//! Secrets never reach logs, answers or artifacts: a full sync and an incremental sync run with every log
//! target at trace level, everything is captured, and the capture, the DevRev view and every artifact are
//! searched for the client secret, the DevRev service-account token and any access token.

mod common;

use entra_airsync::sim::graph::MutationSpec;
use entra_airsync::sim::harness::{Harness, HarnessOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sync_at_trace_level_leaks_no_secret() {
    let capture = common::capture_logs("trace", true);

    let h = Harness::start(HarnessOptions { users: 150, ..HarnessOptions::default() }).await.unwrap();
    let run = h.driver.initial_import().await.unwrap();
    assert!(run.errors.is_empty(), "{run:?}");
    h.graph.mutate(&MutationSpec { create: 5, update: 5, soft_delete: 5, hard_delete: 5, ..Default::default() });
    h.driver.incremental_sync().await.unwrap();
    // A refused secret takes the error paths too.
    let wrong = "Another~Wrong.Secret-ValueXYZ";
    let conn = entra_airsync::sim::platform::Connection::entra(&h.info.tenant_id, &h.info.client_id, wrong);
    let driver = Harness::driver_for(&h.platform, &h.worker, conn, false);
    driver.send(driver.event("START_EXTRACTING_DATA", "INCREMENTAL")).await.unwrap();

    let logs = capture.text();
    assert!(logs.len() > 10_000, "trace logging was captured ({} bytes)", logs.len());
    let store = serde_json::to_string(&h.platform.store()).unwrap();
    let secrets = [h.info.client_secret.as_str(), wrong, &h.platform.service_account_token()];
    for (what, text) in [("logs", &logs), ("DevRev view", &store)] {
        for secret in secrets {
            assert!(!text.contains(secret), "a secret appears in the {what}");
        }
        assert!(!text.contains("eyJ"), "something token-shaped (a JWT) appears in the {what}");
    }
    let mut searched = 0;
    for id in 1..=h.platform.artifact_count() {
        let artifact = format!("don:core:dvrv-us-1:devo/sim:artifact/{id}");
        if let Some(bytes) = h.platform.artifact_bytes(&artifact) {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text);
            searched += 1;
            for secret in secrets {
                assert!(!text.contains(secret), "a secret appears in artifact {artifact}");
            }
        }
    }
    assert!(searched >= 5, "only {searched} artifacts were searched");
}
