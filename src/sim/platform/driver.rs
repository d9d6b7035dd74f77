//! The driver (§10.4): builds events, delivers them to a worker (HTTP or in-process), waits for the one callback,
//! runs initial imports and incremental syncs phase by phase, and feeds each answer's artifacts to the loader.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use super::artifacts::{digest_lines, parse_jsonl_gz};
use super::events::{build_event, to_new, to_old, EventParams};
use super::line::is_special_item_type;
use super::server::SNAP_IN_ID;
use super::{Invocation, PlatformSim};

/// Something that can receive one event (the answer comes later, on the callback).
#[async_trait::async_trait]
pub trait WorkerHandle: Send + Sync {
    async fn deliver(&self, event: Value) -> Result<(), String>;
}

/// A worker reached over HTTP: `POST {url}/handle/async` with `[event]`.
#[derive(Debug, Clone)]
pub struct HttpWorker {
    pub url: String,
    pub bearer_token: Option<String>,
}

#[async_trait::async_trait]
impl WorkerHandle for HttpWorker {
    async fn deliver(&self, event: Value) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let mut req =
            client.post(format!("{}/handle/async", self.url.trim_end_matches('/'))).json(&Value::Array(vec![event]));
        if let Some(t) = &self.bearer_token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| format!("POST /handle/async: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("POST /handle/async answered {}", resp.status()));
        }
        Ok(())
    }
}

/// The closure type an [`FnWorker`] wraps.
pub type WorkerFn = Arc<dyn Fn(Value) -> BoxFuture<'static, ()> + Send + Sync>;

/// An in-process worker: each delivery spawns the closure and returns at once.
#[derive(Clone)]
pub struct FnWorker(pub WorkerFn);

impl FnWorker {
    pub fn new<F, Fut>(f: F) -> FnWorker
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        FnWorker(Arc::new(move |ev| Box::pin(f(ev))))
    }
}

#[async_trait::async_trait]
impl WorkerHandle for FnWorker {
    async fn deliver(&self, event: Value) -> Result<(), String> {
        tokio::spawn((self.0)(event));
        Ok(())
    }
}

/// The external-system connection (keyring) the events carry.
#[derive(Debug, Clone)]
pub struct Connection {
    pub org_id: String,
    pub org_name: String,
    pub key: String,
}

impl Connection {
    /// An Entra connection: tenant, and `key` = `client_id|client_secret`.
    pub fn entra(tenant: &str, client_id: &str, client_secret: &str) -> Connection {
        Connection {
            org_id: tenant.to_string(),
            org_name: format!("Entra tenant {tenant}"),
            key: format!("{client_id}|{client_secret}"),
        }
    }
}

/// Which event-type spelling the driver sends (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Spelling {
    #[default]
    New,
    Old,
}

#[derive(Debug, Clone)]
pub struct DriverOptions {
    pub spelling: Spelling,
    pub answer_timeout: Duration,
    /// Multiplier applied to DELAYED `delay` seconds (0.0 in tests = continue at once).
    pub delay_scale: f64,
    /// Guard against continuation loops, per run.
    pub max_invocations: usize,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            spelling: Spelling::New,
            answer_timeout: Duration::from_secs(120),
            delay_scale: 1.0,
            max_invocations: 500,
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// Answer event types, in order.
    pub answers: Vec<String>,
    /// Artifact descriptors listed in the answers.
    pub artifacts: usize,
    /// Lines applied per item type.
    pub items_by_type: BTreeMap<String, usize>,
    /// ERROR messages (and driver-side failures: timeouts, delivery errors, loop guard).
    pub errors: Vec<String>,
    /// Platform violations recorded during the run.
    pub violations: Vec<String>,
}

#[derive(Debug, Default)]
struct DriverState {
    snap_in_version_id: String,
    esu_id: String,
    esu_name: String,
    run_id: String,
    invocations: usize,
    artifacts: usize,
    items_by_type: BTreeMap<String, usize>,
}

