//! Scale check of the directory simulator (ignored by default; run with
//! `cargo test --release --test graph_sim_directory_perf -- --ignored --nocapture`).

#[path = "graph_sim_directory_helpers.rs"]
mod dh;
#[path = "graph_sim_helpers.rs"]
mod helpers;

use entra_airsync::sim::graph::{GraphSimOptions, MutationSpec};
use helpers::{start, token};
use std::time::Instant;

fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test]
#[ignore]
async fn hundred_thousand_users_directory() {
    let before = rss_mb();
    let t = Instant::now();
    let (sim, client) =
        start(GraphSimOptions { users: 100_000, page_min: 200, page_max: 999, ..Default::default() }).await;
    let startup = t.elapsed();
    println!("start: {startup:?}, rss {} MB (+{} MB)", rss_mb(), rss_mb().saturating_sub(before));
    assert!(startup.as_secs() < 10, "startup {startup:?}");
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let t = Instant::now();
    let round = dh::delta_pages(&client, &tok, &format!("{g}/v1.0/groups/delta?$select=id,displayName,members")).await;
    let mut replica = dh::Replica::default();
    replica.apply(&round.entries());
    let links: usize = replica.links.values().map(|m| m.len()).sum();
    println!(
        "groups round: {} groups, {links} links, {} pages, {:?}",
        replica.objects.len(),
        round.pages.len(),
        t.elapsed()
    );
    assert_eq!(replica.objects.len(), 20_000);
    assert!(links > 450_000, "{links}");
    let t = Instant::now();
    let s = sim.mutate(&MutationSpec {
        directory: 1000,
        soft_delete: 1000,
        hard_delete: 500,
        seed: 1,
        ..Default::default()
    });
    println!("mutate: {:?} {}", t.elapsed(), s["directory"]["purged_links"]);
    let t = Instant::now();
    let truth = sim.truth();
    println!("truth: {:?}, {} memberships", t.elapsed(), truth["groupMembers"].as_array().map_or(0, Vec::len));
    let t = Instant::now();
    let round2 = dh::delta_pages(&client, &tok, &round.delta_link).await;
    replica.apply(&round2.entries());
    println!("change round: {} entries, {:?}", round2.entries().len(), t.elapsed());
    assert_eq!(replica.links, dh::truth_links(&truth, "groupMembers", "groupId"));
}
