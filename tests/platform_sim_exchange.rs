//! End-to-end tests of the AirSync platform emulator against a scripted fake worker: a good exchange, every
//! class of violation, IDM reinstall, old spelling, DELAYED continuation, and verification of the store.

#[path = "platform_sim_common.rs"]
mod common;

use std::time::Duration;

use common::{truth_user, user, worker, Knobs};
use entra_airsync::sim::platform::{verify, Connection, Driver, DriverOptions, PlatformOptions, PlatformSim, Spelling};
use serde_json::json;

fn opts(timeout_ms: u64) -> DriverOptions {
    DriverOptions { answer_timeout: Duration::from_millis(timeout_ms), delay_scale: 0.0, ..DriverOptions::default() }
}

async fn setup(k: Knobs, timeout_ms: u64) -> (PlatformSim, Driver) {
    let p = PlatformSim::start(PlatformOptions::default()).await.unwrap();
    let d = Driver::new(p.clone(), worker(k), Connection::entra("tenant-a", "cid", "secret"), opts(timeout_ms));
    (p, d)
}

#[tokio::test]
async fn good_initial_import_and_incremental_sync() {
    let (p, d) = setup(Knobs { delayed_once: true, ..Knobs::default() }, 10_000).await;
    let r = d.initial_import().await.unwrap();
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        r.answers,
        vec![
            "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
            "METADATA_EXTRACTION_DONE",
            "DATA_EXTRACTION_PROGRESS",
            "DATA_EXTRACTION_DELAYED",
            "DATA_EXTRACTION_DONE",
            "ATTACHMENT_EXTRACTION_DONE"
        ]
    );
    assert_eq!(r.artifacts, 4);
    assert_eq!(r.items_by_type.get("users"), Some(&3));
    let store = p.store();
    assert_eq!(store.count("users"), 3);
    assert!(store.metadata.is_some());
    assert_eq!(store.external_sync_units.len(), 1);
    assert!(store.idm.is_some());
    assert_eq!(p.idm_installs(), 1);
    let state = p.state_text(&d.sync_unit()).expect("state stored");
    assert!(state.contains("ATTACHMENT_EXTRACTION_DONE"));

    // ESU id chosen from the artifact reaches later events.
    let ev = d.event("START_EXTRACTING_DATA", "INCREMENTAL");
    assert_eq!(ev["payload"]["event_context"]["external_sync_unit_id"], "tenant-1");
    assert_eq!(ev["payload"]["event_context"]["extraction_start_time"], json!({"type": "workers_newest"}));

    let truth = json!({"users": [truth_user("u1", "Ann"), truth_user("u2", "Bob"), truth_user("u3", "Cy")]});
    let v = verify(&store, &truth);
    assert!(v.ok, "{:?}", v.mismatches);

    // Incremental sync after a version upgrade: IDM reinstalled once, no ESU phase.
    d.set_snap_in_version("don:integration:dvrv-us-1:devo/sim:snap_in_package/1:snap_in_version/2");
    let r2 = d.incremental_sync().await.unwrap();
    assert!(r2.violations.is_empty(), "{:#?}", r2.violations);
    assert_eq!(r2.answers[0], "METADATA_EXTRACTION_DONE");
    assert_eq!(p.idm_installs(), 2);
    assert_eq!(p.idm_installs_by_version().len(), 2);
    assert_eq!(p.store().counters.duplicates, 3);
    assert!(p.violations().is_empty());
    let counts = p.route_counts();
    assert!(counts["callback"] >= 10);
    assert_eq!(counts.get("unknown"), None);
    p.shutdown().await;
}

