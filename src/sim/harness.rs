//! Both simulators and an in-process worker wired together over real loopback HTTP(S): the set-up that
//! `demo`, the end-to-end tests, and later `bench` and `soak` share.

use std::sync::Arc;
use std::time::Duration;

use crate::airsync::runner::Worker;
use crate::config::Config;
use crate::net::HostPolicy;
use crate::sim::graph::{AppRegistration, GraphSim, GraphSimOptions, Licence, SimInfo};
use crate::sim::platform::{
    Connection, Driver, DriverOptions, FnWorker, PlatformOptions, PlatformSim, Spelling, VerifyReport,
};

#[derive(Clone, Debug)]
pub struct HarnessOptions {
    pub users: usize,
    pub seed: u64,
    pub soft_timeout: Duration,
    pub batch_size: usize,
    pub old_spelling: bool,
    /// First step of the platform retry back-off (2 s in production; tests shorten it).
    pub platform_retry_base: Duration,
    /// Graph simulator latency per request, in milliseconds.
    pub latency_ms: u64,
    /// The simulated tenant's Entra ID licence.
    pub licence: Licence,
    /// The application permissions of the connection's app; None: every permission (the simulator's app).
    pub roles: Option<Vec<String>>,
    /// How long the driver waits for one answer before giving up on an invocation.
    pub answer_timeout: Duration,
    /// Graph's throttling model in the simulator, and Graph's documented limits in the worker.
    pub throttling: bool,
    /// Invocations of one phase after which the driver gives up (a sync that never finishes fails the test).
    pub max_invocations: usize,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        HarnessOptions {
            users: 1000,
            seed: 42,
            soft_timeout: Duration::from_secs(600),
            batch_size: 2000,
            old_spelling: false,
            platform_retry_base: Duration::from_millis(20),
            latency_ms: 0,
            licence: Licence::default(),
            roles: None,
            answer_timeout: Duration::from_secs(300),
            throttling: false,
            max_invocations: 500,
        }
    }
}

pub struct Harness {
    /// What the worker did, for `report.html`.
    pub history: Arc<crate::report::History>,
    pub graph: GraphSim,
    pub platform: PlatformSim,
    pub worker: Worker,
    pub driver: Driver,
    pub info: SimInfo,
}

/// The worker configuration that points at the simulators.
pub fn worker_config(info: &SimInfo, opts: &HarnessOptions) -> Config {
    Config {
        authority_host: info.authority_host.clone(),
        graph_url: info.graph_url.clone(),
        extra_ca_pem: Some(info.ca_pem.clone().into()),
        allowed_hosts: HostPolicy::parse("127.0.0.1"),
        soft_timeout: opts.soft_timeout,
        batch_size: opts.batch_size,
        platform_retry_base: opts.platform_retry_base,
        graph_retry_base: Duration::from_millis(50),
        // The harness's simulator does not throttle; the limiter's own tests cover Graph's real limits,
        // and `bench` runs with them against a throttling simulator.
        limits: if opts.throttling {
            crate::graph::limiter::Limits::default()
        } else {
            crate::graph::limiter::Limits {
                identity_ru_per_10s: 100_000,
                reports_per_10s: 10_000,
                conditional_access_per_s: 1_000,
            }
        },
        ..Config::default()
    }
}

impl Harness {
    pub async fn start(opts: HarnessOptions) -> anyhow::Result<Harness> {
        let graph = GraphSim::start(GraphSimOptions {
            users: opts.users,
            seed: opts.seed,
            latency_ms: opts.latency_ms,
            licence: opts.licence,
            throttling: opts.throttling,
            ..GraphSimOptions::default()
        })
        .await?;
        let mut info = graph.info();
        if let Some(roles) = &opts.roles {
            // A second app registration with only these permissions; the connection uses it.
            let app = AppRegistration {
                client_id: "0a7e5c1d-2b3f-4c5d-8e9f-0a1b2c3d4e5f".into(),
                client_secret: "Sim~LimitedApp.Secret-0123456789".into(),
                roles: roles.clone(),
                secret_expired: false,
            };
            info.client_id = app.client_id.clone();
            info.client_secret = app.client_secret.clone();
            graph.register_app(app);
        }
        let platform = PlatformSim::start(PlatformOptions::default()).await?;
        let history = Arc::new(crate::report::History::default());
        let worker = Worker::new(worker_config(&info, &opts))?.with_history(history.clone());
        let connection = Connection {
            org_id: info.tenant_id.clone(),
            org_name: "Simulated tenant".into(),
            key: format!("{}|{}", info.client_id, info.client_secret),
        };
        let limits = (opts.answer_timeout, opts.max_invocations);
        let driver = Self::driver_with(&platform, &worker, connection, opts.old_spelling, limits);
        Ok(Harness { history, graph, platform, worker, driver, info })
    }

    /// A driver for this platform and any worker (e.g. one with other credentials).
    pub fn driver_for(platform: &PlatformSim, worker: &Worker, connection: Connection, old_spelling: bool) -> Driver {
        Self::driver_with(platform, worker, connection, old_spelling, (Duration::from_secs(300), 500))
    }

    fn driver_with(
        platform: &PlatformSim,
        worker: &Worker,
        connection: Connection,
        old_spelling: bool,
        (answer_timeout, max_invocations): (Duration, usize),
    ) -> Driver {
        let w = worker.clone();
        let handle = FnWorker::new(move |event| {
            let w = w.clone();
            async move {
                let _ = w.handle(event).await;
            }
        });
        let options = DriverOptions {
            spelling: if old_spelling { Spelling::Old } else { Spelling::New },
            answer_timeout,
            delay_scale: 0.01,
            max_invocations,
        };
        Driver::new(platform.clone(), Arc::new(handle), connection, options)
    }

    /// Compares the emulated DevRev view with the simulated tenant.
    pub fn verify(&self) -> VerifyReport {
        self.platform.verify(&self.graph)
    }
}
