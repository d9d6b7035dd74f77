//! `sim platform` standalone mode: clap arguments, start the emulator, drive a worker (in-process or at
//! `--worker-url`) through an initial import and/or incremental sync, and print the reports as JSON.

use std::sync::Arc;

use serde_json::json;

use super::driver::{Connection, Driver, DriverOptions, HttpWorker, Spelling, WorkerHandle};
use super::{PlatformOptions, PlatformSim};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Initial,
    Incremental,
    Both,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PlatformSimArgs {
    /// Address the emulator listens on.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: std::net::SocketAddr,
    /// Base URL of the worker (`POST {url}/handle/async`); required unless a worker runs in-process.
    #[arg(long)]
    pub worker_url: Option<String>,
    /// Bearer token for the worker's `/handle/*`.
    #[arg(long, env = "AIRSYNC_INGRESS_TOKEN", hide_env_values = true)]
    pub worker_token: Option<String>,
    /// Entra tenant id or domain (`connection_data.org_id`).
    #[arg(long)]
    pub tenant: String,
    #[arg(long)]
    pub client_id: String,
    #[arg(long, hide_env_values = true)]
    pub client_secret: String,
    #[arg(long, value_enum, default_value = "initial")]
    pub mode: RunMode,
    /// Send the old (deprecated) incoming event-type spelling.
    #[arg(long)]
    pub old_spelling: bool,
    /// Seconds to wait for each callback.
    #[arg(long, default_value_t = 120)]
    pub answer_timeout_secs: u64,
}

/// Start the emulator, drive the worker, print `{"initial"?, "incremental"?, "violations", "route_counts"}`.
pub async fn run_standalone(args: PlatformSimArgs, in_process: Option<Arc<dyn WorkerHandle>>) -> anyhow::Result<()> {
    let platform = PlatformSim::start(PlatformOptions { listen: args.listen, ..PlatformOptions::default() }).await?;
    let worker: Arc<dyn WorkerHandle> = match (in_process, &args.worker_url) {
        (Some(w), _) => w,
        (None, Some(url)) => Arc::new(HttpWorker { url: url.clone(), bearer_token: args.worker_token.clone() }),
        (None, None) => {
            anyhow::bail!("--worker-url is required when no in-process worker is given")
        }
    };
    let driver = Driver::new(
        platform.clone(),
        worker,
        Connection::entra(&args.tenant, &args.client_id, &args.client_secret),
        DriverOptions {
            spelling: if args.old_spelling { Spelling::Old } else { Spelling::New },
            answer_timeout: std::time::Duration::from_secs(args.answer_timeout_secs),
            ..DriverOptions::default()
        },
    );
    let mut out = serde_json::Map::new();
    out.insert("devrev_endpoint".into(), json!(platform.base_url()));
    if matches!(args.mode, RunMode::Initial | RunMode::Both) {
        let r = driver.initial_import().await?;
        out.insert("initial".into(), serde_json::to_value(&r)?);
    }
    if matches!(args.mode, RunMode::Incremental | RunMode::Both) {
        let r = driver.incremental_sync().await?;
        out.insert("incremental".into(), serde_json::to_value(&r)?);
    }
    let store = platform.store();
    out.insert("records".into(), serde_json::to_value(store.counts())?);
    out.insert("loader".into(), serde_json::to_value(&store.counters)?);
    out.insert("idm_installs".into(), json!(platform.idm_installs()));
    out.insert("violations".into(), json!(platform.violations()));
    out.insert("route_counts".into(), serde_json::to_value(platform.route_counts())?);
    println!("{}", serde_json::Value::Object(out));
    platform.shutdown().await;
    Ok(())
}