#[tokio::test]
async fn old_spelling_is_driven_and_answered() {
    let p = PlatformSim::start(PlatformOptions::default()).await.unwrap();
    let d = Driver::new(
        p.clone(),
        worker(Knobs::default()),
        Connection::entra("tenant-b", "cid", "secret"),
        DriverOptions { spelling: Spelling::Old, ..opts(10_000) },
    );
    let ev = d.event("START_EXTRACTING_DATA", "INITIAL");
    assert_eq!(ev["payload"]["event_type"], "EXTRACTION_DATA_START");
    let r = d.initial_import().await.unwrap();
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    assert_eq!(r.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"));
}

#[tokio::test]
async fn event_shape_follows_the_reference() {
    let (p, d) = setup(Knobs::default(), 1000).await;
    let ev = d.event("START_EXTRACTING_METADATA", "INITIAL");
    let ctx = &ev["payload"]["event_context"];
    assert_eq!(ev["payload"]["connection_data"]["key"], "cid|secret");
    assert_eq!(ev["payload"]["connection_data"]["org_id"], "tenant-a");
    assert_eq!(ev["payload"]["connection_data"]["key_type"], "oauth-secret");
    assert_eq!(ev["context"]["secrets"]["service_account_token"], p.service_account_token());
    assert_eq!(ev["execution_metadata"]["devrev_endpoint"], p.base_url());
    assert_eq!(ev["execution_metadata"]["function_name"], "extraction");
    assert_eq!(ctx["callback_url"], format!("{}/internal/airdrop.external-extractor.message", p.base_url()));
    assert_eq!(ctx["worker_data_url"], format!("{}/internal/airdrop.external-worker", p.base_url()));
    assert_eq!(ctx["extraction_start_time"], json!({"type": "unbounded"}));
    assert_eq!(ctx["extraction_end_time"], json!({"type": "current_time"}));
    assert_eq!(ctx["sync_unit"], ctx["sync_unit_id"]);
    assert_eq!(ctx["mode"], "INITIAL");
    let ev2 = d.event("START_EXTRACTING_METADATA", "INITIAL");
    assert_ne!(ctx["request_id"], ev2["payload"]["event_context"]["request_id"]);
    assert_eq!(ctx["sync_unit_id"], ev2["payload"]["event_context"]["sync_unit_id"]);
}

/// Send one event with a broken worker and return the violations.
async fn violations_for(k: Knobs, event_type: &str, timeout_ms: u64) -> Vec<String> {
    let (p, d) = setup(k, timeout_ms).await;
    d.set_external_sync_unit("tenant-1", "Tenant");
    let _ = d.send(d.event(event_type, "INITIAL")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let v = p.violations();
    p.shutdown().await;
    v
}

fn has(v: &[String], needle: &str) -> bool {
    v.iter().any(|x| x.contains(needle))
}

#[tokio::test]
async fn bearer_on_callback_is_rejected() {
    let v =
        violations_for(Knobs { bearer_on_callback: true, ..Knobs::default() }, "START_EXTRACTING_METADATA", 800).await;
    assert!(has(&v, "callback: 401"), "{v:#?}");
    assert!(has(&v, "no answer"), "{v:#?}");
}

#[tokio::test]
async fn missing_headers_detected() {
    let v = violations_for(Knobs { skip_headers: true, ..Knobs::default() }, "START_EXTRACTING_METADATA", 5000).await;
    assert!(has(&v, "x-devrev-client-platform missing"), "{v:#?}");
    assert!(has(&v, "x-devrev-client-version missing"), "{v:#?}");
}

#[tokio::test]
async fn wrong_answer_type_detected() {
    let v = violations_for(Knobs { wrong_answer: true, ..Knobs::default() }, "START_EXTRACTING_DATA", 5000).await;
    assert!(has(&v, "not a valid answer"), "{v:#?}");
}

#[tokio::test]
async fn unconfirmed_artifact_detected() {
    let v = violations_for(Knobs { skip_confirm: true, ..Knobs::default() }, "START_EXTRACTING_DATA", 5000).await;
    assert!(has(&v, "not confirmed"), "{v:#?}");
}

#[tokio::test]
async fn an_artifact_is_loaded_as_the_type_it_is_listed_as() {
    let (p, d) = setup(Knobs { users_listed_as: Some("attachments"), ..Knobs::default() }, 10_000).await;
    let r = d.initial_import().await.unwrap();
    assert!(r.violations.iter().any(|v| v.contains("item_type attachments but uploaded as users.jsonl.gz")));
    let store = p.store();
    let listed: Vec<_> = store.others["attachments"].iter().map(|l| l["id"].clone()).collect();
    assert_eq!(listed, [json!("u1"), json!("u2")]);
    assert_eq!(store.count("users"), 1, "only the CONTINUE artifact, listed as users");
}

#[tokio::test]
async fn bad_jsonl_line_detected() {
    let v = violations_for(Knobs { bad_line: true, ..Knobs::default() }, "START_EXTRACTING_DATA", 5000).await;
    assert!(has(&v, "`id` missing or not a non-empty string"), "{v:#?}");
    assert!(has(&v, "`modified_date` not RFC3339"), "{v:#?}");
}

#[tokio::test]
async fn second_callback_detected() {
    let v =
        violations_for(Knobs { double_callback: true, ..Knobs::default() }, "START_EXTRACTING_METADATA", 5000).await;
    assert!(has(&v, "second callback"), "{v:#?}");
}

#[tokio::test]
async fn changed_context_and_missing_state_post_detected() {
    // State exists already (no 404 → initial POST), so the only POST would be the one before the answer.
    let (p, d) = setup(Knobs { skip_state_post: true, ..Knobs::default() }, 5000).await;
    p.set_state_text(&d.sync_unit(), Some("{\"snapInVersionId\": \"x\"}".into()));
    let _ = d.send(d.event("START_EXTRACTING_METADATA", "INITIAL")).await;
    assert!(has(&p.violations(), "without posting state"), "{:#?}", p.violations());

    let v = violations_for(Knobs { change_context: true, ..Knobs::default() }, "START_EXTRACTING_METADATA", 5000).await;
    assert!(has(&v, "event_context.mode changed"), "{v:#?}");
}

#[tokio::test]
async fn delay_must_be_integer() {
    let (p, d) = setup(Knobs { delayed_once: true, delayed_as_string: true, ..Knobs::default() }, 5000).await;
    d.set_external_sync_unit("tenant-1", "Tenant");
    let a = d.send(d.event("CONTINUE_EXTRACTING_DATA", "INITIAL")).await.unwrap();
    assert_eq!(a["event_type"], "DATA_EXTRACTION_DELAYED");
    assert!(has(&p.violations(), "delay must be an integer"), "{:#?}", p.violations());
}

#[tokio::test]
async fn soft_deletes_flow_through_to_the_verifier() {
    let del = json!({"id": "u2", "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-03-01T00:00:00Z",
        "data": {"deleted_in_source": true, "deleted_reason": "deleted"}});
    let (p, d) = setup(
        Knobs { users: Some(vec![user("u1", "Ann"), user("u2", "Bob")]), deletions: vec![del], ..Knobs::default() },
        5000,
    )
    .await;
    let r = d.initial_import().await.unwrap();
    assert!(r.violations.is_empty(), "{:#?}", r.violations);
    let store = p.store();
    assert_eq!(store.get("users", "u2").unwrap().data["display_name"], "Bob");
    let truth = json!({"users": [truth_user("u1", "Ann")], "deleted": {"users": [{"id": "u2", "reason": "deleted"}]}});
    let v = verify(&store, &truth);
    assert!(v.ok, "{:?}", v.mismatches);
    assert_eq!(v.per_type["users"].deleted, 1);
    let wrong = json!({"users": [truth_user("u1", "Ann")], "deleted": {"users": [{"id": "u2", "reason": "changed"}]}});
    assert!(!verify(&store, &wrong).ok);
}
