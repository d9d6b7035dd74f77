//! End-to-end: snapshot record types (Conditional Access, PIM, lifecycle workflows) whose objects are all
//! deleted in Entra between two syncs are marked deleted in DevRev, not left live because nothing was sent.

use entra_airsync::sim::harness::{Harness, HarnessOptions};

const DONE: [&str; 4] = [
    "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
    "METADATA_EXTRACTION_DONE",
    "DATA_EXTRACTION_DONE",
    "ATTACHMENT_EXTRACTION_DONE",
];

/// `(live, deleted)` records of an item type in the DevRev view.
fn live_and_deleted(h: &Harness, item_type: &str) -> (usize, usize) {
    let store = h.platform.store();
    let records: Vec<_> = store.iter(item_type).map(|(_, r)| r).collect();
    let deleted = records.iter().filter(|r| r.data["deleted_in_source"] == true).count();
    (records.len() - deleted, deleted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_type_emptied_in_entra_is_deleted_in_devrev() {
    let h = Harness::start(HarnessOptions { users: 60, ..HarnessOptions::default() }).await.expect("harness");
    let initial = h.driver.initial_import().await.expect("initial import");
    assert_eq!(initial.answers, DONE, "{:?}", initial.errors);
    let families = [
        ("conditional_access", "conditional_access_policies"),
        ("pim", "pim_eligible_roles"),
        ("workflows", "lifecycle_workflows"),
    ];
    let mut before = Vec::new();
    for (family, item_type) in families {
        let (live, _) = live_and_deleted(&h, item_type);
        assert!(live > 0, "{item_type}: the tenant starts with some");
        before.push(live);
        assert_eq!(h.graph.policies().delete_all(family), live, "{family}: every object deleted");
    }

    let sync = h.driver.incremental_sync().await.expect("incremental sync");
    assert_eq!(sync.answers, DONE[1..], "{:?}", sync.errors);
    for ((_, item_type), live) in families.iter().zip(before) {
        assert_eq!(live_and_deleted(&h, item_type), (0, live), "{item_type}: every record marked deleted");
    }
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);

    // A further sync with nothing left sends nothing more, and the view stays right.
    let again = h.driver.incremental_sync().await.expect("second incremental sync");
    assert_eq!(again.answers, DONE[1..], "{:?}", again.errors);
    assert!(h.verify().ok);
}
