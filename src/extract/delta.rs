//! A Graph delta round as an extractor: start from the stored `deltaLink` (or a fresh round), follow
//! `nextLink`s page by page with the cursor saved after each, keep the new `deltaLink`; an expired or
//! refused delta link (400/410) restarts the round from scratch and the sync goes on.

use chrono::Utc;
use serde_json::Value;

use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::TypeState;
use crate::graph::GraphError;

/// Delta links older than this are not trusted (Graph keeps them 7 days).
pub const DELTA_MAX_AGE: chrono::Duration = chrono::Duration::hours(156);
/// Restarts of one round within a sync before the failure is reported.
const MAX_RESTARTS: u32 = 3;

/// Turns one delta entry into the records it carries: `(item type, record)` pairs. A groups entry, for
/// instance, yields the group and one record per `members@delta` entry.
pub type Normalize = fn(&Value, &ExtractCtx) -> Vec<(&'static str, Value)>;

pub struct DeltaExtractor {
    pub record_type: &'static str,
    /// The first request of a round, e.g. `/v1.0/users/delta?$select=…`.
    pub initial_path: String,
    /// Turns one delta entry into records (none for an entry without an id).
    pub normalize: Normalize,
}

impl DeltaExtractor {
    /// Where this run starts: the saved `nextLink`, else a fresh-enough `deltaLink`, else a new round.
    fn start(&self, state: &mut TypeState) -> (String, bool) {
        if let Some(next) = &state.next_link {
            return (next.clone(), true);
        }
        let fresh = state.delta_at.is_some_and(|at| Utc::now() - at < DELTA_MAX_AGE);
        match (&state.delta_link, fresh) {
            (Some(link), true) => (link.clone(), true),
            (Some(_), false) => {
                tracing::info!(
                    record_type = self.record_type,
                    "stored delta link is older than 6.5 days; starting a full round"
                );
                state.delta_link = None;
                (self.initial_path.clone(), false)
            }
            (None, _) => (self.initial_path.clone(), false),
        }
    }
}

#[async_trait::async_trait]
impl Extractor for DeltaExtractor {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let (mut url, mut is_link) = self.start(state);
        // The first page of a run is always fetched, so every invocation makes progress however little
        // time is left; later pages stop at the deadline.
        let mut first = true;
        loop {
            if !first && ctx.should_pause() {
                return Ok(Stop::Paused);
            }
            let page = if first {
                first = false;
                tokio::select! {
                    page = ctx.graph.get_page(&url, is_link) => page,
                    _ = ctx.stop.cancelled() => return Ok(Stop::Paused),
                }
            } else {
                tokio::select! {
                    page = ctx.graph.get_page(&url, is_link) => page,
                    _ = ctx.paused() => return Ok(Stop::Paused),
                }
            };
            let page = match page {
                Ok(page) => page,
                Err(GraphError::DeltaExpired(why)) if state.restarts < MAX_RESTARTS => {
                    tracing::warn!(record_type = self.record_type, reason = %why, "delta round refused; restarting it from scratch");
                    state.restarts += 1;
                    state.next_link = None;
                    state.delta_link = None;
                    state.delta_at = None;
                    url = self.initial_path.clone();
                    is_link = false;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for item in &page.items {
                for (item_type, record) in (self.normalize)(item, ctx) {
                    ctx.sink.push(item_type, record).await?;
                    state.items += 1;
                }
            }
            match (page.next_link, page.delta_link) {
                (Some(next), _) => {
                    state.next_link = Some(next.clone());
                    url = next;
                    is_link = true;
                }
                (None, Some(delta)) => {
                    state.next_link = None;
                    state.delta_link = Some(delta);
                    state.delta_at = Some(Utc::now());
                    return Ok(Stop::Finished);
                }
                (None, None) => {
                    return Err(GraphError::Malformed(format!(
                        "a {} delta page has neither nextLink nor deltaLink",
                        self.record_type
                    ))
                    .into());
                }
            }
        }
    }
}
