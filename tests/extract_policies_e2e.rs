//! End-to-end: the worker's policy, report and log record types and the users' custom fields against the
//! Graph simulator and the AirSync platform emulator — a full Governance tenant (initial + incremental with
//! activity), a Free tenant with half the permissions (skipped types cost nothing), the extension fallback.

use std::collections::BTreeMap;
use std::time::Duration;

use entra_airsync::sim::graph::{Licence, MutationSpec, PolicyKnobs};
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use serde_json::{json, Value};

const MY_TYPES: [&str; 8] = [
    "authentication_methods",
    "user_registration_details",
    "authentication_methods_policy",
    "conditional_access_policies",
    "pim_eligible_roles",
    "lifecycle_workflows",
    "directory_audit_logs",
    "sign_in_logs",
];

const DONE: [&str; 4] = [
    "EXTERNAL_SYNC_UNIT_EXTRACTION_DONE",
    "METADATA_EXTRACTION_DONE",
    "DATA_EXTRACTION_DONE",
    "ATTACHMENT_EXTRACTION_DONE",
];

fn routes(h: &Harness) -> BTreeMap<String, u64> {
    let stats = h.graph.stats();
    stats["requests_per_route"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

fn requests_matching(routes: &BTreeMap<String, u64>, part: &str) -> u64 {
    routes.iter().filter(|(k, _)| k.contains(part)).map(|(_, v)| v).sum()
}

/// The `event_data.statistics` of a data phase answered to a START sent by hand.
async fn data_statistics(h: &Harness, mode: &str) -> Value {
    let answer = h.driver.send(h.driver.event("START_EXTRACTING_DATA", mode)).await.unwrap();
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DONE", "{answer}");
    answer["event_data"]["statistics"].clone()
}

fn stat<'a>(stats: &'a Value, record_type: &str) -> &'a Value {
    stats.as_array().and_then(|l| l.iter().find(|s| s["record_type"] == record_type)).unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_governance_tenant_syncs_every_type_then_only_what_changed() {
    let h = Harness::start(HarnessOptions { users: 300, ..HarnessOptions::default() }).await.unwrap();
    let initial = h.driver.initial_import().await.unwrap();
    assert_eq!(initial.answers, DONE, "{:?}", initial.errors);
    assert!(initial.violations.is_empty(), "{:?}", initial.violations);
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
    // The methods come from the registration report: Graph throttles per-user method reads under the
    // reports limits (5 / 10 s), which would take days on a large tenant.
    let r = routes(&h);
    assert_eq!(requests_matching(&r, "authentication/methods"), 0, "per-user method reads: {r:?}");
    assert!(requests_matching(&r, "userRegistrationDetails") >= 1, "{r:?}");
    for t in MY_TYPES.iter().chain(&["user_custom_fields"]) {
        let c = &report.per_type[*t];
        assert!(c.expected > 0 && c.present >= c.expected, "{t}: {c:?}");
    }
    let initial_methods = initial.items_by_type["authentication_methods"];
    let store = h.platform.store();
    let (_, user) =
        store.iter("users").find(|(_, u)| u.data["ext_attr_1"].is_string()).expect("a user with ext_attr_1");
    assert!(user.data.as_object().unwrap().keys().any(|k| k.ends_with("_costcenter")), "directory extension sent");
    let metadata = store.metadata.clone().unwrap();
    assert!(metadata["record_types"]["users"]["fields"]["ext_attr_15"].is_object());
    assert_eq!(metadata["record_types"]["conditional_access_policies"]["is_snapshot"], true);
    let idm = store.idm.clone().unwrap();
    let custom =
        &idm["record_type_mappings"]["users"]["possible_record_type_mappings"][0]["shard"]["constructed_custom_fields"];
    assert_eq!(custom.as_object().map(|m| m.len()), Some(17), "15 on-premises attributes and 2 extensions mapped");

    h.graph.mutate(&MutationSpec { activity: 10, update: 20, seed: 11, ..MutationSpec::default() });
    h.graph.reset_stats();
    let incremental = h.driver.incremental_sync().await.unwrap();
    assert_eq!(incremental.answers, DONE[1..], "{:?}", incremental.errors);
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
    let r = routes(&h);
    // No per-user storm: the methods come from the registration report (no per-user method read, each a
    // reports-bucket request), and the named users' rows from one page of it (cheaper than one row each).
    assert_eq!(requests_matching(&r, "authentication/methods"), 0, "per-user method reads: {r:?}");
    assert_eq!(requests_matching(&r, "userRegistrationDetails"), 1, "{r:?}");
    assert_eq!(r.get("GET /v1.0/users").copied().unwrap_or(0), 0, "no user list in an incremental sync: {r:?}");
    let methods = incremental.items_by_type.get("authentication_methods").copied().unwrap_or(0);
    // Per named user: the registration row, its methods and the deletion of each known method it no longer has.
    let rows = incremental.items_by_type.get("user_registration_details").copied().unwrap_or(0) as u64;
    assert!((1..=30).contains(&rows), "incremental re-read {rows} registration rows");
    let per_user = entra_airsync::schema::REGISTERED_METHODS.len() as u64;
    let methods = methods as u64;
    assert!(
        methods > 0 && methods <= rows * per_user && methods < initial_methods as u64,
        "incremental sent {methods} methods"
    );
    let logs = incremental.items_by_type.get("directory_audit_logs").copied().unwrap_or(0);
    assert!((40..=200).contains(&logs), "new audit events plus the overlap: {logs}");
    assert!(incremental.items_by_type.get("sign_in_logs").copied().unwrap_or(0) >= 10);

    // The answer lists per-type statistics.
    let stats = data_statistics(&h, "INCREMENTAL").await;
    for t in MY_TYPES {
        assert_eq!(stat(&stats, t)["status"], "done", "{t}: {stats}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_free_tenant_with_half_the_permissions_skips_what_it_cannot_read_for_free() {
    let granted = [
        "User.Read.All",
        "GroupMember.Read.All",
        "Directory.Read.All",
        "Device.Read.All",
        "UserAuthenticationMethod.Read.All",
        "Organization.Read.All",
        "AuditLog.Read.All",
    ];
    let opts = HarnessOptions {
        users: 150,
        licence: Licence::Free,
        roles: Some(granted.iter().map(|r| r.to_string()).collect()),
        ..HarnessOptions::default()
    };
    let h = Harness::start(opts).await.unwrap();
    let initial = h.driver.initial_import().await.unwrap();
    assert_eq!(initial.answers, DONE, "{:?}", initial.errors);
    let r = routes(&h);
    for gated in [
        "policies/authenticationMethodsPolicy",
        "conditionalAccess",
        "roleEligibilitySchedules",
        "lifecycleWorkflows",
        "auditLogs/signIns",
        "userRegistrationDetails",
    ] {
        assert_eq!(requests_matching(&r, gated), 0, "a skipped type spent requests on {gated}: {r:?}");
    }
    let store = h.platform.store();
    for skipped in [
        "user_registration_details",
        "authentication_methods_policy",
        "conditional_access_policies",
        "pim_eligible_roles",
        "lifecycle_workflows",
        "sign_in_logs",
    ] {
        assert_eq!(store.count(skipped), 0, "{skipped} has records");
    }
    assert!(store.count("authentication_methods") > 0 && store.count("directory_audit_logs") > 0);
    // Without the report (Free), the methods are read per user.
    assert!(requests_matching(&r, "authentication/methods") >= 150, "{r:?}");
    // Free retention: nothing older than 7 days was asked for.
    let week_ago = chrono::Utc::now() - chrono::Duration::days(7) - chrono::Duration::minutes(30);
    for (_, rec) in store.iter("directory_audit_logs") {
        let t = chrono::DateTime::parse_from_rfc3339(rec.created_date.as_str().unwrap()).unwrap();
        assert!(t > week_ago, "an audit event older than the Free retention: {}", rec.created_date);
    }
    // The verifier, told what the app may not read (the policy needs Policy.Read.*).
    let mut truth = h.graph.truth();
    truth["authenticationMethodsPolicy"] = json!({});
    let report = entra_airsync::sim::platform::verify(&store, &truth);
    assert!(report.ok, "{:?}", report.mismatches);

    h.graph.mutate(&MutationSpec { activity: 5, seed: 3, ..MutationSpec::default() });
    h.graph.reset_stats();
    let incremental = h.driver.incremental_sync().await.unwrap();
    assert_eq!(incremental.answers, DONE[1..], "{:?}", incremental.errors);
    let r = routes(&h);
    assert_eq!(requests_matching(&r, "conditionalAccess") + requests_matching(&r, "signIns"), 0, "{r:?}");
    let mut truth = h.graph.truth();
    truth["authenticationMethodsPolicy"] = json!({});
    let report = entra_airsync::sim::platform::verify(&h.platform.store(), &truth);
    assert!(report.ok, "{:?}", report.mismatches);

    let stats = data_statistics(&h, "INCREMENTAL").await;
    let policy = stat(&stats, "authentication_methods_policy");
    assert_eq!(policy["status"], "skipped", "{stats}");
    assert_eq!(policy["skip"], "permission");
    assert!(policy["reason"].as_str().unwrap().contains("Policy.Read.All"), "{policy}");
    let pim = stat(&stats, "pim_eligible_roles");
    assert_eq!(pim["skip"], "permission", "{stats}");
    let sign_ins = stat(&stats, "sign_in_logs");
    assert_eq!((sign_ins["status"].as_str(), sign_ins["skip"].as_str()), (Some("skipped"), Some("licence")), "{stats}");
    assert!(sign_ins["reason"].as_str().unwrap().contains("P1 or P2"));
    assert_eq!(stat(&stats, "directory_audit_logs")["status"], "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p1_tenant_gets_sign_ins_but_not_pim_nor_workflows() {
    let opts = HarnessOptions { users: 120, licence: Licence::P1, ..HarnessOptions::default() };
    let h = Harness::start(opts).await.unwrap();
    let run = h.driver.initial_import().await.unwrap();
    assert_eq!(run.answers, DONE, "{:?}", run.errors);
    let r = routes(&h);
    assert_eq!(requests_matching(&r, "roleEligibilitySchedules") + requests_matching(&r, "lifecycleWorkflows"), 0);
    let store = h.platform.store();
    assert!(store.count("sign_in_logs") > 0 && store.count("user_registration_details") == 120);
    assert!(store.count("conditional_access_policies") > 0);
    assert_eq!(store.count("pim_eligible_roles") + store.count("lifecycle_workflows"), 0);
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extensions_are_found_per_application_when_the_tenant_wide_call_returns_nothing() {
    let h = Harness::start(HarnessOptions { users: 100, ..HarnessOptions::default() }).await.unwrap();
    h.graph.policies().set_knobs(PolicyKnobs { extension_properties_empty: Some(true), ..PolicyKnobs::default() });
    let run = h.driver.initial_import().await.unwrap();
    assert_eq!(run.answers, DONE, "{:?}", run.errors);
    let r = routes(&h);
    assert!(requests_matching(&r, "extensionProperties") > 0, "{r:?}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
    let store = h.platform.store();
    let fields = &store.metadata.clone().unwrap()["record_types"]["users"]["fields"];
    assert_eq!(
        fields.as_object().unwrap().keys().filter(|k| k.starts_with("ext_") && !k.starts_with("ext_attr")).count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_timeouts_resume_every_type_without_loss() {
    let opts = HarnessOptions {
        users: 1500,
        soft_timeout: Duration::from_secs(1),
        latency_ms: 100,
        batch_size: 200,
        ..HarnessOptions::default()
    };
    let h = Harness::start(opts).await.unwrap();
    let run = h.driver.initial_import().await.unwrap();
    assert!(
        run.answers.iter().filter(|a| *a == "DATA_EXTRACTION_PROGRESS").count() >= 2,
        "{:?} {:?}",
        run.answers,
        run.errors
    );
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.errors);
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
    h.graph.mutate(&MutationSpec { activity: 20, seed: 9, ..MutationSpec::default() });
    let run = h.driver.incremental_sync().await.unwrap();
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.errors);
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
}

/// A harness after its initial import, then the tenant changed by `changes`; the requests per route so far
/// (to count what the incremental sync that follows sends, with `sent_since`); and the simulator's summary
/// of the changes.
async fn imported_then_changed(opts: HarnessOptions, changes: MutationSpec) -> (Harness, BTreeMap<String, u64>, Value) {
    let h = Harness::start(opts).await.unwrap();
    let run = h.driver.initial_import().await.unwrap();
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.errors);
    let summary = h.graph.mutate(&changes);
    let before = routes(&h);
    (h, before, summary)
}

/// The requests whose route contains `part` sent since `before` was taken.
fn sent_since(h: &Harness, before: &BTreeMap<String, u64>, part: &str) -> u64 {
    requests_matching(&routes(h), part) - requests_matching(before, part)
}

/// Runs an incremental sync that must end done without errors.
async fn incremental_done(h: &Harness) -> Vec<String> {
    let run = h.driver.incremental_sync().await.unwrap();
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(run.answers.last().map(String::as_str), Some("ATTACHMENT_EXTRACTION_DONE"), "{:?}", run.answers);
    run.answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_set_larger_than_an_invocation_is_reread_across_invocations() {
    // A Free tenant re-reads each changed user's methods on its own (a report-bucket request, one $batch
    // envelope each). About 200 changed users on a slow Graph take longer than the 1 s soft timeout and
    // its 3 s hard timeout: the re-read must pause between steps and go on where it stopped.
    let opts = HarnessOptions {
        users: 400,
        soft_timeout: Duration::from_secs(1),
        latency_ms: 100,
        licence: Licence::Free,
        max_invocations: 40,
        ..HarnessOptions::default()
    };
    let changes = MutationSpec { activity: 300, seed: 3, ..MutationSpec::default() };
    let (h, before, _) = imported_then_changed(opts, changes).await;
    let answers = incremental_done(&h).await;
    let progress = answers.iter().filter(|a| *a == "DATA_EXTRACTION_PROGRESS").count();
    assert!(progress >= 2, "the re-read spans invocations: {answers:?}");
    let reread = sent_since(&h, &before, "/authentication/methods");
    assert!(reread <= 300, "each changed user is re-read once, not again in every invocation: {reread}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_report_read_again_in_full_resumes_where_it_paused() {
    // More users changed than the report has pages: the report is read again in full, four pages of
    // 999 rows on a slow Graph, longer than the 1 s soft timeout. A paused read goes on from its page.
    // The changes span several audit pages (1,000 events each), and the later invocations read the
    // audit window themselves: its changes are taken together, so the report is still read only once.
    let opts = HarnessOptions {
        users: 3500,
        soft_timeout: Duration::from_secs(1),
        latency_ms: 400,
        max_invocations: 40,
        ..HarnessOptions::default()
    };
    let changes = MutationSpec { activity: 400, seed: 5, ..MutationSpec::default() };
    let (h, before, summary) = imported_then_changed(opts, changes).await;
    let events = summary["activity"]["directory_audits"].as_u64().unwrap_or(0);
    assert!(events > 1000, "the window spans audit pages: {summary}");
    let answers = incremental_done(&h).await;
    let progress = answers.iter().filter(|a| *a == "DATA_EXTRACTION_PROGRESS").count();
    assert!(progress >= 2, "the read spans invocations: {answers:?}");
    let pages = sent_since(&h, &before, "userRegistrationDetails");
    assert!((4..=6).contains(&pages), "the report read once more, not from its start in every invocation: {pages}");
    let report = h.verify();
    assert!(report.ok, "{:?}", report.mismatches);
}
