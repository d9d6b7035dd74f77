//! End-to-end for app role assignments as a delta type: an incremental sync after assignment adds and removals
//! reads only the `directoryObjects/delta` changes (no `appRoleAssignedTo`), and a refused delta (403) falls back.

mod common;

use std::collections::{HashMap, HashSet};

use entra_airsync::sim::graph::MutationSpec;
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use serde_json::Value;

const DELTA: &str = "GET /v1.0/directoryObjects/delta";
const ASSIGNED_TO: &str = "GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo";
const SP_GET: &str = "GET /v1.0/servicePrincipals/{id}";

fn requests(stats: &Value, route: &str) -> u64 {
    stats["requests_per_route"][route].as_u64().unwrap_or(0)
}

/// Assignment id → truth object.
fn assignments(truth: &Value) -> HashMap<String, Value> {
    let list = truth["appRoleAssignments"].as_array().cloned().unwrap_or_default();
    list.into_iter().filter_map(|a| Some((a["id"].as_str()?.to_string(), a))).collect()
}

/// Every tenant assignment is live in the DevRev view with its fields and role name; `gone` are deleted.
fn assert_view(h: &Harness, truth: &Value, gone: &HashSet<String>) {
    let store = h.platform.store();
    let names: HashMap<(&str, &str), &str> = truth["servicePrincipals"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|sp| {
            let sp_id = sp["id"].as_str().unwrap_or_default();
            sp["appRoles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |r| Some(((sp_id, r["id"].as_str()?), r["displayName"].as_str()?)))
        })
        .collect();
    for (id, a) in assignments(truth) {
        let rec = store.get("app_role_assignments", &id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(rec.data["deleted_in_source"], false, "{id}");
        assert_eq!(rec.data["principal_id"], a["principalId"], "{id}");
        assert_eq!(rec.data["resource_id"], a["resourceId"], "{id}");
        let key = (a["resourceId"].as_str().unwrap_or_default(), a["appRoleId"].as_str().unwrap_or_default());
        let want = names.get(&key).map_or(Value::Null, |n| Value::String(n.to_string()));
        assert_eq!(rec.data["app_role_name"], want, "{id}");
    }
    for id in gone {
        let rec = store.get("app_role_assignments", id).unwrap_or_else(|| panic!("removed {id} never sent"));
        assert_eq!(rec.data["deleted_in_source"], true, "{id} was removed in Entra");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_sync_reads_only_the_assignment_changes() {
    let h = Harness::start(HarnessOptions { users: 600, ..HarnessOptions::default() }).await.expect("harness");
    let initial = h.driver.initial_import().await.expect("initial import");
    assert_eq!(initial.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", initial.errors);
    let report = h.verify();
    assert!(report.ok, "{:#?}", report.mismatches);
    let before = h.graph.truth();
    assert_view(&h, &before, &HashSet::new());
    let stats = h.graph.stats();
    assert!(requests(&stats, DELTA) > 0, "{}", stats["requests_per_route"]);
    assert_eq!(requests(&stats, ASSIGNED_TO), 0, "no per-resource listing: {}", stats["requests_per_route"]);
    let sps = before["servicePrincipals"].as_array().map_or(0, Vec::len) as u64;
    assert!(requests(&stats, SP_GET) <= sps, "each resource's roles read at most once per invocation");

    h.graph.mutate(&MutationSpec {
        directory: 10,
        create: 5,
        soft_delete: 5,
        hard_delete: 2,
        seed: 3,
        ..Default::default()
    });
    let after = h.graph.truth();
    let (old, new) = (assignments(&before), assignments(&after));
    let gone: HashSet<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    let added = new.keys().filter(|k| !old.contains_key(*k)).count();
    assert!(!gone.is_empty() && added > 0, "the mutation adds and removes assignments ({added} added, {gone:?})");
    h.graph.reset_stats();
    let sync = h.driver.incremental_sync().await.expect("incremental sync");
    assert_eq!(sync.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", sync.errors);
    let report = h.verify();
    assert!(report.ok, "{:#?}", report.mismatches);
    assert_view(&h, &after, &gone);
    let stats = h.graph.stats();
    assert_eq!(requests(&stats, ASSIGNED_TO), 0, "only the changes are read: {}", stats["requests_per_route"]);
    assert!(requests(&stats, DELTA) >= 1, "{}", stats["requests_per_route"]);
    assert!(requests(&stats, SP_GET) as usize <= added, "role names only for the new assignments' resources");
    let sent = sync.items_by_type.get("app_role_assignments").copied().unwrap_or(0);
    assert!(sent <= added + gone.len(), "{sent} sent for {added} added and {} removed", gone.len());
    assert!(report.per_type["app_role_assignments"].deleted >= gone.len());
}

/// The only test here that installs a global log subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_user_read_all_the_delta_is_refused_and_the_snapshot_is_read_with_a_warning() {
    let capture = common::capture_logs("entra_airsync=warn", false);
    let roles = Some(["Application.Read.All", "Organization.Read.All", "Group.Read.All"].map(String::from).to_vec());
    let h = Harness::start(HarnessOptions { users: 60, roles, ..HarnessOptions::default() }).await.expect("harness");
    let initial = h.driver.initial_import().await.expect("initial import");
    assert_eq!(initial.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", initial.errors);
    let truth = h.graph.truth();
    assert!(!assignments(&truth).is_empty());
    assert_view(&h, &truth, &HashSet::new());
    let stats = h.graph.stats();
    assert!(requests(&stats, DELTA) >= 1, "the delta was tried: {}", stats["requests_per_route"]);
    assert!(requests(&stats, ASSIGNED_TO) > 0, "the snapshot was read: {}", stats["requests_per_route"]);
    assert!(stats["errors_by_status"]["403"].as_u64().unwrap_or(0) >= requests(&stats, DELTA), "refused: {stats}");
    let logs = capture.text();
    assert!(logs.contains("app role assignments delta") && logs.contains("User.Read.All"), "{logs}");

    // The next sync tries the delta again, and falls back again.
    h.graph.mutate(&MutationSpec { directory: 3, seed: 5, ..Default::default() });
    let sync = h.driver.incremental_sync().await.expect("incremental sync");
    assert_eq!(sync.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", sync.errors);
    assert_view(&h, &h.graph.truth(), &HashSet::new());
}
