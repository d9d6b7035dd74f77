//! Microsoft Graph + identity-platform simulator: public API (`GraphSim`, options, CLI args).
//! One HTTPS server on loopback serves the token endpoint, Graph `/v1.0|/beta`, and `/_sim/`.

mod control;
mod directory;
mod errors;
mod gen;
mod http;
mod metadata;
mod model;
pub mod policies;
mod recycle;
mod server;
mod state;
mod tenant;
mod tls;
mod token;
mod tokens;
mod truth;
mod users;

pub use directory::DirectoryArgs;
pub use model::{DEFAULT_PROPERTIES, USER_PROPERTIES};
pub use policies::{FaultKind, FaultProfile, Licence, PolicyKnobs};
pub use state::Faults;
pub use token::ALL_ROLES;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use state::Shared;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How to start the simulator.
#[derive(Clone, Debug)]
pub struct GraphSimOptions {
    pub listen: SocketAddr,
    pub users: usize,
    pub seed: u64,
    pub latency_ms: u64,
    pub per_object_us: u64,
    pub ca_out: Option<PathBuf>,
    /// Delta page sizes are drawn (seeded) from `page_min..=page_max`.
    pub page_min: usize,
    pub page_max: usize,
    pub throttling: bool,
    /// The tenant's Entra ID licence (gates premium reports, PIM, workflows, CA; log retention).
    pub licence: Licence,
    /// Faults injected into Graph routes (`--faults none|flaky|hostile`).
    pub faults: FaultProfile,
    /// Directory counts; `None` derives them from `users` (docs/contracts.md §3).
    pub groups: Option<usize>,
    pub devices: Option<usize>,
    pub applications: Option<usize>,
    pub service_principals: Option<usize>,
    pub contacts: Option<usize>,
    /// Total group memberships (default 5 per user).
    pub memberships: Option<usize>,
}

impl Default for GraphSimOptions {
    fn default() -> Self {
        GraphSimOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            users: 1000,
            seed: 42,
            latency_ms: 0,
            per_object_us: 0,
            ca_out: None,
            page_min: 50,
            page_max: 250,
            throttling: false,
            licence: Licence::default(),
            faults: FaultProfile::default(),
            groups: None,
            devices: None,
            applications: None,
            service_principals: None,
            contacts: None,
            memberships: None,
        }
    }
}

/// What a client needs to talk to the simulator (printed by `sim graph`, served at `/_sim/info`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimInfo {
    pub authority_host: String,
    pub graph_url: String,
    /// Path of the CA PEM file.
    pub ca_pem: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub licence: Licence,
    #[serde(default)]
    pub faults: FaultProfile,
}

/// A deterministic batch of tenant changes (targets picked from `seed`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MutationSpec {
    pub create: usize,
    pub update: usize,
    pub soft_delete: usize,
    pub restore: usize,
    pub hard_delete: usize,
    pub seed: u64,
    /// New audit events and sign-ins, auth-method changes, CA/PIM/workflow changes (contracts §3).
    pub activity: usize,
    /// Per directory type: that many creates, updates, deletes, membership adds and removes.
    pub directory: usize,
}

/// An app registration in the simulated tenant.
#[derive(Clone, Debug)]
pub struct AppRegistration {
    pub client_id: String,
    pub client_secret: String,
    pub roles: Vec<String>,
    pub secret_expired: bool,
}

