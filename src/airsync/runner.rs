//! One invocation, start to finish: parse the event, load state (404 → initialise), install the initial
//! domain mapping on a new snap-in version, run the phase, then flush artifacts, save state and answer
//! exactly once. A guard answers the phase's ERROR on panics and at the hard timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::artifacts::{ArtifactSink, Descriptor};
use super::event::{Event, Incoming, Outcome, Phase};
use super::platform::{truncate_message, Platform, PROTOCOL_LIBRARY_VERSION};
use super::state::{ConnectorState, PendingAnswer, WorkerState};
use super::window;
use crate::config::Config;
use crate::graph::auth::TokenSource;
use crate::graph::limiter::TenantLimiter;
use crate::graph::{GraphClient, GraphError};
use crate::ingress::Metrics;
use crate::report::History;
use crate::{engine, extract, net, schema};

/// Tenant, client id, and a digest of the client secret.
type TokenKey = (String, String, u64);

/// The long-lived worker: configuration, the shared HTTP client, and the shutdown signal.
#[derive(Clone)]
pub struct Worker {
    cfg: Arc<Config>,
    http: reqwest::Client,
    shutdown: CancellationToken,
    /// One limiter per tenant, shared by every invocation of this process.
    limiters: Arc<Mutex<HashMap<String, Arc<TenantLimiter>>>>,
    /// Token sources by tenant and app (and a digest of the secret), so tokens are cached across
    /// invocations until shortly before they expire.
    tokens: Arc<Mutex<HashMap<TokenKey, TokenSource>>>,
    /// Where per-record-type series go (`serve` exposes them at `/metrics`).
    metrics: Option<Arc<Metrics>>,
    /// Where `demo` collects what `report.html` shows.
    history: Option<Arc<History>>,
}

/// Sends the one answer of an invocation; later attempts are ignored with a warning.
struct Answer {
    platform: Platform,
    phase: Option<Phase>,
    context: Mutex<Map<String, Value>>,
    sent: AtomicBool,
    /// What became of the answer: the event type delivered, or why not.
    delivered: Mutex<Option<Result<String, String>>>,
    /// Per-record-type statistics of a data phase, sent as `event_data.statistics`.
    statistics: Mutex<Option<Value>>,
}

impl Answer {
    fn sent(&self) -> bool {
        self.sent.load(Ordering::SeqCst)
    }

    async fn send(&self, outcome: Outcome, artifacts: Vec<Descriptor>) {
        if self.sent.swap(true, Ordering::SeqCst) {
            tracing::warn!("a second answer in the same invocation was ignored");
            return;
        }
        let delivered = self.deliver(outcome, artifacts).await;
        *self.delivered.lock().unwrap_or_else(|p| p.into_inner()) = Some(delivered);
    }

    async fn deliver(&self, outcome: Outcome, artifacts: Vec<Descriptor>) -> Result<String, String> {
        let context = self.context.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut body = answer_body(self.phase, &outcome, context, artifacts);
        if let Some(stats) = self.statistics.lock().unwrap_or_else(|p| p.into_inner()).take() {
            if let Some(data) = body.get_mut("event_data").and_then(Value::as_object_mut) {
                data.insert("statistics".into(), stats);
            }
        }
        let event_type = body["event_type"].as_str().unwrap_or_default().to_string();
        match self.platform.emit(&body).await {
            Ok(()) => {
                tracing::info!(%event_type, "answered");
                Ok(event_type)
            }
            Err(e) => {
                tracing::error!(%event_type, error = %e, "the answer could not be delivered");
                Err(format!("the answer {event_type} could not be delivered: {e}"))
            }
        }
    }
}

