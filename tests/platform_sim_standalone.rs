//! Tests of the emulator's standalone entry point (`run_standalone` with an in-process worker) and of the
//! HttpWorker delivery path when the worker is unreachable.

#[path = "platform_sim_common.rs"]
mod common;

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use entra_airsync::sim::platform::{
    run_standalone, Connection, Driver, DriverOptions, HttpWorker, PlatformOptions, PlatformSim, PlatformSimArgs,
    WorkerHandle,
};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: PlatformSimArgs,
}

#[tokio::test]
async fn standalone_runs_both_modes_in_process() {
    let cli = Cli::parse_from([
        "x",
        "--tenant",
        "t1",
        "--client-id",
        "c",
        "--client-secret",
        "s",
        "--mode",
        "both",
        "--old-spelling",
        "--answer-timeout-secs",
        "10",
    ]);
    let w: Arc<dyn WorkerHandle> = common::worker(common::Knobs::default());
    run_standalone(cli.args, Some(w)).await.unwrap();
}

#[tokio::test]
async fn standalone_needs_a_worker() {
    let cli = Cli::parse_from(["x", "--tenant", "t1", "--client-id", "c", "--client-secret", "s"]);
    assert!(run_standalone(cli.args, None).await.is_err());
}

#[tokio::test]
async fn unreachable_http_worker_is_reported() {
    let p = PlatformSim::start(PlatformOptions::default()).await.unwrap();
    let d = Driver::new(
        p.clone(),
        Arc::new(HttpWorker { url: "http://127.0.0.1:9".into(), bearer_token: Some("t".into()) }),
        Connection::entra("t", "c", "s"),
        DriverOptions { answer_timeout: Duration::from_secs(2), ..DriverOptions::default() },
    );
    let r = d.initial_import().await.unwrap();
    assert!(r.answers.is_empty());
    assert!(r.errors[0].contains("delivering START_EXTRACTING_EXTERNAL_SYNC_UNITS failed"), "{:?}", r.errors);
    p.shutdown().await;
}