/// Handle of a running simulator; dropping it or calling [`GraphSim::shutdown`] stops the server.
pub struct GraphSim {
    shared: Arc<Shared>,
    info: SimInfo,
    ca_pem: String,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl GraphSim {
    pub async fn start(opts: GraphSimOptions) -> anyhow::Result<GraphSim> {
        let tls = tls::generate()?;
        let listener =
            tokio::net::TcpListener::bind(opts.listen).await.with_context(|| format!("binding {}", opts.listen))?;
        let addr = listener.local_addr()?;
        let origin = format!("https://{addr}");
        let ca_path = match &opts.ca_out {
            Some(p) => p.clone(),
            None => std::env::temp_dir().join(format!("entra-graph-sim-ca-{}.pem", addr.port())),
        };
        std::fs::write(&ca_path, &tls.ca_pem).with_context(|| format!("writing CA PEM to {}", ca_path.display()))?;

        let gen_opts = opts.clone();
        let (tenant, directory) = tokio::task::spawn_blocking(move || {
            let t = tenant::Tenant::generate(gen_opts.seed, gen_opts.users);
            let d = directory::generate(&gen_opts, &t);
            (t, d)
        })
        .await
        .context("tenant generation")?;
        let meta = tenant.meta.clone();
        let mut apps = HashMap::new();
        apps.insert(
            meta.client_id.clone(),
            AppRegistration {
                client_id: meta.client_id.clone(),
                client_secret: meta.client_secret.clone(),
                roles: ALL_ROLES.iter().map(|r| r.to_string()).collect(),
                secret_expired: false,
            },
        );
        let key: [u8; 32] = rand::random();
        let policies = policies::PolicyState::new(&opts, &tenant, chrono::Utc::now().timestamp());
        let mut directory = directory;
        if let Ok(data) = policies.data.read() {
            directory::add_extension_apps(&mut directory, &data.ext_apps);
        }
        let shared = Arc::new(Shared {
            opts,
            origin: origin.clone(),
            tenant_id: meta.tenant_id.clone(),
            domain: meta.domain.clone(),
            tenant: RwLock::new(tenant),
            directory: RwLock::new(directory),
            apps: RwLock::new(apps),
            sealer: tokens::Sealer::new(key),
            stats: Mutex::new(Default::default()),
            throttle: Mutex::new(HashMap::new()),
            faults: Mutex::new(Faults::default()),
            clock_offset: AtomicI64::new(0),
            policies,
            recycle: Default::default(),
        });
        let info = SimInfo {
            authority_host: origin.clone(),
            graph_url: origin,
            ca_pem: ca_path.display().to_string(),
            tenant_id: meta.tenant_id.clone(),
            client_id: meta.client_id.clone(),
            client_secret: meta.client_secret.clone(),
            licence: shared.opts.licence,
            faults: shared.opts.faults,
        };
        let cancel = CancellationToken::new();
        let task = tokio::spawn(server::serve(
            listener,
            tokio_rustls::TlsAcceptor::from(tls.config),
            shared.clone(),
            Arc::new(info.clone()),
            cancel.clone(),
        ));
        Ok(GraphSim { shared, info, ca_pem: tls.ca_pem, cancel, task: Some(task) })
    }

    pub fn info(&self) -> SimInfo {
        self.info.clone()
    }

    /// The CA certificate (PEM text) that signed the server certificate.
    pub fn ca_pem_text(&self) -> String {
        self.ca_pem.clone()
    }

    /// The whole ground truth: `{"users": [...full objects...], "deleted": {"users": [{"id", "reason"}]}, …}`.
    /// Readers that can take it key by key use the sim as a [`crate::sim::truth::Truth`] instead.
    pub fn truth(&self) -> serde_json::Value {
        truth::whole(&self.shared)
    }

    /// Apply changes; answers `{created, updated, soft_deleted, restored, hard_deleted}`.
    pub fn mutate(&self, spec: &MutationSpec) -> serde_json::Value {
        control::mutate(&self.shared, spec)
    }

    pub fn stats(&self) -> serde_json::Value {
        control::stats(&self.shared)
    }

    pub fn reset_stats(&self) {
        control::reset_stats(&self.shared)
    }

    /// Add (or replace) an app registration in the tenant.
    pub fn register_app(&self, app: AppRegistration) {
        if let Ok(mut apps) = self.shared.apps.write() {
            apps.insert(app.client_id.clone(), app);
        }
    }

    /// Replace the injectable faults (delta-token TTL, 410s, replays, empty pages, 429s).
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = faults;
        }
    }

    /// Move the simulated clock forward (tokens and delta tokens age accordingly).
    pub fn advance_clock(&self, seconds: i64) {
        self.shared.clock_offset.fetch_add(seconds, Ordering::Relaxed);
    }

    /// The directory-extension property name carried by some users (`extension_<hex>_costCenter`).
    pub fn extension_property(&self) -> String {
        self.shared.tenant.read().map(|t| t.meta.ext_name.clone()).unwrap_or_default()
    }

    /// The tenant's verified domain (also accepted as `{tenant}` by the token endpoint).
    pub fn tenant_domain(&self) -> String {
        self.shared.domain.clone()
    }

    /// Runtime controls of policies, logs and fault profiles.
    pub fn policies(&self) -> policies::PolicyControl<'_> {
        policies::PolicyControl(&self.shared)
    }

    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for GraphSim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Tenant size presets for `--preset`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    Small,
    Medium,
    Large,
    Xl,
}