/// The answer's JSON (protocol §4): new spelling, echoed context, artifacts on extraction events.
pub fn answer_body(
    phase: Option<Phase>,
    outcome: &Outcome,
    context: Map<String, Value>,
    artifacts: Vec<Descriptor>,
) -> Value {
    let event_type = phase.map_or("UNKNOWN_EVENT_TYPE", |p| p.answer(outcome));
    let mut data = Map::new();
    if phase.is_some_and(Phase::is_extraction) {
        data.insert("artifacts".into(), serde_json::to_value(&artifacts).unwrap_or_else(|_| json!([])));
    }
    match outcome {
        Outcome::Delayed { seconds } if event_type.ends_with("_DELAYED") => {
            data.insert("delay".into(), json!(seconds));
        }
        Outcome::Error { message } => {
            data.insert("error".into(), json!({ "message": truncate_message(message) }));
        }
        Outcome::Progress | Outcome::Delayed { .. } if event_type.ends_with("_ERROR") => {
            data.insert("error".into(), json!({"message": "this phase cannot be resumed; it ran out of time"}));
        }
        _ => {}
    }
    let mut meta = Map::new();
    meta.insert("adaas_library_version".into(), json!(PROTOCOL_LIBRARY_VERSION));
    for (ctx_key, meta_key) in [("extract_from", "oldest_state_date"), ("extract_to", "newest_state_date")] {
        if let Some(v) = context.get(ctx_key).filter(|v| v.is_string()) {
            meta.insert(meta_key.into(), v.clone());
        }
    }
    if matches!(outcome, Outcome::Done | Outcome::Progress)
        && matches!(phase, Some(Phase::Data) | Some(Phase::Attachments))
    {
        if let Some(last) = artifacts.last() {
            meta.insert("item_type".into(), json!(last.item_type));
        }
    }
    json!({"event_type": event_type, "event_context": context, "event_data": data, "worker_metadata": meta})
}

impl Worker {
    pub fn new(cfg: Config) -> Result<Worker, net::NetError> {
        let http = net::build_client(cfg.extra_ca_pem.as_deref(), None)?;
        Ok(Worker {
            cfg: Arc::new(cfg),
            http,
            shutdown: CancellationToken::new(),
            limiters: Arc::default(),
            tokens: Arc::default(),
            metrics: None,
            history: None,
        })
    }

