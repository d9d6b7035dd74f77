//! AirSync platform emulator: the DevRev side a worker talks to (callback, state, artifacts, IDM), strict about
//! what it receives, plus a driver for import/sync runs, a loader into a record store, and a verifier.

mod artifacts;
mod cli;
mod driver;
pub mod events;
mod faults;
mod line;
mod record;
mod server;
mod spool;
mod state;
mod store;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::{oneshot, Notify};

pub use artifacts::{check_line, parse_jsonl, parse_jsonl_gz};
pub use cli::{run_standalone, PlatformSimArgs, RunMode};
pub use driver::{Connection, Driver, DriverOptions, FnWorker, HttpWorker, RunReport, Spelling, WorkerHandle};
pub use faults::FaultRule;
pub use record::StoredRecord;
pub use store::{LoadCounters, RecordStore};
pub use verify::{verify, TypeCounts, VerifyReport};

/// How the emulator listens and who it is.
#[derive(Debug, Clone)]
pub struct PlatformOptions {
    pub listen: std::net::SocketAddr,
    pub service_account_token: String,
    pub snap_in_slug: String,
    pub import_slug: String,
    pub snap_in_version_id: String,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        PlatformOptions {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            service_account_token: format!("sat-{}", uuid::Uuid::new_v4()),
            snap_in_slug: "entra-airsync".into(),
            import_slug: "entra-airsync-import".into(),
            snap_in_version_id: "don:integration:dvrv-us-1:devo/sim:snap_in_package/1:snap_in_version/1".into(),
        }
    }
}

/// One delivered event waiting for (or having received) its callback.
#[derive(Debug)]
pub(crate) struct Invocation {
    /// Incoming event type, new spelling.
    pub incoming: String,
    pub event_context: Value,
    pub request_id_adaas: String,
    pub sync_unit_id: String,
    pub snap_in_slug: String,
    pub snap_in_version_id: String,
    pub answered: bool,
    pub state_posted: bool,
    pub tx: Option<oneshot::Sender<Value>>,
}

/// Shared state of the emulator.
pub(crate) struct Inner {
    pub opts: PlatformOptions,
    pub base_url: String,
    pub faults: faults::Faults,
    pub violations: Mutex<Vec<String>>,
    pub states: Mutex<state::StateStore>,
    pub artifacts: Mutex<artifacts::ArtifactStore>,
    /// Where uploaded bytes are kept.
    pub spool: spool::Spool,
    /// request_id → invocation.
    pub invocations: Mutex<HashMap<String, Invocation>>,
    pub store: Mutex<RecordStore>,
    /// snap_in_version_id → successful IDM installs.
    pub idm_counts: Mutex<BTreeMap<String, u64>>,
    /// Version of the most recently delivered event (IDM installs are attributed to it).
    pub current_version: Mutex<String>,
    pub shutdown: Notify,
}

impl Inner {
    pub fn violation(&self, msg: impl Into<String>) {
        let msg = msg.into();
        tracing::warn!(violation = %msg, "platform-sim violation");
        if let Ok(mut v) = self.violations.lock() {
            v.push(msg);
        }
    }

    pub fn violation_count(&self) -> usize {
        self.violations.lock().map(|v| v.len()).unwrap_or(0)
    }

    pub fn violations_since(&self, from: usize) -> Vec<String> {
        self.violations.lock().map(|v| v.get(from..).map(<[String]>::to_vec).unwrap_or_default()).unwrap_or_default()
    }
}

/// The running emulator. Cheap to clone.
#[derive(Clone)]
pub struct PlatformSim {
    pub(crate) inner: Arc<Inner>,
    task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl PlatformSim {
    /// Bind, start serving, and return at once.
    pub async fn start(opts: PlatformOptions) -> anyhow::Result<PlatformSim> {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            base_url: format!("http://{addr}"),
            current_version: Mutex::new(opts.snap_in_version_id.clone()),
            opts,
            faults: faults::Faults::default(),
            violations: Mutex::new(Vec::new()),
            states: Mutex::new(state::StateStore::default()),
            artifacts: Mutex::new(artifacts::ArtifactStore::default()),
            spool: spool::Spool::new(),
            invocations: Mutex::new(HashMap::new()),
            store: Mutex::new(RecordStore::default()),
            idm_counts: Mutex::new(BTreeMap::new()),
            shutdown: Notify::new(),
        });
        let task = tokio::spawn(server::serve(listener, inner.clone()));
        Ok(PlatformSim { inner, task: Arc::new(Mutex::new(Some(task))) })
    }

    /// `http://127.0.0.1:PORT` — the `devrev_endpoint`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    pub fn service_account_token(&self) -> String {
        self.inner.opts.service_account_token.clone()
    }

    pub fn options(&self) -> PlatformOptions {
        self.inner.opts.clone()
    }

    pub fn inject(&self, rule: FaultRule) {
        self.inner.faults.inject(rule);
    }

    /// Drop every fault rule (including persistent delays).
    pub fn clear_faults(&self) {
        self.inner.faults.clear();
    }

    /// Requests per route name (faulted ones included; unknown routes under `unknown`).
    pub fn route_counts(&self) -> BTreeMap<String, u64> {
        self.inner.faults.counts()
    }

    /// Every request as (route, status), in arrival order of completion.
    pub fn requests(&self) -> Vec<(String, u16)> {
        self.inner.faults.journal()
    }

    pub fn violations(&self) -> Vec<String> {
        self.inner.violations_since(0)
    }

    /// Compare the record store with a ground truth, in place (no snapshot of the store is taken).
    pub fn verify(&self, truth: &dyn crate::sim::truth::Truth) -> VerifyReport {
        match self.inner.store.lock() {
            Ok(store) => verify(&store, truth),
            Err(_) => VerifyReport {
                mismatches: vec!["the record store's lock is poisoned".into()],
                mismatch_count: 1,
                ..VerifyReport::default()
            },
        }
    }

    /// A snapshot of the record store.
    pub fn store(&self) -> RecordStore {
        self.inner.store.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The stored state text for a sync unit.
    pub fn state_text(&self, sync_unit: &str) -> Option<String> {
        self.inner.states.lock().ok().and_then(|s| s.by_sync_unit.get(sync_unit).cloned())
    }

    /// Replace (or with `None`, remove) the state of a sync unit, e.g. to test resumption.
    pub fn set_state_text(&self, sync_unit: &str, text: Option<String>) {
        if let Ok(mut s) = self.inner.states.lock() {
            match text {
                Some(t) => s.by_sync_unit.insert(sync_unit.to_string(), t),
                None => s.by_sync_unit.remove(sync_unit),
            };
        }
    }

    /// Successful IDM installs, all versions.
    pub fn idm_installs(&self) -> u64 {
        self.idm_installs_by_version().values().sum()
    }

    /// Successful IDM installs per snap-in version id.
    pub fn idm_installs_by_version(&self) -> BTreeMap<String, u64> {
        self.inner.idm_counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Raw bytes of an uploaded artifact.
    pub fn artifact_bytes(&self, artifact_id: &str) -> Option<Vec<u8>> {
        let body =
            self.inner.artifacts.lock().ok().and_then(|mut a| a.by_id(artifact_id).and_then(|a| a.bytes.clone()));
        body?.read()
    }

    /// Number of artifact slots handed out.
    pub fn artifact_count(&self) -> usize {
        self.inner.artifacts.lock().map(|a| a.items.len()).unwrap_or(0)
    }

    /// Stop serving.
    pub async fn shutdown(self) {
        self.inner.shutdown.notify_waiters();
        self.inner.shutdown.notify_one();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        }
    }
}
