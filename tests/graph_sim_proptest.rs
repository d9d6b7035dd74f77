//! Property test of the Graph simulator's delta: for random page-size ranges and mutation sets,
//! the merged initial round equals the truth, and applying the next round yields the new truth.

#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{GraphSimOptions, MutationSpec};
use helpers::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

async fn check(users: usize, page_min: usize, span: usize, seed: u64, spec: MutationSpec, spec2: MutationSpec) {
    let opts = GraphSimOptions { users, seed, page_min, page_max: page_min + span, ..Default::default() };
    let (sim, client) = start(opts).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let sel = select_all(&sim);
    let round = delta_round(&client, &tok, &format!("{g}/v1.0/users/delta?$select={sel}")).await;
    let n = round.page_sizes.len();
    assert!(round.page_sizes[..n - 1].iter().all(|s| (page_min..=page_min + span).contains(s)));
    let mut replica = BTreeMap::new();
    apply(&mut replica, &round.entries);
    assert_eq!(replica, truth_users(&sim.truth()));

    sim.mutate(&spec);
    sim.mutate(&spec2);
    let truth = sim.truth();
    let round2 = delta_round(&client, &tok, &round.delta_link).await;
    let deleted = truth_deleted(&truth);
    for e in &round2.entries {
        if let Some(r) = e.get("@removed") {
            let id = e["id"].as_str().unwrap_or_default();
            assert_eq!(deleted.get(id).map(String::as_str), r["reason"].as_str());
        }
    }
    apply(&mut replica, &round2.entries);
    assert_eq!(replica, truth_users(&truth));
    sim.shutdown().await;
}

fn spec() -> impl Strategy<Value = MutationSpec> {
    (0..25usize, 0..25usize, 0..25usize, 0..10usize, 0..15usize, any::<u64>()).prop_map(
        |(create, update, soft_delete, restore, hard_delete, seed)| MutationSpec {
            create,
            update,
            soft_delete,
            restore,
            hard_delete,
            seed,
            ..Default::default()
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn delta_rounds_converge_to_truth(
        users in 0..400usize,
        page_min in 1..60usize,
        span in 0..120usize,
        seed in any::<u64>(),
        s1 in spec(),
        s2 in spec(),
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(check(users, page_min, span, seed, s1, s2));
    }
}
