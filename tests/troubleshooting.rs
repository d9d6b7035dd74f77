//! One test per troubleshooting case of the product documentation that no other test covers: the answer
//! (or log) carries the words the documentation tells the admin to look for. Already covered elsewhere:
//! a wrong secret (e2e_sync.rs, check_command.rs) and workflows in the `check` table (check_command.rs).

mod common;

use entra_airsync::sim::graph::{AppRegistration, Faults, Licence};
use entra_airsync::sim::harness::{Harness, HarnessOptions};
use entra_airsync::sim::platform::Connection;
use serde_json::Value;

async fn harness(opts: HarnessOptions) -> Harness {
    Harness::start(HarnessOptions { users: 40, ..opts }).await.expect("simulators start")
}

/// The answer to START_EXTRACTING_DATA for this connection.
async fn data_answer(h: &Harness, connection: Connection) -> Value {
    let driver = Harness::driver_for(&h.platform, &h.worker, connection, false);
    driver.send(driver.event("START_EXTRACTING_DATA", "INITIAL")).await.expect("an answer")
}

fn error_message(answer: &Value) -> String {
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_ERROR", "{answer}");
    answer["event_data"]["error"]["message"].as_str().unwrap_or_default().to_string()
}

fn stat<'a>(answer: &'a Value, record_type: &str) -> &'a Value {
    let list = answer["event_data"]["statistics"].as_array().expect("statistics in the answer");
    list.iter().find(|s| s["record_type"] == record_type).expect("the record type is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_client_secret_says_so_and_what_to_do() {
    let h = harness(HarnessOptions::default()).await;
    let (id, secret) = ("6c7d8e9f-0a1b-4c2d-8e3f-405162738495", "Expired~Secret.Value-0123456789");
    let app =
        AppRegistration { client_id: id.into(), client_secret: secret.into(), roles: vec![], secret_expired: true };
    h.graph.register_app(app);
    let message = error_message(&data_answer(&h, Connection::entra(&h.info.tenant_id, id, secret)).await);
    assert!(message.contains("Authentication failed (AADSTS7000222)"), "{message}");
    assert!(message.contains("the client secret has expired"), "{message}");
    assert!(message.contains("Create a new client secret"), "{message}");
    assert!(!message.contains(secret), "the secret leaked: {message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tenant_is_named_as_such() {
    let h = harness(HarnessOptions::default()).await;
    let unknown = "00000000-1111-4222-8333-444455556666";
    let message =
        error_message(&data_answer(&h, Connection::entra(unknown, &h.info.client_id, &h.info.client_secret)).await);
    assert!(message.contains("Authentication failed (AADSTS90002)"), "{message}");
    assert!(message.contains("the tenant was not found"), "{message}");
    assert!(message.contains("Verify the Tenant ID"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_admin_consent_skips_every_type_with_the_permission_to_grant() {
    // Without admin consent the app's token carries no application permission at all.
    let h = harness(HarnessOptions { roles: Some(vec![]), ..HarnessOptions::default() }).await;
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let answer = data_answer(&h, connection).await;
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DONE", "no sync failure occurs: {answer}");
    let users = stat(&answer, "users");
    assert_eq!(users["status"], "skipped", "{users}");
    let reason = users["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("Permission denied"), "{reason}");
    assert!(reason.contains("User.Read.All") && reason.contains("admin consent"), "{reason}");
    assert_eq!(h.platform.store().count("users"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_skips_only_its_types_and_names_the_permission() {
    let roles = ["User.Read.All", "Group.Read.All", "GroupMember.Read.All", "Directory.Read.All"];
    let opts = HarnessOptions { roles: Some(roles.iter().map(|r| r.to_string()).collect()), ..Default::default() };
    let h = harness(opts).await;
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let answer = data_answer(&h, connection).await;
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DONE", "{answer}");
    assert_eq!(stat(&answer, "users")["status"], "done", "other entities continue syncing");
    let ca = stat(&answer, "conditional_access_policies");
    assert_eq!((ca["status"].as_str(), ca["skip"].as_str()), (Some("skipped"), Some("permission")), "{ca}");
    let reason = ca["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("Permission denied") && reason.contains("Policy.Read.All"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pim_and_lifecycle_workflows_without_their_licence_are_skipped_as_expected() {
    let h = harness(HarnessOptions { licence: Licence::P1, ..HarnessOptions::default() }).await;
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let answer = data_answer(&h, connection).await;
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DONE", "{answer}");
    let pim = stat(&answer, "pim_eligible_roles");
    assert_eq!((pim["status"].as_str(), pim["skip"].as_str()), (Some("skipped"), Some("licence")), "{pim}");
    assert!(pim["reason"].as_str().unwrap_or_default().contains("requires Azure AD Premium P2 license"), "{pim}");
    let lw = stat(&answer, "lifecycle_workflows");
    assert_eq!((lw["status"].as_str(), lw["skip"].as_str()), (Some("skipped"), Some("licence")), "{lw}");
    let reason = lw["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("requires Entra ID Governance license") && reason.contains("skipped automatically"));
}

/// The only test here that installs a global log subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limiting_logs_rate_limit_exceeded_and_answers_delayed() {
    let capture = common::capture_logs("entra_airsync=warn", false);
    let h = harness(HarnessOptions::default()).await;
    h.graph.set_faults(Faults { throttle_next: 100, throttle_retry_after: "0.1".into(), ..Faults::default() });
    let connection = Connection::entra(&h.info.tenant_id, &h.info.client_id, &h.info.client_secret);
    let answer = data_answer(&h, connection).await;
    assert_eq!(answer["event_type"], "DATA_EXTRACTION_DELAYED", "{answer}");
    assert!(answer["event_data"]["delay"].as_u64().is_some_and(|d| d >= 1), "{answer}");
    let logs = capture.text();
    assert!(logs.contains("Rate limit exceeded"), "{logs}");
}
