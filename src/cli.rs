//! The command line: the commands of DESIGN.md section 2 with their flags and environment fallbacks,
//! each a thin call into the library. `main.rs` only parses and hands over to `run`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::airsync::runner::Worker;
use crate::config::Config;
use crate::net::HostPolicy;

#[derive(Parser, Debug)]
#[command(name = "entra-airsync", version, about = "DevRev AirSync connector for Microsoft Entra ID")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run an initial import and an incremental sync against the built-in simulators, and verify them.
    Demo(DemoArgs),
    /// Process one event (or an array of events) from a file or stdin, as one invocation would.
    Handle(HandleArgs),
    /// Extract a tenant into a folder without DevRev (artifacts, state, report), with progress bars.
    Sync(crate::local::SyncArgs),
    /// Test a connection: token, granted permissions, licence, and which record types will sync.
    Check(crate::check::CheckArgs),
    /// The production worker: receive AirSync invocations over HTTP.
    Serve(ServeArgs),
    /// The simulators the worker is tested against.
    #[command(subcommand)]
    Sim(SimCommand),
    /// End-to-end benchmark against the simulators; prints one JSON object.
    Bench(crate::bench::BenchArgs),
    /// Randomized fault schedules against both simulators; prints one JSON object.
    Soak(crate::soak::SoakArgs),
    /// Exit 0 when a health URL answers 200 (for container health checks).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Microsoft Graph and the identity platform (HTTPS, own CA), with a synthetic tenant.
    Graph(crate::sim::graph::GraphSimArgs),
    /// The DevRev AirSync platform: drives a worker through an import or a sync.
    Platform(crate::sim::platform::PlatformSimArgs),
}

/// The worker's configuration flags (DESIGN.md section 2), each with its environment variable.
#[derive(Args, Debug, Clone)]
pub struct WorkerArgs {
    #[arg(long, env = "ENTRA_AUTHORITY_HOST", default_value = Config::DEFAULT_AUTHORITY_HOST)]
    pub authority_host: String,
    #[arg(long, env = "ENTRA_GRAPH_URL", default_value = Config::DEFAULT_GRAPH_URL)]
    pub graph_url: String,
    #[arg(long, env = "ENTRA_EXTRA_CA_PEM")]
    pub extra_ca_pem: Option<PathBuf>,
    #[arg(long, env = "AIRSYNC_ALLOWED_HOSTS", default_value = "*.devrev.ai")]
    pub allowed_hosts: String,
    #[arg(long, env = "AIRSYNC_SOFT_TIMEOUT_SECS", default_value_t = 600)]
    pub soft_timeout_secs: u64,
}

impl WorkerArgs {
    pub fn config(&self) -> Config {
        Config {
            authority_host: self.authority_host.clone(),
            graph_url: self.graph_url.clone(),
            extra_ca_pem: self.extra_ca_pem.clone(),
            allowed_hosts: HostPolicy::parse(&self.allowed_hosts),
            soft_timeout: Duration::from_secs(self.soft_timeout_secs.max(1)),
            ..Config::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct HandleArgs {
    /// A JSON file holding one event or an array of events; `-` or nothing reads stdin.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Bearer token required on /handle/*.
    #[arg(long, env = "AIRSYNC_INGRESS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve without a token (only on a loopback address).
    #[arg(long)]
    pub insecure_no_auth: bool,
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    #[arg(long, default_value_t = 4)]
    pub max_concurrency: usize,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Users in the simulated tenant.
    #[arg(long, default_value_t = 1000)]
    pub users: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where artifacts and the report are written.
    #[arg(long, default_value = "demo-out")]
    pub out: PathBuf,
}

fn read_events(file: Option<&PathBuf>) -> Result<Vec<Value>, String> {
    let text = match file {
        Some(p) if p.as_os_str() != "-" => {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?
        }
        _ => std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read stdin: {e}"))?,
    };
    match serde_json::from_str::<Value>(&text).map_err(|e| format!("the input is not valid JSON: {e}"))? {
        Value::Array(events) => Ok(events),
        event @ Value::Object(_) => Ok(vec![event]),
        _ => Err("the input must be an event object or an array of events".into()),
    }
}

async fn handle(args: HandleArgs) -> Result<(), String> {
    let events = read_events(args.file.as_ref())?;
    let worker = Worker::new(args.worker.config()).map_err(|e| e.to_string())?;
    let mut unanswered = Vec::new();
    for (i, event) in events.into_iter().enumerate() {
        if let Err(why) = worker.handle(event).await {
            unanswered.push(format!("event {}: {why}", i + 1));
        }
    }
    match unanswered.is_empty() {
        true => Ok(()),
        false => Err(unanswered.join("; ")),
    }
}

async fn bench(args: crate::bench::BenchArgs) -> Result<(), String> {
    let json_only = args.json;
    let result = crate::bench::run(args).await.map_err(|e| format!("{e:#}"))?;
    if !json_only {
        eprintln!(
            "wall {:.2} s, lower bound {:.2} s, ratio {:.2}, verified {}",
            result["wall_s"].as_f64().unwrap_or(0.0),
            result["lower_bound_s"].as_f64().unwrap_or(0.0),
            result["ratio"].as_f64().unwrap_or(0.0),
            result["verified"]
        );
    }
    println!("{result}");
    match result["verified"].as_bool() {
        Some(true) => Ok(()),
        _ => Err("the DevRev view does not match the tenant".into()),
    }
}

async fn soak(args: crate::soak::SoakArgs) -> Result<(), String> {
    let result = crate::soak::run(args).await.map_err(|e| format!("{e:#}"))?;
    println!("{result}");
    let lost = result["records_lost"].as_u64().unwrap_or(0);
    let failures = result["failures"].as_array().map_or(0, Vec::len);
    match (lost, failures) {
        (0, 0) => Ok(()),
        _ => Err(format!("{lost} records lost, {failures} failed runs")),
    }
}

/// Runs a parsed command line; the process exit code says whether it succeeded.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Handle(args) => handle(args).await,
        Command::Serve(args) => crate::serve::serve(args).await,
        Command::Sync(args) => crate::local::run(args).await,
        Command::Check(args) => crate::check::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Bench(args) => bench(args).await,
        Command::Soak(args) => soak(args).await,
        Command::Healthcheck { url } => crate::healthcheck::run(&url).await,
        Command::Sim(SimCommand::Graph(args)) => {
            crate::sim::graph::run_standalone(args).await.map_err(|e| format!("{e:#}"))
        }
        Command::Sim(SimCommand::Platform(args)) => {
            crate::sim::platform::run_standalone(args, None).await.map_err(|e| format!("{e:#}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
