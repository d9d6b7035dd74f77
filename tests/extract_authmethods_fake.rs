//! The registration report's incremental re-read against a small scripted Graph over loopback HTTP, when
//! the worker reads the audit window itself: the window's pages taken together, a long window in parts, a
//! paused re-read resumed.

#[path = "common/scripted_graph.rs"]
mod scripted_graph;
#[path = "common/static_token.rs"]
mod static_token;
use scripted_graph::{fake_with, sync_time, Fake};

use std::time::Duration;

use entra_airsync::airsync::state::TypeState;
use entra_airsync::extract::{authmethods, Extractor, Stop};
use entra_airsync::graph::limiter::Limits;
use serde_json::{json, Value};

const AUDITS: &str = "/v1.0/auditLogs/directoryAudits";
const ROWS: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

/// A "User registered security info" event for each user.
fn events(users: &[String]) -> Vec<Value> {
    users
        .iter()
        .map(|u| {
            json!({"activityDisplayName": "User registered security info", "activityDateTime": "2026-11-27T07:30:00Z",
                   "targetResources": [{"id": u, "type": "User"}]})
        })
        .collect()
}

/// An audit window of one page per entry of `pages` (the users its events name), and a report row for
/// every user; the worker keeps to a reports bucket the test need not wait for.
async fn window(pages: &[Vec<String>], deadline_in: Duration) -> Fake {
    let mut routes: Vec<(String, Value)> = Vec::new();
    for (i, users) in pages.iter().enumerate() {
        let key = if i == 0 { AUDITS.to_string() } else { format!("{AUDITS}#p{i}") };
        let mut page = json!({"value": events(users)});
        if i + 1 < pages.len() {
            page["@odata.nextLink"] = json!(format!("{{base}}{AUDITS}?$skiptoken=p{}", i + 1));
        }
        routes.push((key, page));
        for u in users {
            let row = json!({"id": u, "userPrincipalName": format!("{u}@contoso.example"), "isMfaRegistered": true});
            routes.push((format!("{ROWS}/{u}"), row));
        }
    }
    let routes = routes.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    fake_with(routes, deadline_in, Limits { identity_ru_per_10s: 8000, reports_per_10s: 1000, ..Limits::default() })
        .await
}

/// After a full read of a 100,000-row report (101 pages: fewer named users are read row by row).
fn incremental() -> TypeState {
    TypeState {
        watermark: Some(sync_time() - chrono::Duration::hours(1)),
        population: Some(100_000),
        ..TypeState::default()
    }
}

fn users(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("u{i:03}")).collect()
}

/// The users whose report row was read, sorted (a step's reads run concurrently), repeats included.
fn rows_read(f: &Fake) -> Vec<String> {
    let log = f.log();
    let mut read: Vec<String> =
        log.iter().filter_map(|l| l.strip_prefix(&format!("batch {ROWS}/"))).map(str::to_string).collect();
    read.sort();
    read
}

#[tokio::test]
async fn the_audit_pages_of_a_window_are_taken_together_even_past_the_deadline() {
    // u001 is named on two pages; the deadline has already passed when the run starts.
    let pages = [users(1..4), vec!["u001".to_string(), "u004".to_string()], users(5..7)];
    let f = window(&pages, Duration::ZERO).await;
    let mut state = incremental();
    let ex = authmethods::user_registration_details();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Finished);
    let audits = f.log().iter().filter(|l| l.starts_with(&format!("GET {AUDITS}"))).count();
    assert_eq!(audits, 3, "every page of the window, although the deadline had passed: {:?}", f.log());
    assert_eq!(rows_read(&f), users(1..7), "each named user's row once, in one step");
    assert_eq!(state.watermark, Some(sync_time()));
    assert!(state.next_link.is_none() && state.reread_after.is_none());
    f.ctx.sink.flush().await.unwrap();
    assert_eq!(f.store.records("user_registration_details").len(), 6);
}

#[tokio::test]
async fn a_paused_re_read_collects_the_same_pages_again_and_goes_on_after_its_last_user() {
    // 30 named users over two pages: the first step (20 users) runs past the deadline, then it pauses.
    let pages = [users(0..15), users(15..30)];
    let f = window(&pages, Duration::ZERO).await;
    let mut state = incremental();
    let ex = authmethods::user_registration_details();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Paused);
    assert_eq!(rows_read(&f), users(0..20));
    assert!(state.next_link.is_none(), "the cursor stays on the part's first page");
    assert_eq!(state.reread_after.as_deref(), Some("u019"));
    let mut ctx = f.ctx;
    ctx.deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let next = Fake { ctx, ..f };
    assert_eq!(ex.run(&next.ctx, &mut state).await.unwrap(), Stop::Finished);
    assert_eq!(rows_read(&next), users(0..30), "every user once: the rest after where the first run stopped");
    let audits = next.log().iter().filter(|l| l.starts_with(&format!("GET {AUDITS}"))).count();
    assert_eq!(audits, 4, "the two pages once per run");
    assert_eq!(state.watermark, Some(sync_time()));
}

#[tokio::test]
async fn a_window_longer_than_a_part_is_re_read_a_part_at_a_time() {
    // One user per audit page, two pages more than a part; the deadline has already passed.
    let pages: Vec<Vec<String>> = (0..authmethods::PART_PAGES + 2).map(|i| users(i..i + 1)).collect();
    let f = window(&pages, Duration::ZERO).await;
    let mut state = incremental();
    let ex = authmethods::user_registration_details();
    assert_eq!(ex.run(&f.ctx, &mut state).await.unwrap(), Stop::Paused);
    assert_eq!(rows_read(&f), users(0..authmethods::PART_PAGES), "the first part, then the deadline");
    let cursor = state.next_link.clone().unwrap_or_default();
    assert!(cursor.ends_with(&format!("$skiptoken=p{}", authmethods::PART_PAGES)), "on the next part: {cursor}");
    let mut ctx = f.ctx;
    ctx.deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let next = Fake { ctx, ..f };
    assert_eq!(ex.run(&next.ctx, &mut state).await.unwrap(), Stop::Finished);
    assert_eq!(rows_read(&next), users(0..authmethods::PART_PAGES + 2), "every user once");
    let audits = next.log().iter().filter(|l| l.starts_with(&format!("GET {AUDITS}"))).count();
    assert_eq!(audits, authmethods::PART_PAGES + 2, "every audit page once");
}
