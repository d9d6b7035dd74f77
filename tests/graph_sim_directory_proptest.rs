//! Property test of groups + members delta: for random tenants, page sizes and mutations (directory
//! and users), the merged initial round equals the truth, and so does the replica after the next round.

#[path = "graph_sim_directory_helpers.rs"]
mod dh;
#[path = "graph_sim_helpers.rs"]
mod helpers;

use dh::{check_removals, delta_pages, truth_deleted, truth_links, truth_objects, Replica};
use entra_airsync::sim::graph::{GraphSimOptions, MutationSpec};
use helpers::{start, token};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Tenant {
    users: usize,
    groups: Option<usize>,
    memberships: Option<usize>,
    page_min: usize,
    span: usize,
    seed: u64,
}

async fn check(t: Tenant, specs: Vec<MutationSpec>, select: bool) {
    let opts = GraphSimOptions {
        users: t.users,
        groups: t.groups,
        memberships: t.memberships,
        seed: t.seed,
        page_min: t.page_min,
        page_max: t.page_min + t.span,
        ..Default::default()
    };
    let (sim, client) = start(opts).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let url = if select {
        format!("{g}/v1.0/groups/delta?$select=displayName,groupTypes,members")
    } else {
        format!("{g}/v1.0/groups/delta")
    };
    let round = delta_pages(&client, &tok, &url).await;
    let n = round.pages.len();
    assert!(round.pages[..n - 1].iter().all(|p| p.len() <= t.page_min + t.span));
    let mut replica = Replica::default();
    replica.apply(&round.entries());
    let truth = sim.truth();
    assert_eq!(replica.links, truth_links(&truth, "groupMembers", "groupId"));
    if !select {
        assert_eq!(replica.objects, truth_objects(&truth, "groups"));
    }
    assert_eq!(replica.objects.len(), truth["groups"].as_array().unwrap().len());

    for s in &specs {
        sim.mutate(s);
    }
    let truth = sim.truth();
    let round2 = delta_pages(&client, &tok, &round.delta_link).await;
    check_removals(&round2.entries(), &truth_deleted(&truth, "groups"));
    replica.apply(&round2.entries());
    assert_eq!(replica.links, truth_links(&truth, "groupMembers", "groupId"));
    if !select {
        assert_eq!(replica.objects, truth_objects(&truth, "groups"));
    }
    let ids: Vec<String> = replica.objects.keys().cloned().collect();
    assert_eq!(ids, truth_objects(&truth, "groups").into_keys().collect::<Vec<_>>());
    sim.shutdown().await;
}

fn tenant() -> impl Strategy<Value = Tenant> {
    (0..400usize, prop::option::of(0..60usize), prop::option::of(0..2500usize), 1..40usize, 0..60usize, any::<u64>())
        .prop_map(|(users, groups, memberships, page_min, span, seed)| Tenant {
            users,
            groups,
            memberships,
            page_min,
            span,
            seed,
        })
}

fn spec() -> impl Strategy<Value = MutationSpec> {
    (0..15usize, 0..10usize, 0..6usize, 0..6usize, any::<u64>()).prop_map(|(directory, update, soft, hard, seed)| {
        MutationSpec { directory, update, soft_delete: soft, hard_delete: hard, seed, ..Default::default() }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20, ..ProptestConfig::default() })]
    #[test]
    fn groups_and_members_delta_converge_to_truth(t in tenant(), specs in prop::collection::vec(spec(), 1..3), select in any::<bool>()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(check(t, specs, select));
    }
}