/// Drives a worker through import and sync runs against one [`PlatformSim`].
pub struct Driver {
    platform: PlatformSim,
    worker: Arc<dyn WorkerHandle>,
    connection: Connection,
    opts: DriverOptions,
    sync_unit: String,
    st: Mutex<DriverState>,
}

fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

impl Driver {
    pub fn new(
        platform: PlatformSim,
        worker: Arc<dyn WorkerHandle>,
        connection: Connection,
        opts: DriverOptions,
    ) -> Driver {
        let sync_unit = format!("don:integration:dvrv-us-1:devo/sim:sync_unit/{}", sanitize(&connection.org_id));
        let st = DriverState {
            snap_in_version_id: platform.inner.opts.snap_in_version_id.clone(),
            run_id: new_run_id(),
            ..DriverState::default()
        };
        Driver { platform, worker, connection, opts, sync_unit, st: Mutex::new(st) }
    }

    /// The sync unit id (state key) of this connection.
    pub fn sync_unit(&self) -> String {
        self.sync_unit.clone()
    }

    /// Change `context.snap_in_version_id` for the next events (exercises IDM reinstall).
    pub fn set_snap_in_version(&self, id: &str) {
        if let Ok(mut st) = self.st.lock() {
            st.snap_in_version_id = id.to_string();
        }
    }

    /// Set the chosen external sync unit (normally taken from the ESU artifact).
    pub fn set_external_sync_unit(&self, id: &str, name: &str) {
        if let Ok(mut st) = self.st.lock() {
            st.esu_id = id.to_string();
            st.esu_name = name.to_string();
        }
    }

    /// Build one event. `event_type` may be given in either spelling; it is sent in the configured one.
    pub fn event(&self, event_type: &str, mode: &str) -> Value {
        let (version, esu_id, esu_name, run_id) = self
            .st
            .lock()
            .map(|st| (st.snap_in_version_id.clone(), st.esu_id.clone(), st.esu_name.clone(), st.run_id.clone()))
            .unwrap_or_default();
        let new = to_new(event_type);
        let (esu_id, esu_name) = if new == "START_EXTRACTING_EXTERNAL_SYNC_UNITS" {
            (String::new(), String::new())
        } else {
            (esu_id, esu_name)
        };
        let opts = &self.platform.inner.opts;
        build_event(&EventParams {
            base_url: self.platform.base_url(),
            service_account_token: opts.service_account_token.clone(),
            event_type: match self.opts.spelling {
                Spelling::New => new,
                Spelling::Old => to_old(event_type),
            },
            mode: mode.to_string(),
            org_id: self.connection.org_id.clone(),
            org_name: self.connection.org_name.clone(),
            key: self.connection.key.clone(),
            request_id: uuid::Uuid::new_v4().to_string(),
            request_id_adaas: uuid::Uuid::new_v4().to_string(),
            run_id,
            sync_unit: self.sync_unit.clone(),
            external_sync_unit_id: esu_id,
            external_sync_unit_name: esu_name,
            snap_in_id: SNAP_IN_ID.to_string(),
            snap_in_slug: opts.snap_in_slug.clone(),
            snap_in_version_id: version,
            import_slug: opts.import_slug.clone(),
        })
    }

