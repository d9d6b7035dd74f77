//! Graph simulator audit and sign-in logs over real TLS: `$filter` time windows, newest-first paging,
//! retention per licence on the sim clock, and activity mutations showing up in truth and windows.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{GraphSimOptions, Licence, MutationSpec};
use helpers::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn iso(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn ts(v: &Value, prop: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v[prop].as_str().unwrap()).unwrap().with_timezone(&chrono::Utc)
}

/// Walk all pages; asserts newest-first order across pages and unique ids.
async fn walk(client: &reqwest::Client, tok: &str, first: &str, prop: &str) -> (Vec<Value>, usize) {
    let (mut url, mut out, mut pages) = (first.to_string(), Vec::<Value>::new(), 0);
    loop {
        let (status, _, v) = get(client, tok, &url).await;
        assert_eq!(status, 200, "{url}: {v}");
        out.extend(v["value"].as_array().unwrap().iter().cloned());
        pages += 1;
        match v.get("@odata.nextLink").and_then(Value::as_str) {
            Some(n) => {
                assert!(n.contains("$skiptoken="), "{n}");
                url = n.to_string();
            }
            None => break,
        }
    }
    for w in out.windows(2) {
        assert!(ts(&w[0], prop) >= ts(&w[1], prop), "not newest first: {} then {}", w[0][prop], w[1][prop]);
    }
    let ids: BTreeSet<&str> = out.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), out.len(), "duplicate ids across pages");
    (out, pages)
}

