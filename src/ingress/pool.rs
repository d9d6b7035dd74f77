//! The bounded invocation pool: at most `max_concurrency` handler calls at once, at most
//! `max_queue` more waiting, request-id deduplication, completion signals and drain-waiting.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::FutureExt as _;
use serde_json::Value;
use tokio::sync::{watch, Semaphore};

use super::metrics::Metrics;
use super::EventHandler;

/// How one invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Completed,
    Panicked,
}

/// Resolves when an invocation (ours, or the one we are a duplicate of) has ended.
pub(crate) struct Completion(watch::Receiver<Option<Outcome>>);

impl Completion {
    pub(crate) async fn wait(mut self) -> Outcome {
        match self.0.wait_for(Option::is_some).await {
            Ok(v) => (*v).unwrap_or(Outcome::Completed),
            // Sender dropped without a value: the task was torn down (runtime shutdown).
            Err(_) => Outcome::Panicked,
        }
    }
}

/// Admission of one event.
pub(crate) enum Admitted {
    /// Started (or queued for a free slot).
    Started(Completion),
    /// Same request id as an invocation already running or queued; not started again.
    Duplicate(Completion),
}

/// The pool has no room for the batch.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Try again later (answer 503 + Retry-After).
    Busy,
    /// The batch can never fit (more new events than concurrency + queue).
    TooManyEvents { capacity: usize },
    /// Shutdown has begun; no new invocations.
    ShuttingDown,
}

#[derive(Default)]
struct State {
    /// Admitted and not finished (running + queued).
    pending: usize,
    running: usize,
    /// Set by [`Pool::close`]: admissions refused from then on.
    closed: bool,
    /// Request ids of pending invocations → their completion signal.
    active: HashMap<String, watch::Receiver<Option<Outcome>>>,
}

pub(crate) struct Pool {
    handler: Arc<dyn EventHandler>,
    metrics: Arc<Metrics>,
    slots: Arc<Semaphore>,
    capacity: usize,
    state: Mutex<State>,
    /// Number of pending invocations, for [`Pool::wait_idle`].
    pending_tx: watch::Sender<usize>,
}

pub(crate) const IN_FLIGHT: &str = "entra_airsync_invocations_in_flight";
pub(crate) const QUEUE_DEPTH: &str = "entra_airsync_queue_depth";
pub(crate) const INVOCATIONS: &str = "entra_airsync_invocations_total";
pub(crate) const DUPLICATES: &str = "entra_airsync_duplicate_events_total";
pub(crate) const REFUSED: &str = "entra_airsync_refused_events_total";

