//! Orchestration of the data phase: prepare each record type's cursor at the start of a sync, run the
//! extractors concurrently under one deadline, and turn how they ended into one outcome (DONE, PROGRESS,
//! DELAYED, ERROR) with per-record-type statistics. Skips (permission, licence) never fail the sync.

pub mod plan;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::future::join_all;
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::airsync::artifacts::ArtifactSink;
use crate::airsync::event::Outcome;
use crate::airsync::state::{ConnectorState, Status};
use crate::extract::audit_feed::AuditFeed;
use crate::extract::authmethods::MethodsSource;
use crate::extract::{window, ExtractCtx, ExtractError, Extractor, Stop};
use crate::graph::{GraphClient, GraphError};
use crate::schema::CustomField;

/// Per-record-type result of one invocation, for logs, the answer and reports.
#[derive(Clone, Debug, Serialize)]
pub struct TypeReport {
    pub record_type: String,
    pub status: String,
    pub items: u64,
    /// Time this record type ran in this invocation.
    pub elapsed_ms: u64,
    /// When it started and finished in this invocation (Unix milliseconds), for timelines.
    pub started_unix_ms: i64,
    pub finished_unix_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a skipped type: whether a permission or a licence is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip: Option<plan::SkipKind>,
}

/// Prepares the cursors at `START_EXTRACTING_DATA`. An INITIAL import re-reads everything; an
/// incremental sync continues from each type's stored delta link.
pub fn start_sync(state: &mut ConnectorState, extractors: &[Box<dyn Extractor>], mode: &str, now: DateTime<Utc>) {
    state.sync_started = Some(now);
    for ex in extractors {
        let st = state.types.entry(ex.record_type().to_string()).or_default();
        st.status = Status::Running;
        st.reason = None;
        st.next_link = None;
        st.seed_link = None;
        st.items = 0;
        st.restarts = 0;
        st.reread_after = None;
        st.reread_link = None;
        if let Some(ids) = st.snapshot.as_mut() {
            ids.current.clear();
            ids.overflow = false;
        }
        if let Some(gap) = st.gap.as_mut() {
            // An unfinished recycle-bin read of an earlier sync starts over.
            gap.next_link = None;
        }
        if mode.eq_ignore_ascii_case("INITIAL") {
            st.delta_link = None;
            st.delta_at = None;
            st.watermark = None;
            st.gap = None;
        }
    }
}

const METHODS: &str = "authentication_methods";
const REGISTRATIONS: &str = "user_registration_details";

/// Whether this sync reads the authentication methods from the registration report: both types are planned
/// (neither skipped for a permission or the licence). The report read produces the methods' records.
fn methods_from_report(state: &ConnectorState) -> bool {
    [METHODS, REGISTRATIONS].iter().all(|t| state.types.get(*t).is_some_and(|st| st.status != Status::Skipped))
}

/// Runs every unfinished record type until all are done or the deadline passes.
pub async fn run_data(
    state: &mut ConnectorState,
    extractors: &[Box<dyn Extractor>],
    graph: Arc<GraphClient>,
    sink: Arc<ArtifactSink>,
    deadline: Instant,
    stop: CancellationToken,
    custom_fields: Arc<Vec<CustomField>>,
) -> (Outcome, Vec<TypeReport>) {
    let sync_time = state.sync_started.unwrap_or_else(Utc::now);
    let mut pending = Vec::new();
    for ex in extractors {
        let st = state.types.entry(ex.record_type().to_string()).or_default();
        if st.status == Status::Pending {
            st.status = Status::Running;
        }
        if st.status == Status::Running {
            pending.push((ex, st.clone()));
        }
    }
    let audit_feed = AuditFeed::new(
        pending
            .iter()
            .find(|(ex, st)| ex.record_type() == window::AUDIT_LOGS && st.next_link.is_none())
            .map(|(_, st)| window::window_from(st, sync_time)),
    );
    let methods = MethodsSource::new(methods_from_report(state));
    let ctx = ExtractCtx { graph, sink, deadline, stop, sync_time, custom_fields, audit_feed, methods };
    let ctx = &ctx;
    let runs = pending.into_iter().map(|(ex, mut st)| async move {
        let started = std::time::Instant::now();
        let started_unix_ms = Utc::now().timestamp_millis();
        let result = ex.run(ctx, &mut st).await;
        tracing::info!(record_type = ex.record_type(), items = st.items, elapsed_ms = started.elapsed().as_millis() as u64, result = ?result.as_ref().map_err(|e| e.to_string()), "record type ran");
        (ex.record_type(), st, result, (started.elapsed().as_millis() as u64, started_unix_ms))
    });
    let results = join_all(runs).await;
    let report_methods = ctx.methods.pushed();

    let mut delayed: Option<u64> = None;
    let mut paused = false;
    let mut errors = Vec::new();
    let mut elapsed = std::collections::HashMap::new();
    for (record_type, mut st, result, timing) in results {
        elapsed.insert(record_type, timing);
        if record_type == METHODS {
            st.items += report_methods;
        }
        match result {
            Ok(Stop::Finished) => st.status = Status::Done,
            Ok(Stop::Paused) => paused = true,
            Err(ExtractError::Graph(GraphError::Permission { code, message })) => {
                tracing::warn!(record_type, %code, "permission missing; record type skipped");
                st.status = Status::Skipped;
                let grant = crate::schema::record_type(record_type)
                    .map(|rt| {
                        format!(
                            "; grant the Microsoft Graph application permission {} and admin consent",
                            plan::recommended(rt.permissions)
                        )
                    })
                    .unwrap_or_default();
                st.reason = Some(format!("permission denied ({code}): {message}{grant}"));
            }
            Err(ExtractError::Graph(GraphError::Licence { code, .. })) => {
                tracing::warn!(record_type, %code, "licence missing; record type skipped");
                st.status = Status::Skipped;
                let needed = crate::schema::record_type(record_type)
                    .map(|rt| {
                        format!(": {}", plan::licence_reason(rt.licence, None).trim_start_matches("Not licensed: "))
                    })
                    .unwrap_or_default();
                st.reason = Some(format!("not licensed ({code}){needed}"));
            }
            Err(ExtractError::Graph(GraphError::Throttled { retry_after })) => {
                let secs = retry_after.as_secs().max(1);
                delayed = Some(delayed.map_or(secs, |d| d.max(secs)));
            }
            Err(e) => errors.push(format!("{record_type}: {e}")),
        }
        state.types.insert(record_type.to_string(), st);
    }
    let reports = extractors
        .iter()
        .filter_map(|ex| {
            let st = state.types.get(ex.record_type())?;
            Some(TypeReport {
                record_type: ex.record_type().to_string(),
                status: format!("{:?}", st.status).to_lowercase(),
                items: st.items,
                elapsed_ms: elapsed.get(ex.record_type()).map_or(0, |t| t.0),
                started_unix_ms: elapsed.get(ex.record_type()).map_or(0, |t| t.1),
                finished_unix_ms: elapsed.get(ex.record_type()).map_or(0, |t| t.1 + t.0 as i64),
                reason: st.reason.clone(),
                skip: if st.status == Status::Skipped { st.reason.as_deref().and_then(plan::skip_kind) } else { None },
            })
        })
        .collect();
    let outcome = if !errors.is_empty() {
        Outcome::Error { message: errors.join("; ") }
    } else if let Some(seconds) = delayed {
        Outcome::Delayed { seconds }
    } else if paused {
        Outcome::Progress
    } else {
        Outcome::Done
    };
    (outcome, reports)
}