fn ids(v: &[Value]) -> BTreeSet<String> {
    v.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn windows_are_exact_complete_and_newest_first() {
    let (sim, client) = start(GraphSimOptions { users: 400, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let now = chrono::Utc::now().timestamp();
    let truth = sim.truth();
    let (lo, hi) = (now - 20 * 86_400, now - 5 * 86_400);
    for (path, prop, key) in [
        ("auditLogs/directoryAudits", "activityDateTime", "directoryAudits"),
        ("auditLogs/signIns", "createdDateTime", "signIns"),
    ] {
        let filter = format!("{prop} ge {} and {prop} le {}", iso(lo), iso(hi));
        let (got, pages) = walk(&client, &tok, &format!("{g}/{path}?$filter={}&$top=37", enc(&filter)), prop).await;
        let expected: Vec<Value> = truth[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| (lo..=hi).contains(&ts(e, prop).timestamp()))
            .cloned()
            .collect();
        assert!(expected.len() > 100, "{key}: {}", expected.len());
        assert_eq!(pages, expected.len().div_ceil(37));
        assert_eq!(got, expected, "{key}: window must equal truth's events in [ge, le]");
        assert!(got.iter().all(|e| (lo..=hi).contains(&ts(e, prop).timestamp())));

        // No filter: everything inside the 30-day retention, single page of ≤ 1,000.
        let (all, _) = walk(&client, &tok, &format!("{g}/{path}"), prop).await;
        assert_eq!(all, *truth[key].as_array().unwrap());
        assert!(all.iter().all(|e| ts(e, prop).timestamp() >= now - 30 * 86_400));
        let (status, _, v) = get(&client, &tok, &format!("{g}/{path}?$top=1001")).await;
        assert_eq!(status, 400, "{v}");
        let (status, _, _) =
            get(&client, &tok, &format!("{g}/{path}?$filter={}", enc(&format!("{prop} ge yesterday")))).await;
        assert_eq!(status, 400);
    }

    // Other clauses combine with the window.
    let filter = format!("activityDateTime ge {} and category eq 'UserManagement'", iso(now - 3 * 86_400));
    let (got, _) = walk(
        &client,
        &tok,
        &format!("{g}/auditLogs/directoryAudits?$filter={}&$top=10", enc(&filter)),
        "activityDateTime",
    )
    .await;
    assert!(!got.is_empty() && got.iter().all(|e| e["category"] == "UserManagement"));
    let audits = truth["directoryAudits"].as_array().unwrap();
    for name in ["Update user", "User registered security info", "User changed default security info"] {
        let e = audits.iter().find(|e| e["activityDisplayName"] == name).expect(name);
        assert_eq!(e["category"], "UserManagement");
        assert_eq!(e["targetResources"][0]["type"], "User");
        assert!(e["id"].as_str().unwrap().contains('_'));
    }
    let s = &truth["signIns"][0];
    for k in ["userId", "appDisplayName", "status", "location", "deviceDetail", "appliedConditionalAccessPolicies"] {
        assert!(s.get(k).is_some(), "{k}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn retention_follows_licence_and_sim_clock() {
    for (licence, days) in [(Licence::Free, 7), (Licence::P1, 30)] {
        let (sim, client) = start(GraphSimOptions { users: 300, licence, ..Default::default() }).await;
        let tok = token(&client, &sim).await;
        let g = format!("{}/v1.0", sim.info().graph_url);
        let now = chrono::Utc::now().timestamp();
        let filter = format!("activityDateTime ge {}", iso(now - 40 * 86_400));
        let url = format!("{g}/auditLogs/directoryAudits?$filter={}&$top=100", enc(&filter));
        let (got, _) = walk(&client, &tok, &url, "activityDateTime").await;
        let truth = sim.truth();
        assert_eq!(ids(&got), ids(truth["directoryAudits"].as_array().unwrap()), "{licence:?}");
        let oldest = got.last().map(|e| ts(e, "activityDateTime").timestamp()).unwrap();
        assert!(oldest >= now - days * 86_400, "{licence:?}: {oldest} older than {days} days");
        assert!(oldest < now - (days - 1) * 86_400, "{licence:?}: history reaches back to the limit");

        // Two simulated days later the oldest two days are gone, from the truth and the API alike.
        sim.advance_clock(2 * 86_400);
        let tok = token(&client, &sim).await;
        let (later, _) = walk(&client, &tok, &url, "activityDateTime").await;
        let truth_later = sim.truth();
        assert_eq!(ids(&later), ids(truth_later["directoryAudits"].as_array().unwrap()));
        assert!(later.len() < got.len());
        assert!(later.iter().all(|e| ts(e, "activityDateTime").timestamp() >= now + 2 * 86_400 - days * 86_400));
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn activity_mutations_reach_truth_and_windows() {
    let (sim, client) = start(GraphSimOptions { users: 120, ..Default::default() }).await;
    let tok = token(&client, &sim).await;
    let g = format!("{}/v1.0", sim.info().graph_url);
    let before = sim.truth();
    let methods_of = |truth: &Value| -> BTreeMap<String, Vec<Value>> {
        let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for e in truth["authenticationMethods"].as_array().unwrap() {
            m.entry(e["userId"].as_str().unwrap().into()).or_default().push(e["method"].clone());
        }
        m
    };
    let t0 = chrono::Utc::now().timestamp();
    let answer = sim.mutate(&MutationSpec { activity: 6, seed: 11, ..Default::default() });
    let a = &answer["activity"];
    assert_eq!(a["sign_ins"], 6);
    assert_eq!(a["auth_method_changes"], 6);
    assert_eq!(a["directory_audits"], 6 + 6 + 3 * 6);
    let after = sim.truth();
    let n = |t: &Value, k: &str| t[k].as_array().unwrap().len() as i64;
    assert_eq!(n(&after, "directoryAudits"), n(&before, "directoryAudits") + 30);
    assert_eq!(n(&after, "signIns"), n(&before, "signIns") + 6);
    for (key, fam) in [
        ("conditionalAccessPolicies", "conditional_access"),
        ("roleEligibilitySchedules", "pim"),
        ("workflows", "workflows"),
    ] {
        let f = &a[fam];
        assert_eq!(f["created"].as_i64().unwrap() + f["updated"].as_i64().unwrap() + f["deleted"].as_i64().unwrap(), 6);
        assert!(f["created"].as_i64().unwrap() >= 2 && f["deleted"].as_i64().unwrap() >= 1, "{fam}: {f}");
        let delta = f["created"].as_i64().unwrap() - f["deleted"].as_i64().unwrap();
        assert_eq!(n(&after, key), n(&before, key) + delta, "{key}");
    }
    assert_ne!(after["authenticationMethodsPolicy"], before["authenticationMethodsPolicy"]);

    // The new events are the newest and fall inside a window starting just before the mutation.
    let filter = format!("activityDateTime ge {}", iso(t0 - 5));
    let (recent, _) =
        walk(&client, &tok, &format!("{g}/auditLogs/directoryAudits?$filter={}", enc(&filter)), "activityDateTime")
            .await;
    assert_eq!(recent.len(), 30);
    let filter = format!("createdDateTime ge {}", iso(t0 - 5));
    let (signins, _) =
        walk(&client, &tok, &format!("{g}/auditLogs/signIns?$filter={}", enc(&filter)), "createdDateTime").await;
    assert_eq!(signins.len(), 6);

    // Each security-info event names a user whose methods changed, in the truth and at the API.
    let (m0, m1) = (methods_of(&before), methods_of(&after));
    let security: Vec<&Value> = recent.iter().filter(|e| e["loggedByService"] == "Authentication Methods").collect();
    assert_eq!(security.len(), 6);
    for e in security {
        assert_eq!(e["category"], "UserManagement");
        let name = e["activityDisplayName"].as_str().unwrap();
        assert!(name.starts_with("User ") && name.ends_with(" security info"), "{name}");
        let uid = e["targetResources"][0]["id"].as_str().unwrap();
        assert_ne!(m0.get(uid), m1.get(uid), "{uid} did not change");
        let (_, _, v) = get(&client, &tok, &format!("{g}/users/{uid}/authentication/methods")).await;
        assert_eq!(v["value"].as_array().unwrap(), &m1[uid]);
        let (_, _, row) =
            get(&client, &tok, &format!("{g}/reports/authenticationMethods/userRegistrationDetails/{uid}")).await;
        assert!(ts(&row, "lastUpdatedDateTime").timestamp() >= t0 - 5, "{row}");
    }
    let policy_events = recent.iter().filter(|e| e["category"] == "Policy").count();
    assert_eq!(policy_events, 6);

    // Mutations are deterministic: the same seed on a fresh simulator gives the same ids.
    let (sim2, _) = start(GraphSimOptions { users: 120, ..Default::default() }).await;
    sim2.mutate(&MutationSpec { activity: 6, seed: 11, ..Default::default() });
    let t2 = sim2.truth();
    assert_eq!(ids(t2["directoryAudits"].as_array().unwrap()), ids(after["directoryAudits"].as_array().unwrap()));
    // (Timestamps follow the sim clock; compare identities.)
    for key in ["conditionalAccessPolicies", "roleEligibilitySchedules", "workflows"] {
        assert_eq!(ids(t2[key].as_array().unwrap()), ids(after[key].as_array().unwrap()), "{key}");
    }
    let method_ids = |t: &Value| -> Vec<(String, String)> {
        let list = t["authenticationMethods"].as_array().unwrap();
        list.iter().map(|e| (e["userId"].to_string(), e["method"]["id"].to_string())).collect()
    };
    assert_eq!(method_ids(&t2), method_ids(&after));
    sim.shutdown().await;
    sim2.shutdown().await;
}