impl Preset {
    pub fn users(self) -> usize {
        match self {
            Preset::Small => 1_000,
            Preset::Medium => 10_000,
            Preset::Large => 100_000,
            Preset::Xl => 1_000_000,
        }
    }
}

/// `entra-airsync sim graph` arguments.
#[derive(clap::Args, Debug, Clone)]
pub struct GraphSimArgs {
    /// Listen address (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Number of users (wins over --preset).
    #[arg(long)]
    pub users: Option<usize>,
    /// Tenant size preset: small (1k users), medium (10k), large (100k), xl (1M).
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Fixed latency added to every request.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Extra latency per returned object.
    #[arg(long, default_value_t = 0)]
    pub per_object_us: u64,
    /// Fault profile for Graph routes: none, flaky (5xx bursts, resets) or hostile (also slow,
    /// truncated and mistyped bodies). Delta faults can be set at runtime via POST /_sim/faults.
    #[arg(long, default_value = "none")]
    pub faults: String,
    /// The tenant's Entra ID licence.
    #[arg(long, value_enum, default_value = "governance")]
    pub licence: Licence,
    /// Write the CA certificate PEM here.
    #[arg(long)]
    pub ca_out: Option<PathBuf>,
    /// Enable RU throttling (token bucket per app + tenant).
    #[arg(long)]
    pub throttling: bool,
    #[arg(long, default_value_t = 50)]
    pub page_min: usize,
    #[arg(long, default_value_t = 250)]
    pub page_max: usize,
    #[command(flatten)]
    pub directory: DirectoryArgs,
}

impl GraphSimArgs {
    pub fn to_options(&self) -> anyhow::Result<GraphSimOptions> {
        let faults: FaultProfile = self.faults.parse().map_err(|e: String| anyhow::anyhow!(e))?;
        Ok(GraphSimOptions {
            listen: self.listen,
            users: self.users.or(self.preset.map(Preset::users)).unwrap_or(1000),
            seed: self.seed,
            latency_ms: self.latency_ms,
            per_object_us: self.per_object_us,
            ca_out: self.ca_out.clone(),
            page_min: self.page_min,
            page_max: self.page_max,
            throttling: self.throttling,
            licence: self.licence,
            faults,
            ..self.directory.options()
        })
    }
}

/// Start the simulator, print one JSON line (`SimInfo`), serve until Ctrl-C.
pub async fn run_standalone(args: GraphSimArgs) -> anyhow::Result<()> {
    let sim = GraphSim::start(args.to_options()?).await?;
    println!("{}", serde_json::to_string(&sim.info())?);
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: GraphSimArgs,
    }

    #[test]
    fn args_presets_and_defaults() {
        let o = Cli::parse_from(["x"]).sim.to_options().unwrap();
        assert_eq!(o.users, 1000);
        assert_eq!(o.listen, GraphSimOptions::default().listen);
        let o = Cli::parse_from(["x", "--preset", "large"]).sim.to_options().unwrap();
        assert_eq!(o.users, 100_000);
        let o = Cli::parse_from(["x", "--preset", "xl", "--users", "7", "--throttling", "--latency-ms", "5"])
            .sim
            .to_options()
            .unwrap();
        assert_eq!((o.users, o.throttling, o.latency_ms), (7, true, 5));
        let o = Cli::parse_from(["x", "--groups", "3", "--service-principals", "9"]).sim.to_options().unwrap();
        assert_eq!((o.groups, o.service_principals, o.devices), (Some(3), Some(9), None));
        assert!(Cli::parse_from(["x", "--faults", "chaos"]).sim.to_options().is_err());
        assert!(std::mem::size_of::<model::UserRec>() <= 104);
    }
}
