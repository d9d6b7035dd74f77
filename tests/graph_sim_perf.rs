//! Scale checks for the Graph simulator (ignored by default; run with
//! `cargo test --release --test graph_sim_perf -- --ignored --nocapture`).

#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{GraphSimOptions, MutationSpec};
use helpers::*;
use std::time::Instant;

#[tokio::test]
async fn hundred_thousand_users_start_quickly() {
    let t = Instant::now();
    let (sim, client) = start(GraphSimOptions { users: 100_000, ..Default::default() }).await;
    let startup = t.elapsed();
    assert!(startup.as_secs() < 10, "startup {startup:?}");
    let tok = token(&client, &sim).await;
    let (status, _, v) = get(&client, &tok, &format!("{}/v1.0/users?$top=999", sim.info().graph_url)).await;
    assert_eq!(status, 200);
    assert_eq!(v["value"].as_array().map(Vec::len), Some(999));
}

#[tokio::test]
#[ignore]
async fn million_users_full_delta_round() {
    let t = Instant::now();
    let (sim, client) =
        start(GraphSimOptions { users: 1_000_000, page_min: 500, page_max: 999, ..Default::default() }).await;
    println!("start: {:?}", t.elapsed());
    let tok = token(&client, &sim).await;
    let t = Instant::now();
    let round = delta_round(
        &client,
        &tok,
        &format!("{}/v1.0/users/delta?$select=id,displayName,mail,accountEnabled", sim.info().graph_url),
    )
    .await;
    println!("initial round: {} entries, {} pages, {:?}", round.entries.len(), round.page_sizes.len(), t.elapsed());
    assert_eq!(round.entries.len(), 1_000_000);
    let t = Instant::now();
    sim.mutate(&MutationSpec {
        create: 5000,
        update: 5000,
        soft_delete: 2000,
        hard_delete: 1000,
        restore: 0,
        seed: 1,
        ..Default::default()
    });
    println!("mutate: {:?}", t.elapsed());
    let round2 = delta_round(&client, &tok, &round.delta_link).await;
    println!("change round: {} entries, {:?}", round2.entries.len(), t.elapsed());
}