/// The request id used for deduplication: `payload.event_context.request_id`, else
/// `execution_metadata.request_id` (non-empty strings only).
pub(crate) fn request_id(event: &Value) -> Option<&str> {
    fn non_empty(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    non_empty(event.pointer("/payload/event_context/request_id"))
        .or_else(|| non_empty(event.pointer("/execution_metadata/request_id")))
}

impl Pool {
    pub(crate) fn new(
        handler: Arc<dyn EventHandler>,
        metrics: Arc<Metrics>,
        max_concurrency: usize,
        max_queue: usize,
    ) -> Arc<Pool> {
        let (pending_tx, _) = watch::channel(0);
        Arc::new(Pool {
            handler,
            metrics,
            slots: Arc::new(Semaphore::new(max_concurrency)),
            capacity: max_concurrency.saturating_add(max_queue),
            state: Mutex::new(State::default()),
            pending_tx,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Every critical section is a few counter updates and map operations that cannot panic
        // half-way in a way that matters; keep going on a poisoned lock.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admit a batch atomically: either every non-duplicate event is started/queued, or none is.
    pub(crate) fn submit(self: &Arc<Self>, events: Vec<Value>) -> Result<Vec<Admitted>, Refused> {
        let mut state = self.lock();
        if state.closed {
            self.metrics.incr(REFUSED, &[("reason", "shutting_down")], events.len() as u64);
            return Err(Refused::ShuttingDown);
        }

        // Classify first, without side effects.
        let mut seen: HashSet<String> = HashSet::new();
        let mut new_count = 0usize;
        let mut dups: Vec<bool> = Vec::with_capacity(events.len());
        let mut ids: Vec<Option<String>> = Vec::with_capacity(events.len());
        for event in &events {
            let id = request_id(event).map(str::to_owned);
            let duplicate = match &id {
                Some(id) => state.active.contains_key(id) || !seen.insert(id.clone()),
                None => false,
            };
            if !duplicate {
                new_count += 1;
            }
            dups.push(duplicate);
            ids.push(id);
        }
        if new_count > self.capacity {
            self.metrics.incr(REFUSED, &[("reason", "batch_too_large")], events.len() as u64);
            return Err(Refused::TooManyEvents { capacity: self.capacity });
        }
        if state.pending + new_count > self.capacity {
            self.metrics.incr(REFUSED, &[("reason", "busy")], events.len() as u64);
            return Err(Refused::Busy);
        }

        let mut admitted = Vec::with_capacity(events.len());
        for ((event, id), duplicate) in events.into_iter().zip(ids).zip(dups) {
            if duplicate {
                // The id is in `active` now (inserted earlier in this loop or before).
                let rx = id.as_ref().and_then(|id| state.active.get(id)).cloned();
                if let Some(rx) = rx {
                    tracing::info!(
                        request_id = id.as_deref().unwrap_or_default(),
                        "duplicate event: an invocation with this request_id is already running or queued; not started again"
                    );
                    self.metrics.incr(DUPLICATES, &[], 1);
                    admitted.push(Admitted::Duplicate(Completion(rx)));
                    continue;
                }
            }
            let (done_tx, done_rx) = watch::channel(None);
            if let Some(id) = &id {
                state.active.insert(id.clone(), done_rx.clone());
            }
            state.pending += 1;
            self.spawn(event, id, done_tx);
            admitted.push(Admitted::Started(Completion(done_rx)));
        }
        self.publish(&state);
        Ok(admitted)
    }

    fn spawn(self: &Arc<Self>, event: Value, id: Option<String>, done_tx: watch::Sender<Option<Outcome>>) {
        let pool = Arc::clone(self);
        tokio::spawn(async move {
            // Dropped on every exit path (including a runtime teardown), so the pool never leaks
            // a slot, a pending count or a dedup entry.
            let mut guard = Finish { pool: Arc::clone(&pool), id, running: false, outcome: None, done_tx };
            let Ok(_permit) = Arc::clone(&pool.slots).acquire_owned().await else {
                return; // the semaphore is never closed
            };
            {
                let mut state = pool.lock();
                state.running += 1;
                guard.running = true;
                pool.publish(&state);
            }
            let started = std::time::Instant::now();
            let result = std::panic::AssertUnwindSafe(pool.handler.handle(event)).catch_unwind().await;
            let outcome = match result {
                Ok(()) => Outcome::Completed,
                Err(_) => {
                    tracing::error!(request_id = guard.id.as_deref().unwrap_or_default(), "event handler panicked");
                    Outcome::Panicked
                }
            };
            tracing::debug!(
                request_id = guard.id.as_deref().unwrap_or_default(),
                duration_ms = started.elapsed().as_millis() as u64,
                ?outcome,
                "invocation finished"
            );
            guard.outcome = Some(outcome);
        });
    }

    fn publish(&self, state: &State) {
        self.metrics.set(IN_FLIGHT, &[], state.running as f64);
        self.metrics.set(QUEUE_DEPTH, &[], state.pending.saturating_sub(state.running) as f64);
        self.pending_tx.send_replace(state.pending);
    }

    /// Refuse every later admission (shutdown). Already admitted invocations still run.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
    }

    /// Invocations admitted and not finished (running + queued).
    pub(crate) fn pending(&self) -> usize {
        self.lock().pending
    }

    /// Resolves once no invocation is running or queued.
    pub(crate) async fn wait_idle(&self) {
        let mut rx = self.pending_tx.subscribe();
        // The sender lives as long as `self`, so this cannot fail while we borrow it.
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

struct Finish {
    pool: Arc<Pool>,
    id: Option<String>,
    running: bool,
    outcome: Option<Outcome>,
    done_tx: watch::Sender<Option<Outcome>>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Panicked);
        {
            let mut state = self.pool.lock();
            if let Some(id) = &self.id {
                state.active.remove(id);
            }
            state.pending = state.pending.saturating_sub(1);
            if self.running {
                state.running = state.running.saturating_sub(1);
            }
            self.pool.publish(&state);
        }
        let label = match outcome {
            Outcome::Completed => "completed",
            Outcome::Panicked => "panicked",
        };
        self.pool.metrics.incr(INVOCATIONS, &[("outcome", label)], 1);
        self.done_tx.send_replace(Some(outcome));
    }
}
