//! Directory delta over real TLS: groups with `members@delta` (split large groups, change rounds,
//! removals), every other delta type against the truth, and the delta faults (410, expiry, replay).

#[path = "graph_sim_directory_helpers.rs"]
mod dh;
#[path = "graph_sim_helpers.rs"]
mod helpers;

use dh::{check_removals, delta_pages, truth_deleted, truth_links, truth_objects, Replica};
use entra_airsync::sim::graph::{Faults, MutationSpec};
use helpers::{small, start, token};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[tokio::test]
async fn groups_delta_with_members_converges_to_truth() {
    let (sim, client) = start(small(1000)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let groups = truth_objects(&truth, "groups");
    let members = truth_links(&truth, "groupMembers", "groupId");
    assert_eq!(groups.len(), 200);
    let total: usize = members.values().map(BTreeMap::len).sum();
    assert!((4000..=6000).contains(&total), "memberships {total}");
    let types: BTreeSet<&str> = members.values().flat_map(|m| m.values().map(String::as_str)).collect();
    assert_eq!(types, BTreeSet::from(["user", "group", "servicePrincipal", "device", "orgContact"]));
    let big: Vec<&String> = members.iter().filter(|(_, m)| m.len() > 600).map(|(id, _)| id).collect();
    assert!(!big.is_empty(), "some groups have more than 600 members");
    assert!(groups.values().any(|g| g["groupTypes"] == serde_json::json!(["Unified"])));
    assert!(groups.values().any(|g| g["membershipRule"].is_string()));
    assert!(groups.values().any(|g| g["mailEnabled"] == true && g["securityEnabled"] == false));

    let round = delta_pages(&client, &tok, &format!("{g}/v1.0/groups/delta")).await;
    let mut replica = Replica::default();
    replica.apply(&round.entries());
    assert_eq!(replica.objects, groups);
    assert_eq!(replica.links, members);

    // A large group is split across consecutive pages, repeated with disjoint slices.
    let big = big[0].as_str();
    let pages_with: Vec<usize> =
        (0..round.pages.len()).filter(|&i| round.pages[i].iter().any(|e| e["id"] == big)).collect();
    assert!(pages_with.len() >= 2, "{big} on pages {pages_with:?}");
    assert!(pages_with.windows(2).all(|w| w[1] == w[0] + 1), "consecutive pages: {pages_with:?}");
    let mut seen = BTreeSet::new();
    for e in round.entries().iter().filter(|e| e["id"] == big) {
        assert_eq!(e["displayName"], groups[big]["displayName"]);
        for m in e["members@delta"].as_array().unwrap() {
            assert!(seen.insert(m["id"].as_str().unwrap().to_string()), "member listed twice");
        }
    }
    // Groups without members omit the annotation; no slice is empty.
    for e in round.entries() {
        let id = e["id"].as_str().unwrap();
        match e.get("members@delta") {
            Some(m) => assert!(!m.as_array().unwrap().is_empty()),
            None => assert!(!members.contains_key(id), "{id} has members but no members@delta"),
        }
    }

    // Changes: directory mutations plus user deletions (which drop their memberships).
    let s = sim.mutate(&MutationSpec { directory: 12, soft_delete: 10, hard_delete: 5, seed: 3, ..Default::default() });
    assert_eq!(s["directory"]["groups"]["created"], 12, "{s}");
    assert!(s["directory"]["purged_links"].as_u64().unwrap() > 0, "{s}");
    sim.mutate(&MutationSpec { directory: 5, update: 3, seed: 4, ..Default::default() });
    let truth2 = sim.truth();
    let round2 = delta_pages(&client, &tok, &round.delta_link).await;
    let entries = round2.entries();
    check_removals(&entries, &truth_deleted(&truth2, "groups"));
    assert!(entries.iter().any(|e| e["@removed"]["reason"] == "changed"));
    assert!(entries.iter().any(|e| e["@removed"]["reason"] == "deleted"));
    let removed_links = entries
        .iter()
        .flat_map(|e| e.get("members@delta").and_then(Value::as_array).cloned().unwrap_or_default())
        .filter(|m| m.get("@removed").is_some())
        .count();
    assert!(removed_links >= 10, "removed links {removed_links}");
    assert!(entries.len() < 200, "only changes: {}", entries.len());
    replica.apply(&entries);
    assert_eq!(replica.objects, truth_objects(&truth2, "groups"));
    assert_eq!(replica.links, truth_links(&truth2, "groupMembers", "groupId"));

    // Nothing changed: an empty page and a fresh link.
    let round3 = delta_pages(&client, &tok, &round2.delta_link).await;
    assert!(round3.entries().is_empty());
    assert_ne!(round3.delta_link, round2.delta_link);
    sim.shutdown().await;
}

#[tokio::test]
async fn groups_delta_select_controls_properties_and_members() {
    let (sim, client) = start(small(300)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let members = truth_links(&truth, "groupMembers", "groupId");

    let round =
        delta_pages(&client, &tok, &format!("{g}/beta/groups/microsoft.graph.delta?$select=displayName,members")).await;
    let mut replica = Replica::default();
    replica.apply(&round.entries());
    assert_eq!(replica.links, members);
    assert!(replica
        .objects
        .values()
        .all(|o| o.as_object().unwrap().keys().collect::<Vec<_>>() == ["displayName", "id"]));

    let round = delta_pages(&client, &tok, &format!("{g}/v1.0/groups/delta?$select=displayName,mail")).await;
    assert!(round.entries().iter().all(|e| e.get("members@delta").is_none()));
    assert_eq!(round.entries().len(), 60);
    // Membership-only changes do not surface groups when members are not tracked.
    let spec = MutationSpec { soft_delete: 20, seed: 1, ..Default::default() };
    sim.mutate(&spec);
    let round2 = delta_pages(&client, &tok, &round.delta_link).await;
    assert!(round2.entries().is_empty(), "{:?}", round2.entries());

    let (status, _, v) = dh::get(&client, &tok, &format!("{g}/v1.0/groups/delta?$select=nope")).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["message"], "Could not find a property named 'nope' on type 'microsoft.graph.group'.");
    let (status, _, v) = dh::get(&client, &tok, &format!("{g}/v1.0/groups/delta?$deltatoken=latest")).await;
    assert_eq!(status, 200);
    assert!(v["value"].as_array().unwrap().is_empty() && v["@odata.deltaLink"].is_string());
    sim.shutdown().await;
}

/// Initial round == truth, then mutations, then the change round applied == new truth.
async fn check_type(collection: &str, truth_key: &str, links: Option<(&str, &str)>, deleted_key: Option<&str>) {
    let (sim, client) = start(small(600)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let truth = sim.truth();
    let round = delta_pages(&client, &tok, &format!("{g}/v1.0/{collection}/delta")).await;
    let mut replica = Replica::default();
    replica.apply(&round.entries());
    assert!(!replica.objects.is_empty(), "{collection}");
    assert_eq!(replica.objects, truth_objects(&truth, truth_key), "{collection}");
    if let Some((key, owner)) = links {
        assert_eq!(replica.links, truth_links(&truth, key, owner), "{collection}");
    }
    let s = sim.mutate(&MutationSpec { directory: 6, soft_delete: 30, seed: 11, ..Default::default() });
    sim.mutate(&MutationSpec { directory: 3, hard_delete: 10, seed: 12, ..Default::default() });
    let truth2 = sim.truth();
    let round2 = delta_pages(&client, &tok, &round.delta_link).await;
    let entries = round2.entries();
    assert!(!entries.is_empty(), "{collection}: {s}");
    if let Some(k) = deleted_key {
        check_removals(&entries, &truth_deleted(&truth2, k));
        assert!(entries.iter().any(|e| e.get("@removed").is_some()), "{collection}");
    }
    replica.apply(&entries);
    assert_eq!(replica.objects, truth_objects(&truth2, truth_key), "{collection}");
    if let Some((key, owner)) = links {
        assert_eq!(replica.links, truth_links(&truth2, key, owner), "{collection}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn directory_roles_delta() {
    check_type("directoryRoles", "directoryRoles", Some(("directoryRoleMembers", "roleId")), None).await;
}

#[tokio::test]
async fn applications_delta() {
    check_type("applications", "applications", None, Some("applications")).await;
}

#[tokio::test]
async fn service_principals_delta() {
    check_type("servicePrincipals", "servicePrincipals", None, Some("servicePrincipals")).await;
}

#[tokio::test]
async fn devices_delta() {
    check_type("devices", "devices", None, Some("devices")).await;
}

#[tokio::test]
async fn contacts_delta() {
    check_type("contacts", "contacts", None, Some("contacts")).await;
}

#[tokio::test]
async fn delta_faults_apply_to_directory_types() {
    let (sim, client) = start(small(200)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let round = delta_pages(&client, &tok, &format!("{g}/v1.0/devices/delta")).await;

    // A devices token is refused on another type; a garbage token too.
    let link = round.delta_link.replace("/devices/delta", "/contacts/delta");
    let (status, _, v) = dh::get(&client, &tok, &link).await;
    assert_eq!((status, v["error"]["code"].as_str()), (400, Some("Request_BadRequest")));
    let (status, _, _) = dh::get(&client, &tok, &format!("{g}/v1.0/groups/delta?$skiptoken=abc")).await;
    assert_eq!(status, 400);

    sim.set_faults(Faults { gone_next: 1, ..Faults::default() });
    let r = client.get(&round.delta_link).bearer_auth(&tok).send().await.unwrap();
    assert_eq!(r.status(), 410);
    assert_eq!(r.headers()["location"], format!("{g}/v1.0/devices/delta?$deltatoken=").as_str());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "resyncRequired");
    let restart = delta_pages(&client, &tok, &location).await;
    assert_eq!(restart.entries().len(), round.entries().len(), "the Location starts a full round");

    // Replays and an empty first page still converge.
    sim.set_faults(Faults { replay_changes: 5, empty_first_page: true, ..Faults::default() });
    sim.mutate(&MutationSpec { directory: 4, seed: 2, ..Default::default() });
    sim.mutate(&MutationSpec { directory: 4, seed: 3, ..Default::default() });
    let mut replica = Replica::default();
    replica.apply(&round.entries());
    let round2 = delta_pages(&client, &tok, &round.delta_link).await;
    assert!(round2.pages[0].is_empty());
    replica.apply(&round2.entries());
    let truth = sim.truth();
    assert_eq!(replica.objects, truth_objects(&truth, "devices"));

    sim.set_faults(Faults::default());
    sim.advance_clock(8 * 86_400);
    let tok = token(&client, &sim).await;
    let (status, _, v) = dh::get(&client, &tok, &round2.delta_link).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"]["code"], "syncStateNotFound");
    sim.shutdown().await;
}