    /// Deliver one event and wait for its callback; the answer's artifacts are applied to the store.
    pub async fn send(&self, event: Value) -> anyhow::Result<Value> {
        let ctx = event
            .pointer("/payload/event_context")
            .cloned()
            .ok_or_else(|| anyhow!("event has no payload.event_context"))?;
        let field = |k: &str| ctx.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let request_id = field("request_id");
        if request_id.is_empty() {
            bail!("event has no event_context.request_id");
        }
        let incoming = to_new(event.pointer("/payload/event_type").and_then(Value::as_str).unwrap_or(""));
        let version = event.pointer("/context/snap_in_version_id").and_then(Value::as_str).unwrap_or("").to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        {
            let inner = &self.platform.inner;
            let mut invs = inner.invocations.lock().map_err(|_| anyhow!("poisoned lock"))?;
            invs.insert(
                request_id.clone(),
                Invocation {
                    incoming: incoming.clone(),
                    event_context: ctx.clone(),
                    request_id_adaas: field("request_id_adaas"),
                    sync_unit_id: field("sync_unit_id"),
                    snap_in_slug: field("snap_in_slug"),
                    snap_in_version_id: field("snap_in_version_id"),
                    answered: false,
                    state_posted: false,
                    tx: Some(tx),
                },
            );
            if let Ok(mut v) = inner.current_version.lock() {
                *v = version;
            }
        }
        if let Err(e) = self.worker.deliver(event).await {
            if let Ok(mut invs) = self.platform.inner.invocations.lock() {
                invs.remove(&request_id);
            }
            bail!("delivering {incoming} failed: {e}");
        }
        match tokio::time::timeout(self.opts.answer_timeout, rx).await {
            Ok(Ok(answer)) => {
                self.apply_answer(&answer);
                Ok(answer)
            }
            Ok(Err(_)) => bail!("{incoming}: answer channel closed"),
            Err(_) => {
                let msg =
                    format!("no answer to {incoming} within {:?} (request_id {request_id})", self.opts.answer_timeout);
                self.platform.inner.violation(msg.clone());
                bail!(msg)
            }
        }
    }

