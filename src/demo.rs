//! The `demo` command: the embedded default. Starts both simulators on loopback, runs an initial import,
//! mutates the tenant, runs an incremental sync, verifies the DevRev view against the tenant after each,
//! prints a per-record-type summary and writes the DevRev view and a summary under the output folder.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use serde_json::{json, Value};

use crate::cli::DemoArgs;
use crate::sim::graph::MutationSpec;
use crate::sim::harness::{Harness, HarnessOptions};
use crate::sim::platform::{RunReport, VerifyReport};

fn table(title: &str, run: &RunReport, verify: &VerifyReport, seconds: f64) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n{title}: {} invocations in {seconds:.1} s", run.answers.len());
    let _ = writeln!(out, "  answers: {}", run.answers.join(" → "));
    let _ =
        writeln!(out, "  {:<30} {:>8} {:>10} {:>10} {:>8}", "record type", "sent", "in tenant", "in DevRev", "deleted");
    for (record_type, counts) in &verify.per_type {
        let sent = run.items_by_type.get(record_type).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "  {:<30} {:>8} {:>10} {:>10} {:>8}",
            record_type, sent, counts.expected, counts.present, counts.deleted
        );
    }
    let _ = writeln!(out, "  DevRev view matches the tenant: {}", if verify.ok { "yes" } else { "NO" });
    for m in verify.mismatches.iter().take(10) {
        let _ = writeln!(out, "    mismatch: {m}");
    }
    for e in run.errors.iter().chain(run.violations.iter()).take(10) {
        let _ = writeln!(out, "    problem: {e}");
    }
    out
}

fn write_outputs(
    dir: &Path,
    harness: &Harness,
    summary: &Value,
    runs: &[&RunReport],
    check: &VerifyReport,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut counts = std::collections::BTreeMap::new();
    for (record_type, c) in &check.per_type {
        let sent: usize = runs.iter().map(|r| r.items_by_type.get(record_type).copied().unwrap_or(0)).sum();
        counts.insert(record_type.clone(), (sent as u64, Some(c.present as u64)));
    }
    let subtitle = format!(
        "Initial import and incremental sync of a simulated tenant; DevRev view matches the tenant: {}",
        if check.ok { "yes" } else { "NO" }
    );
    let page = crate::report::render("entra-airsync demo", &subtitle, &harness.history, &counts);
    std::fs::write(dir.join("report.html"), page)?;
    let store = harness.platform.store();
    for record_type in store.counts().keys() {
        let mut text = String::new();
        for (_, record) in store.iter(record_type) {
            text.push_str(&serde_json::to_string(&record).unwrap_or_default());
            text.push('\n');
        }
        std::fs::write(dir.join(format!("devrev-{record_type}.jsonl")), text)?;
    }
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(summary).unwrap_or_default())
}

pub async fn run(args: DemoArgs) -> Result<(), String> {
    let started = Instant::now();
    let opts = HarnessOptions { users: args.users, seed: args.seed, ..HarnessOptions::default() };
    let harness = Harness::start(opts).await.map_err(|e| format!("the simulators could not start: {e:#}"))?;
    println!(
        "entra-airsync demo: simulated tenant of {} users (seed {}); Graph simulator at {}, DevRev emulator at {}",
        args.users,
        args.seed,
        harness.info.graph_url,
        harness.platform.base_url()
    );

    let t = Instant::now();
    let initial = harness.driver.initial_import().await.map_err(|e| format!("initial import failed: {e:#}"))?;
    let initial_check = harness.verify();
    print!("{}", table("initial import", &initial, &initial_check, t.elapsed().as_secs_f64()));

    // Soft-delete first, so that the second round can restore some of those users.
    let spec = MutationSpec {
        create: 50,
        update: 50,
        soft_delete: 60,
        restore: 0,
        hard_delete: 50,
        directory: 10,
        activity: 10,
        seed: args.seed + 1,
    };
    let first = harness.graph.mutate(&spec);
    let second = harness.graph.mutate(&MutationSpec { restore: 10, seed: args.seed + 2, ..MutationSpec::default() });
    let mutations = json!({"changes": first, "restores": second});
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    println!(
        "\ntenant changed: users {} created, {} updated, {} soft-deleted, {} hard-deleted, then {} restored; \
         every directory type {} creates, updates and deletes with membership changes; {} audit and sign-in events",
        n(&first, "created"),
        n(&first, "updated"),
        n(&first, "soft_deleted"),
        n(&first, "hard_deleted"),
        n(&second, "restored"),
        spec.directory,
        spec.activity
    );

    let t = Instant::now();
    let incremental = harness.driver.incremental_sync().await.map_err(|e| format!("incremental sync failed: {e:#}"))?;
    let incremental_check = harness.verify();
    print!("{}", table("incremental sync", &incremental, &incremental_check, t.elapsed().as_secs_f64()));

    let ok = initial_check.ok && incremental_check.ok && initial.errors.is_empty() && incremental.errors.is_empty();
    let summary = json!({
        "ok": ok,
        "initial": {"run": initial, "verify": initial_check},
        "mutations": mutations,
        "incremental": {"run": incremental, "verify": incremental_check},
        "graph_stats": harness.graph.stats(),
        "platform_routes": harness.platform.route_counts(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    write_outputs(&args.out, &harness, &summary, &[&initial, &incremental], &incremental_check)
        .map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!(
        "\nDevRev view, summary.json and report.html written to {}/ ({:.1} s in all)",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    if ok {
        println!(
            "the DevRev view matches the simulated tenant after the initial import and after the incremental sync"
        );
        Ok(())
    } else {
        Err("the DevRev view does not match the simulated tenant (see above)".into())
    }
}
