//! The simulator's recycle bin over real TLS: `/directory/deletedItems/microsoft.graph.{cast}` lists exactly
//! the soft-deleted users, groups, applications and service principals with their deletion time, paged.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use std::collections::BTreeSet;

use entra_airsync::sim::graph::{AppRegistration, MutationSpec};
use helpers::*;
use serde_json::Value;

fn ids_where(truth: &Value, key: &str, reason: &str) -> BTreeSet<String> {
    truth["deleted"][key]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"] == reason)
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every page of a listing, following nextLinks.
async fn all_pages(client: &reqwest::Client, tok: &str, first: &str) -> Vec<Value> {
    let (mut url, mut items) = (first.to_string(), Vec::new());
    loop {
        let (status, _, body) = get(client, tok, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        items.extend(body["value"].as_array().unwrap().iter().cloned());
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => return items,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recycle_bin_lists_soft_deleted_objects_with_their_deletion_time() {
    let (sim, client) = start(small(60)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let empty = all_pages(&client, &tok, &format!("{g}/v1.0/directory/deletedItems/microsoft.graph.user")).await;
    assert!(empty.is_empty(), "{empty:?}");

    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    sim.mutate(&MutationSpec { soft_delete: 6, hard_delete: 4, directory: 4, ..Default::default() });
    let truth = sim.truth();
    for (cast, key) in [
        ("user", "users"),
        ("group", "groups"),
        ("application", "applications"),
        ("servicePrincipal", "servicePrincipals"),
    ] {
        let url = format!("{g}/v1.0/directory/deletedItems/microsoft.graph.{cast}?$select=id,deletedDateTime&$top=2");
        let items = all_pages(&client, &tok, &url).await;
        let listed: BTreeSet<String> = items.iter().map(|o| o["id"].as_str().unwrap().to_string()).collect();
        assert_eq!(listed.len(), items.len(), "{cast}: an object listed twice");
        // Soft-deleted objects only: purged (hard-deleted) ones are gone from the bin, as in Graph.
        assert_eq!(listed, ids_where(&truth, key, "changed"), "{cast}");
        for o in &items {
            assert_eq!(o["@odata.type"], format!("#microsoft.graph.{cast}"));
            let at = chrono::DateTime::parse_from_rfc3339(o["deletedDateTime"].as_str().unwrap()).unwrap();
            assert!(at >= before, "{cast}: deleted at {at}, before the mutation");
            assert!(o.get("displayName").is_none(), "$select is honoured: {o}");
        }
    }
    assert!(!ids_where(&truth, "users", "changed").is_empty() && !ids_where(&truth, "users", "deleted").is_empty());

    // A later mutation keeps the earlier deletion times; restored users leave the bin.
    let url = format!("{g}/v1.0/directory/deletedItems/microsoft.graph.user?$select=id,deletedDateTime");
    let first = all_pages(&client, &tok, &url).await;
    sim.advance_clock(600);
    sim.mutate(&MutationSpec { soft_delete: 1, restore: 1, seed: 3, ..Default::default() });
    let second = all_pages(&client, &tok, &url).await;
    assert_eq!(second.len(), first.len(), "one restored, one more deleted");
    let kept = second.iter().filter(|o| first.iter().any(|f| f == *o)).count();
    assert_eq!(kept, first.len() - 1, "earlier deletions keep their time: {first:?} {second:?}");

    // Ordering by deletedDateTime is an advanced query.
    let (status, _, body) = get(&client, &tok, &format!("{url}&$orderby=deletedDateTime desc")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("Request_UnsupportedQuery")));
    let r = client
        .get(format!("{url}&$orderby=deletedDateTime desc&$count=true"))
        .bearer_auth(&tok)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["@odata.count"], second.len());
    let times: Vec<&str> =
        body["value"].as_array().unwrap().iter().map(|o| o["deletedDateTime"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // The cast is required, and must be a type with a recycle bin.
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/directory/deletedItems/microsoft.graph.device")).await;
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_groups_need_group_read_all() {
    let (sim, client) = start(small(20)).await;
    sim.register_app(AppRegistration {
        client_id: "33333333-2222-4333-8444-555555555555".into(),
        client_secret: "s3cret".into(),
        roles: vec!["GroupMember.Read.All".into(), "User.Read.All".into()],
        secret_expired: false,
    });
    let r = token_for(&client, &sim, "33333333-2222-4333-8444-555555555555", "s3cret").await;
    let tok = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let g = sim.info().graph_url;
    let (status, _, body) = get(&client, &tok, &format!("{g}/v1.0/directory/deletedItems/microsoft.graph.group")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("Authorization_RequestDenied")));
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/directory/deletedItems/microsoft.graph.user")).await;
    assert_eq!(status, 200);
}
