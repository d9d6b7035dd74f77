//! Regressions found by `soak` (seeds 29 and 31), reproduced deterministically against the Graph simulator
//! and the AirSync platform emulator: a failed extension discovery, and a user's last method removed.

use std::collections::BTreeSet;

use entra_airsync::sim::graph::{MutationSpec, PolicyKnobs};
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use serde_json::Value;

const IMPORT_DONE: [&str; 4] = [
    "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
    "METADATA_EXTRACTION_DONE",
    "DATA_EXTRACTION_DONE",
    "ATTACHMENT_EXTRACTION_DONE",
];
const SYNC_DONE: [&str; 3] = ["METADATA_EXTRACTION_DONE", "DATA_EXTRACTION_DONE", "ATTACHMENT_EXTRACTION_DONE"];

fn mismatches_of(h: &Harness, prefix: &str) -> Vec<String> {
    h.verify().mismatches.into_iter().filter(|m| m.starts_with(prefix)).collect()
}

/// Seed 29: a truncated `getAvailableExtensionProperties` answer made the sync send the users it read
/// without their directory-extension fields (and they stayed so until the users next changed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_extension_discovery_keeps_the_users_custom_fields() {
    let h = Harness::start(HarnessOptions { users: 60, seed: 29, ..HarnessOptions::default() }).await.unwrap();
    let initial = h.driver.initial_import().await.unwrap();
    assert_eq!(initial.answers, IMPORT_DONE, "{:?}", initial.errors);
    assert_eq!(mismatches_of(&h, "users/"), Vec::<String>::new());

    h.graph.mutate(&MutationSpec { create: 3, update: 6, seed: 7, ..MutationSpec::default() });
    // Every discovery of this sync (metadata phase, data phase) gets a truncated body.
    h.graph.policies().set_knobs(PolicyKnobs { extension_properties_truncated: 1_000, ..PolicyKnobs::default() });
    let run = h.driver.incremental_sync().await.unwrap();
    assert_eq!(run.answers, SYNC_DONE, "{:?}", run.errors);
    let left = h.graph.policies().knobs().extension_properties_truncated;
    assert!(left < 1_000, "the discovery was attempted and failed");
    assert!(run.items_by_type.get("users").copied().unwrap_or(0) > 0, "users were read: {:?}", run.items_by_type);
    assert_eq!(mismatches_of(&h, "users/"), Vec::<String>::new());
}

/// With nothing discovered before, a failed discovery fails the phase rather than sending users without
/// their fields; the next import (discovery working again) sends them complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_discovery_fails_the_import_instead_of_dropping_fields() {
    let h = Harness::start(HarnessOptions { users: 30, seed: 30, ..HarnessOptions::default() }).await.unwrap();
    h.graph.policies().set_knobs(PolicyKnobs { extension_properties_truncated: 1_000, ..PolicyKnobs::default() });
    let failed = h.driver.initial_import().await.unwrap();
    assert!(failed.answers.iter().any(|a| a.ends_with("_ERROR")), "{:?}", failed.answers);
    assert_eq!(h.platform.store().count("users"), 0, "no user was sent without its custom fields");

    h.graph.policies().set_knobs(PolicyKnobs::default());
    let run = h.driver.initial_import().await.unwrap();
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.errors);
    assert_eq!(mismatches_of(&h, "users/"), Vec::<String>::new());
}

/// The users of the tenant with no authentication method, and those with at least one.
fn users_by_methods(truth: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let with: BTreeSet<String> = truth["authenticationMethods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["userId"].as_str().map(str::to_string))
        .collect();
    let all: BTreeSet<String> =
        truth["users"].as_array().into_iter().flatten().filter_map(|u| u["id"].as_str().map(str::to_string)).collect();
    (all.difference(&with).cloned().collect(), with)
}

/// Seed 31: a user whose last method was removed was re-read (the audit event named them) but nothing
/// was sent for them, so their old records stayed their latest read and the method stayed live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_last_removed_method_is_gone_after_the_next_sync() {
    let h = Harness::start(HarnessOptions { users: 60, seed: 31, ..HarnessOptions::default() }).await.unwrap();
    let initial = h.driver.initial_import().await.unwrap();
    assert_eq!(initial.answers, IMPORT_DONE, "{:?}", initial.errors);
    assert_eq!(mismatches_of(&h, "authentication_methods"), Vec::<String>::new());
    let (_, had_methods) = users_by_methods(&h.graph.truth());

    // Method changes (each logged as a security-info event) until some user has lost every method.
    let mut emptied = None;
    for round in 0..300u64 {
        h.graph.mutate(&MutationSpec { activity: 3, seed: 1_000 + round, ..MutationSpec::default() });
        let (without, _) = users_by_methods(&h.graph.truth());
        emptied = without.intersection(&had_methods).next().cloned();
        if emptied.is_some() {
            break;
        }
    }
    let user = emptied.expect("some user lost their last method");
    let stale: Vec<String> = h
        .platform
        .store()
        .ids("authentication_methods")
        .filter(|id| id.starts_with(&format!("{user}_")))
        .map(str::to_string)
        .collect();
    assert!(!stale.is_empty(), "the user's methods were imported");

    let run = h.driver.incremental_sync().await.unwrap();
    assert_eq!(run.answers, SYNC_DONE, "{:?}", run.errors);
    assert_eq!(mismatches_of(&h, "authentication_methods"), Vec::<String>::new());
}