    /// Loader: apply every artifact listed in an answer (once per artifact).
    fn apply_answer(&self, answer: &Value) {
        let Some(list) = answer.pointer("/event_data/artifacts").and_then(Value::as_array) else {
            return;
        };
        let inner = &self.platform.inner;
        let mut applied: Vec<(String, usize)> = Vec::new();
        for d in list {
            let Some(id) = d.get("id").and_then(Value::as_str) else {
                continue;
            };
            let todo = inner.artifacts.lock().ok().and_then(|mut s| {
                let a = s.by_id(id)?;
                if a.applied {
                    return None;
                }
                let lines = a.lines.take()?;
                a.applied = true;
                let t = d
                    .get("item_type")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| a.item_type.clone());
                if is_special_item_type(&t) == is_special_item_type(&a.item_type) {
                    return Some((t, lines));
                }
                // Listed as a type unlike the file's: digest its lines again, for the listed type.
                let values = parse_jsonl_gz(&a.bytes.as_ref()?.read()?).ok()?;
                Some((t.clone(), digest_lines(&t, values)))
            });
            if let Some((t, lines)) = todo {
                let n = inner.store.lock().map(|mut s| s.apply_artifact(&t, lines)).unwrap_or(0);
                applied.push((t, n));
            }
        }
        if let Ok(mut st) = self.st.lock() {
            st.artifacts += list.len();
            for (t, n) in applied {
                *st.items_by_type.entry(t).or_insert(0) += n;
            }
        }
    }

    fn begin_run(&self) -> usize {
        if let Ok(mut st) = self.st.lock() {
            st.run_id = new_run_id();
            st.invocations = 0;
            st.artifacts = 0;
            st.items_by_type.clear();
        }
        self.platform.inner.violation_count()
    }

    fn finish_run(&self, mut report: RunReport, violations_from: usize) -> RunReport {
        if let Ok(st) = self.st.lock() {
            report.artifacts = st.artifacts;
            report.items_by_type = st.items_by_type.clone();
        }
        report.violations = self.platform.inner.violations_since(violations_from);
        report
    }

    /// Run one phase: START, then CONTINUE while PROGRESS/DELAYED. Returns whether the phase ended DONE.
    async fn phase(&self, start: &str, cont: Option<&str>, mode: &str, report: &mut RunReport) -> bool {
        let mut event_type = start.to_string();
        loop {
            let over = self
                .st
                .lock()
                .map(|mut st| {
                    st.invocations += 1;
                    st.invocations > self.opts.max_invocations
                })
                .unwrap_or(true);
            if over {
                report.errors.push(format!("stopped: more than {} invocations in one run", self.opts.max_invocations));
                return false;
            }
            let answer = match self.send(self.event(&event_type, mode)).await {
                Ok(a) => a,
                Err(e) => {
                    report.errors.push(e.to_string());
                    return false;
                }
            };
            let t = answer.get("event_type").and_then(Value::as_str).unwrap_or("").to_string();
            report.answers.push(t.clone());
            if t.ends_with("_DONE") {
                return true;
            }
            if t.ends_with("_ERROR") {
                report.errors.push(
                    answer
                        .pointer("/event_data/error/message")
                        .and_then(Value::as_str)
                        .unwrap_or("(no error message)")
                        .to_string(),
                );
                return false;
            }
            let Some(cont) = cont else {
                report.errors.push(format!("{t} is not a valid answer to {start}; run stopped"));
                return false;
            };
            if t.ends_with("_PROGRESS") {
                event_type = cont.to_string();
            } else if t.ends_with("_DELAYED") {
                let delay = answer.pointer("/event_data/delay");
                let secs = delay
                    .and_then(Value::as_f64)
                    .or_else(|| delay.and_then(Value::as_str).and_then(|s| s.parse().ok()))
                    .unwrap_or(0.0)
                    .max(0.0);
                let wait = (secs * self.opts.delay_scale).clamp(0.0, 86_400.0);
                tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                event_type = cont.to_string();
            } else {
                report.errors.push(format!("{t} is not a valid answer to {start}; run stopped"));
                return false;
            }
        }
    }

    async fn extraction_phases(&self, mode: &str, report: &mut RunReport) {
        if !self.phase("START_EXTRACTING_METADATA", None, mode, report).await {
            return;
        }
        if !self.phase("START_EXTRACTING_DATA", Some("CONTINUE_EXTRACTING_DATA"), mode, report).await {
            return;
        }
        self.phase("START_EXTRACTING_ATTACHMENTS", Some("CONTINUE_EXTRACTING_ATTACHMENTS"), mode, report).await;
    }

    /// ESU → (pick the first unit) → metadata → data → attachments, mode INITIAL.
    pub async fn initial_import(&self) -> anyhow::Result<RunReport> {
        let from = self.begin_run();
        let mut report = RunReport::default();
        if self.phase("START_EXTRACTING_EXTERNAL_SYNC_UNITS", None, "INITIAL", &mut report).await {
            match self.first_esu() {
                Some((id, name)) => {
                    self.set_external_sync_unit(&id, &name);
                    self.extraction_phases("INITIAL", &mut report).await;
                }
                None => report.errors.push("no external sync unit arrived in the ESU artifact".to_string()),
            }
        }
        Ok(self.finish_run(report, from))
    }

    /// metadata → data → attachments, mode INCREMENTAL.
    pub async fn incremental_sync(&self) -> anyhow::Result<RunReport> {
        let from = self.begin_run();
        let chosen = self.st.lock().map(|s| s.esu_id.clone()).unwrap_or_default();
        if chosen.is_empty() {
            let (id, name) =
                self.first_esu().unwrap_or_else(|| (self.connection.org_id.clone(), self.connection.org_name.clone()));
            self.set_external_sync_unit(&id, &name);
        }
        let mut report = RunReport::default();
        self.extraction_phases("INCREMENTAL", &mut report).await;
        Ok(self.finish_run(report, from))
    }

    fn first_esu(&self) -> Option<(String, String)> {
        let store = self.platform.inner.store.lock().ok()?;
        store.external_sync_units.iter().find_map(|u| {
            let id = u.get("id").and_then(Value::as_str)?;
            let name = u.get("name").and_then(Value::as_str).unwrap_or("");
            Some((id.to_string(), name.to_string()))
        })
    }
}

fn new_run_id() -> String {
    format!("don:integration:dvrv-us-1:devo/sim:sync_run/{}", uuid::Uuid::new_v4().simple())
}
