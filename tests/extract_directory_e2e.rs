//! End-to-end for the directory record types: the real worker against the Graph simulator and the platform
//! emulator — an initial import, then directory and user mutations and an incremental sync — compared with
//! the simulated tenant, and the Graph traffic checked for the per-item patterns the prior connector had.

use entra_airsync::sim::graph::MutationSpec;
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use serde_json::Value;

const DIRECTORY_TYPES: [&str; 11] = [
    "groups",
    "group_members",
    "directory_roles",
    "role_members",
    "applications",
    "service_principals",
    "app_roles",
    "app_role_assignments",
    "devices",
    "org_contacts",
    "license_assignments",
];

fn requests(stats: &Value, route: &str) -> u64 {
    stats["requests_per_route"][route].as_u64().unwrap_or(0)
}

/// Routes that mean "one call per parent object" where a delta or `$batch` should have been used.
fn assert_no_per_item_calls(stats: &Value) {
    for route in [
        "GET /v1.0/groups/{id}/members",
        "GET /v1.0/directoryRoles/{id}/members",
        "GET /v1.0/users/{id}/licenseDetails",
        "GET /v1.0/devices/{id}",
    ] {
        assert_eq!(requests(stats, route), 0, "{route} was called: {}", stats["requests_per_route"]);
    }
}

/// The app role assignments' role names: one batched read per resource service principal at most, never
/// one per assignment, and no per-resource listing of assignments (the delta carries them).
fn assert_role_names_read_once(stats: &Value, at_most: u64) {
    let reads = requests(stats, "GET /v1.0/servicePrincipals/{id}");
    assert!(reads <= at_most, "{reads} service principal reads, at most {at_most}");
    assert_eq!(requests(stats, "GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_initial_import_then_incremental_sync_match_the_tenant() {
    let h =
        Harness::start(HarnessOptions { users: 1000, ..HarnessOptions::default() }).await.expect("simulators start");
    let truth = h.graph.truth();
    let mut per_group = std::collections::HashMap::<&str, usize>::new();
    for m in truth["groupMembers"].as_array().unwrap() {
        *per_group.entry(m["groupId"].as_str().unwrap()).or_default() += 1;
    }
    let largest = per_group.values().copied().max().unwrap_or(0);
    assert!(largest > 600, "the tenant has a group sliced across delta pages ({largest} members)");

    let initial = h.driver.initial_import().await.unwrap();
    assert_eq!(
        initial.answers,
        [
            "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
            "METADATA_EXTRACTION_DONE",
            "DATA_EXTRACTION_DONE",
            "ATTACHMENT_EXTRACTION_DONE"
        ],
        "{:?}",
        initial.errors
    );
    assert!(initial.violations.is_empty(), "{:?}", initial.violations);
    let report = h.verify();
    assert!(report.ok, "{} mismatches: {:#?}", report.mismatch_count, report.mismatches);
    for t in DIRECTORY_TYPES {
        let c = &report.per_type[t];
        assert!(c.expected > 0, "{t}: the tenant has none, the test proves nothing: {c:?}");
        if t != "license_assignments" {
            assert_eq!(c.present, c.expected, "{t}");
        }
    }
    let stats = h.graph.stats();
    assert_no_per_item_calls(&stats);
    let resources = truth["appRoleAssignments"].as_array().unwrap().iter().map(|a| &a["resourceId"]);
    assert_role_names_read_once(&stats, resources.collect::<std::collections::HashSet<_>>().len() as u64);
    assert!(requests(&stats, "POST /v1.0/$batch") > 0, "owners and role names go through $batch");
    if truth.get("subscribedSkus").is_some() {
        // (The licences simulator serves SKUs; without it licence names stay null and removals uninferred.)
        // One for the licence assignments' names, one for the plan's licence check at the start of the sync.
        assert_eq!(requests(&stats, "GET /v1.0/subscribedSkus"), 2, "one SKU read per invocation, plus the plan's");
    }

    // Directory churn of every kind (creates, updates, deletes, membership adds and removals) plus users.
    h.graph.mutate(&MutationSpec {
        directory: 20,
        create: 10,
        update: 10,
        soft_delete: 10,
        hard_delete: 5,
        seed: 11,
        ..MutationSpec::default()
    });
    h.graph.reset_stats();
    let incremental = h.driver.incremental_sync().await.unwrap();
    assert_eq!(
        incremental.answers,
        ["METADATA_EXTRACTION_DONE", "DATA_EXTRACTION_DONE", "ATTACHMENT_EXTRACTION_DONE"],
        "{:?}",
        incremental.errors
    );
    assert!(incremental.violations.is_empty(), "{:?}", incremental.violations);
    let report = h.verify();
    assert!(report.ok, "{} mismatches: {:#?}", report.mismatch_count, report.mismatches);
    if truth.get("subscribedSkus").is_some() {
        let lic = &report.per_type["license_assignments"];
        assert!(lic.deleted > 0, "deleted users' licences are marked deleted: {lic:?}");
    }
    for t in ["groups", "applications", "service_principals", "devices", "org_contacts"] {
        assert!(report.per_type[t].deleted > 0, "{t}: deletions reached DevRev: {:?}", report.per_type[t]);
    }

    // Only the changes travel for delta types; owners are read only for the devices that changed.
    let sent = |t: &str| incremental.items_by_type.get(t).copied().unwrap_or(0);
    assert!(sent("groups") < 150, "groups sent {}", sent("groups"));
    assert!(sent("group_members") < 600, "group_members sent {}", sent("group_members"));
    assert!(sent("devices") < 150, "devices sent {}", sent("devices"));
    let stats = h.graph.stats();
    assert_no_per_item_calls(&stats);
    assert_role_names_read_once(&stats, sent("app_role_assignments") as u64);
    let owner_reads = requests(&stats, "GET /v1.0/devices/{id}/registeredOwners");
    assert!(owner_reads as usize <= sent("devices"), "{owner_reads} owner reads for {} devices sent", sent("devices"));
}