    /// Records per-record-type series (items, duration), answers and Graph usage into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Worker {
        self.metrics = Some(metrics);
        self
    }

    /// Keeps every invocation's per-record-type reports and Graph usage (for `report.html`).
    pub fn with_history(mut self, history: Arc<History>) -> Worker {
        self.history = Some(history);
        self
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Asks running invocations to stop at the next page and answer PROGRESS (graceful shutdown).
    pub fn begin_shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Processes one event to completion. Never panics; answers exactly once whenever the event says
    /// where to answer. Returns the answer's event type once delivered, or why there is none.
    pub async fn handle(&self, value: Value) -> Result<String, String> {
        let event = match Event::parse(&value) {
            Ok(event) => event,
            Err(e) => {
                tracing::error!(error = %e, "event refused: it cannot be answered");
                return Err(e.to_string());
            }
        };
        let platform = match Platform::new(&self.cfg, self.http.clone(), &event) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "event refused: its callback URL is not allowed");
                return Err(e.to_string());
            }
        };
        let answer = Arc::new(Answer {
            platform,
            phase: event.phase(),
            context: Mutex::new(event.event_context.clone()),
            sent: AtomicBool::new(false),
            delivered: Mutex::new(None),
            statistics: Mutex::new(None),
        });
        let span = tracing::info_span!("invocation", event_type = %event.raw_type,
            sync_unit = %event.context_str("sync_unit_id"), request_id = %event.context_str("request_id"));
        self.guarded(event, answer.clone()).instrument(span).await;
        let delivered = answer.delivered.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let delivered = delivered.unwrap_or_else(|| Err("no answer was sent".into()));
        if let (Some(m), Ok(event_type)) = (&self.metrics, &delivered) {
            m.incr("entra_airsync_answers_total", &[("event_type", event_type.as_str())], 1);
        }
        delivered
    }

    /// Runs the phase in its own task so that a panic or the hard timeout still ends in an answer.
    async fn guarded(&self, event: Event, answer: Arc<Answer>) {
        tracing::info!("invocation started");
        let started = Instant::now();
        let task = tokio::spawn({
            let worker = self.clone();
            let answer = answer.clone();
            async move { worker.process(event, answer, started).await }.in_current_span()
        });
        let abort = task.abort_handle();
        let failure = match tokio::time::timeout(self.cfg.hard_timeout(), task).await {
            Ok(Ok(())) => None,
            Ok(Err(join)) if join.is_panic() => {
                Some("Worker exited without emitting event. Error: the worker panicked".to_string())
            }
            Ok(Err(_)) => Some("Worker exited without emitting event. Error: the invocation was cancelled".to_string()),
            Err(_) => {
                abort.abort();
                Some("Worker exited without emitting event. Error: the hard timeout was reached".to_string())
            }
        };
        if !answer.sent() {
            let message = failure
                .unwrap_or_else(|| "Worker exited without emitting event. Check the logs for more information.".into());
            tracing::error!(%message, "answering ERROR from the guard");
            answer.send(Outcome::Error { message }, Vec::new()).await;
        }
    }

    async fn process(&self, event: Event, answer: Arc<Answer>, started: Instant) {
        let Some(kind) = event.kind else {
            tracing::warn!(event_type = %event.raw_type, "unknown event type");
            return answer
                .send(Outcome::Error { message: format!("unknown event type {:?}", event.raw_type) }, Vec::new())
                .await;
        };
        let phase = kind.phase();
        let sink = Arc::new(ArtifactSink::new(Arc::new(answer.platform.clone()), self.cfg.batch_size));
        if kind.is_stateless() {
            let outcome = match phase {
                Phase::ExternalSyncUnits => self.external_sync_units(&event, &sink).await,
                _ => Outcome::Done,
            };
            let outcome = flush(&sink, outcome).await;
            return answer.send(outcome, sink.descriptors()).await;
        }
        let (mut state, discovered) = match self.load_state(&event, &answer, kind).await {
            Ok(state) => state,
            Err(outcome) => return answer.send(outcome, Vec::new()).await,
        };
        if let Some(pending) = state.ours.pending.take() {
            let request_id = event.context_str("request_id");
            if phase == Phase::Data && !request_id.is_empty() && pending.request_id == request_id {
                tracing::warn!("the same event again: its first answer never reached the platform; reading again from where that attempt began");
                state.ours = pending.restore(std::mem::take(&mut state.ours));
            }
        }
        let deadline = started + self.cfg.soft_timeout;
        let outcome = match phase {
            Phase::Metadata => {
                let custom = match discovered {
                    Some(custom) => Ok(custom),
                    None => self.discover_custom_fields(&event, &mut state.ours).await,
                };
                match custom {
                    Ok(custom) => {
                        let metadata = schema::external_domain_metadata(&custom);
                        match sink.put_single("external_domain_metadata", vec![metadata], true).await {
                            Ok(()) => Outcome::Done,
                            Err(e) => Outcome::Error { message: e.to_string() },
                        }
                    }
                    Err(outcome) => outcome,
                }
            }
            Phase::Data => {
                let (outcome, stats) = self.data(&event, kind, &mut state, sink.clone(), deadline).await;
                *answer.statistics.lock().unwrap_or_else(|p| p.into_inner()) = stats;
                outcome
            }
            Phase::Attachments => {
                let ctx = answer.context.lock().unwrap_or_else(|p| p.into_inner()).clone();
                window::complete_run(&ctx, &mut state);
                Outcome::Done
            }
            _ => Outcome::Error {
                message: "this connector only extracts (Entra ID → DevRev); loading is not supported".into(),
            },
        };
        let outcome = flush(&sink, outcome).await;
        if sink.failed() {
            // Records of a failed upload were never delivered: keep the stored cursors where they were, so
            // the next attempt reads those records again. Nothing is lost; nothing is saved.
            tracing::error!("an artifact upload failed; the state is not saved so that no record is skipped");
            return answer.send(outcome, Vec::new()).await;
        }
        if let Some(mut pending) = state.ours.pending.take() {
            pending.prune(&state.ours);
            state.ours.pending = Some(pending);
        }
        let outcome = match answer.platform.put_state(&state.to_text()).await {
            Ok(()) => outcome,
            Err(e) => Outcome::Error { message: format!("the state could not be saved: {e}") },
        };
        answer.send(outcome, sink.descriptors()).await;
        let refused = matches!(*answer.delivered.lock().unwrap_or_else(|p| p.into_inner()), Some(Err(_)));
        if let (true, Some(pending)) = (refused, state.ours.pending.take()) {
            // The platform never learnt of this invocation's artifacts: put the cursors back where it began,
            // so that whatever event comes next reads those records again.
            state.ours = pending.restore(std::mem::take(&mut state.ours));
            match answer.platform.put_state(&state.to_text()).await {
                Ok(()) => tracing::warn!("the answer was not delivered; the state is back where this invocation began"),
                Err(e) => {
                    tracing::error!(error = %e, "the answer was not delivered and the state could not be put back")
                }
            }
        }
    }

    /// Reads or initialises state, installs the mapping on a new snap-in version (with the custom fields
    /// discovered for it, also returned), resolves the window.
    async fn load_state(
        &self,
        event: &Event,
        answer: &Answer,
        kind: Incoming,
    ) -> Result<(WorkerState, Option<Vec<schema::CustomField>>), Outcome> {
        let error = |message: String| Outcome::Error { message };
        event.check_stateful().map_err(error)?;
        answer.platform.check_urls(&self.cfg).map_err(|e| error(e.to_string()))?;
        let mut state =
            match answer.platform.get_state().await.map_err(|e| error(format!("the state could not be read: {e}")))? {
                Some(text) => WorkerState::parse(&text).map_err(error)?,
                None => {
                    let state = WorkerState::initial();
                    answer
                        .platform
                        .put_state(&state.to_text())
                        .await
                        .map_err(|e| error(format!("the state could not be initialised: {e}")))?;
                    state
                }
            };
        let mut discovered = None;
        if state.sdk_str("snapInVersionId") != event.snap_in_version_id {
            let custom = self.discover_custom_fields(event, &mut state.ours).await?;
            let mapping = schema::initial_domain_mapping(&custom);
            discovered = Some(custom);
            answer
                .platform
                .install_idm(&event.snap_in_id, &mapping)
                .await
                .map_err(|e| error(format!("Error while installing initial domain mapping. {e}")))?;
            state.set_sdk_str("snapInVersionId", &event.snap_in_version_id);
        }
        let now = Utc::now();
        {
            let mut ctx = answer.context.lock().unwrap_or_else(|p| p.into_inner());
            window::apply(&mut ctx, &mut state, kind == Incoming::StartExtractingMetadata, now).map_err(error)?;
        }
        if kind == Incoming::StartExtractingData && state.sdk_str("lastSyncStarted").is_empty() {
            state.set_sdk_str("lastSyncStarted", &now.to_rfc3339_opts(SecondsFormat::Millis, true));
        }
        Ok((state, discovered))
    }

    /// The users' directory extensions (custom fields), remembered in the state: a failed discovery uses
    /// those of the last successful one; throttling answers DELAYED; a token failure, or any failure when
    /// none is known, is the error.
    async fn discover_custom_fields(
        &self,
        event: &Event,
        state: &mut ConnectorState,
    ) -> Result<Vec<schema::CustomField>, Outcome> {
        let graph = self.graph(event).map_err(|message| Outcome::Error { message })?;
        let token = graph.tokens().token().await.map_err(|e| Outcome::Error { message: e.to_string() })?;
        let roles = engine::plan::token_roles(&token);
        let found = extract::custom_fields::discover_remembered(&graph, roles.as_deref(), state).await;
        found.map_err(|e| match e {
            GraphError::Throttled { retry_after } => Outcome::Delayed { seconds: retry_after.as_secs().max(1) },
            e => Outcome::Error { message: format!("the users' directory extensions could not be discovered: {e}") },
        })
    }

    fn graph(&self, event: &Event) -> Result<GraphClient, String> {
        let (client_id, secret) = event.credentials()?;
        let tokens = self.token_source(&event.tenant, &client_id, &secret)?;
        let limiter = self.limiter(&event.tenant);
        GraphClient::new(
            self.http.clone(),
            &self.cfg.graph_url,
            tokens,
            limiter,
            self.cfg.graph_max_retries,
            self.cfg.graph_retry_base,
        )
        .map_err(|e| e.to_string())
    }

    fn token_source(&self, tenant: &str, client_id: &str, secret: &str) -> Result<TokenSource, String> {
        use std::hash::{Hash, Hasher};
        let mut digest = std::collections::hash_map::DefaultHasher::new();
        secret.hash(&mut digest);
        let key = (tenant.trim().to_ascii_lowercase(), client_id.to_string(), digest.finish());
        let mut all = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = all.get(&key) {
            return Ok(existing.clone());
        }
        let source = TokenSource::client_secret(&self.cfg.authority_host, self.http.clone(), tenant, client_id, secret)
            .map_err(|e| e.to_string())?;
        all.insert(key, source.clone());
        Ok(source)
    }

    /// The tenant's limiter; the identity bucket starts at the smallest size until the tenant is measured.
    fn limiter(&self, tenant: &str) -> Arc<TenantLimiter> {
        let mut all = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        all.entry(tenant.trim().to_ascii_lowercase())
            .or_insert_with(|| Arc::new(TenantLimiter::with_limits(&self.cfg.limits)))
            .clone()
    }

    async fn data(
        &self,
        event: &Event,
        kind: Incoming,
        state: &mut WorkerState,
        sink: Arc<ArtifactSink>,
        deadline: Instant,
    ) -> (Outcome, Option<Value>) {
        let graph = match self.graph(event) {
            Ok(g) => Arc::new(g),
            Err(message) => return (Outcome::Error { message }, None),
        };
        if let Err(e) = graph.tokens().token().await {
            return (Outcome::Error { message: e.to_string() }, None);
        }
        let extractors = extract::all();
        if kind == Incoming::StartExtractingData {
            engine::start_sync(&mut state.ours, &extractors, &event.mode, Utc::now());
            state.ours.plan_pending = true;
        }
        if state.ours.plan_pending {
            let now = state.ours.sync_started.unwrap_or_else(Utc::now);
            match engine::plan::prepare(&graph, &mut state.ours, &extractors, now).await {
                Ok(_) => state.ours.plan_pending = false,
                // Throttled before any record was read: DELAYED, and the CONTINUE makes the plan.
                Err(GraphError::Throttled { retry_after }) => {
                    return (Outcome::Delayed { seconds: retry_after.as_secs().max(1) }, None)
                }
                Err(e) => return (Outcome::Error { message: e.to_string() }, None),
            }
        }
        let before = ConnectorState { pending: None, ..state.ours.clone() };
        let request_id = event.context_str("request_id");
        state.ours.pending = Some(Box::new(PendingAnswer { request_id, before }));
        let custom = match extract::custom_fields::for_data_phase(&graph, &mut state.ours).await {
            Ok(custom) => custom,
            Err(GraphError::Throttled { retry_after }) => {
                return (Outcome::Delayed { seconds: retry_after.as_secs().max(1) }, None)
            }
            Err(e) => return (Outcome::Error { message: e.to_string() }, None),
        };
        let (outcome, reports) = engine::run_data(
            &mut state.ours,
            &extractors,
            graph.clone(),
            sink,
            deadline,
            self.shutdown.clone(),
            custom,
        )
        .await;
        let stats = serde_json::to_value(&reports).ok();
        tracing::info!(requests = graph.request_count(), reports = %serde_json::to_string(&reports).unwrap_or_default(), ?outcome, "data phase ended");
        if let Some(h) = &self.history {
            h.record(&reports, &graph.usage());
        }
        if let Some(m) = &self.metrics {
            for r in &reports {
                let labels = [("record_type", r.record_type.as_str())];
                m.incr("entra_airsync_items_total", &labels, r.items);
                m.add("entra_airsync_extraction_seconds_total", &labels, r.elapsed_ms as f64 / 1000.0);
                if r.status == "skipped" {
                    m.set("entra_airsync_record_type_skipped", &labels, 1.0);
                }
            }
            for (resource, u) in graph.usage() {
                let labels = [("resource", resource.as_str())];
                m.incr("entra_airsync_graph_requests_total", &labels, u.requests);
                m.incr("entra_airsync_graph_resource_units_total", &labels, u.ru);
                m.incr("entra_airsync_graph_throttled_total", &labels, u.throttled);
            }
        }
        (outcome, stats)
    }

    async fn external_sync_units(&self, event: &Event, sink: &ArtifactSink) -> Outcome {
        let graph = match self.graph(event) {
            Ok(g) => g,
            Err(message) => return Outcome::Error { message },
        };
        let org = match graph.get_page("/v1.0/organization?$select=id,displayName,verifiedDomains", false).await {
            Ok(page) => page.owned_items().into_iter().next(),
            Err(e @ GraphError::Auth(_)) => return Outcome::Error { message: e.to_string() },
            Err(e) => return Outcome::Error { message: format!("the tenant could not be read: {e}") },
        };
        let Some(org) = org else {
            return Outcome::Error { message: "the tenant has no organization object".into() };
        };
        let id = org.get("id").and_then(Value::as_str).unwrap_or(&event.tenant).to_string();
        let name = org.get("displayName").and_then(Value::as_str).unwrap_or(&id).to_string();
        let unit = json!({"id": id, "name": name, "description": format!("Microsoft Entra ID tenant {name}"), "item_count": -1, "item_type": "users"});
        match sink.put_single("external_sync_units", vec![unit], false).await {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Error { message: e.to_string() },
        }
    }
}

/// Uploads what is left before answering; a failed upload turns the answer into ERROR.
async fn flush(sink: &ArtifactSink, outcome: Outcome) -> Outcome {
    match sink.flush().await {
        Ok(()) => outcome,
        Err(e) => Outcome::Error { message: e.to_string() },
    }
}
