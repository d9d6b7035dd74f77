//! A full paged read as an extractor, for record types Graph offers no delta for (snapshots): start at
//! the first page or the saved `nextLink`, save the cursor after each page, finish on the last page.

use super::delta::{PageNormalizer, Records, Round};
use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::TypeState;
use crate::graph::json::Json;
use crate::graph::pager::Page;
use crate::graph::GraphError;

/// Restarts of one read within a sync (a refused `nextLink`) before the failure is reported.
const MAX_RESTARTS: u32 = 3;

pub struct ListExtractor {
    /// The state key and the main record type produced.
    pub record_type: &'static str,
    /// The first request, e.g. `/v1.0/roleManagement/directory/roleAssignments`.
    pub path: String,
    /// Turns a page of objects into records (may read more through `$batch`).
    pub normalize: Box<dyn PageNormalizer>,
}

impl ListExtractor {
    async fn fetch(&self, ctx: &ExtractCtx, url: &str, is_link: bool, first: bool) -> Option<Result<Page, GraphError>> {
        if first {
            tokio::select! {
                page = ctx.graph.get_page(url, is_link) => Some(page),
                _ = ctx.stop.cancelled() => None,
            }
        } else {
            tokio::select! {
                page = ctx.graph.get_page(url, is_link) => Some(page),
                _ = ctx.paused() => None,
            }
        }
    }

    async fn records(
        &self,
        ctx: &ExtractCtx,
        items: &[Json<'_>],
        first: bool,
    ) -> Option<Result<Records, ExtractError>> {
        let round = Round { incremental: false };
        if first {
            tokio::select! {
                r = self.normalize.page(ctx, round, items) => Some(r),
                _ = ctx.stop.cancelled() => None,
            }
        } else {
            tokio::select! {
                r = self.normalize.page(ctx, round, items) => Some(r),
                _ = ctx.paused() => None,
            }
        }
    }
}

#[async_trait::async_trait]
impl Extractor for ListExtractor {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let (mut url, mut is_link) = match &state.next_link {
            Some(next) => (next.clone(), true),
            None => (self.path.clone(), false),
        };
        // The first page of a run, and its records, always complete: every invocation makes progress.
        let mut first = true;
        loop {
            if !first && ctx.should_pause() {
                return Ok(Stop::Paused);
            }
            let page = match self.fetch(ctx, &url, is_link, first).await {
                None => return Ok(Stop::Paused),
                Some(Ok(page)) => page,
                Some(Err(GraphError::DeltaExpired(why))) if is_link && state.restarts < MAX_RESTARTS => {
                    tracing::warn!(record_type = self.record_type, reason = %why, "paging link refused; reading again from the start");
                    state.restarts += 1;
                    state.next_link = None;
                    url = self.path.clone();
                    is_link = false;
                    continue;
                }
                Some(Err(e)) => return Err(e.into()),
            };
            let records = match self.records(ctx, page.items(), first).await {
                None => return Ok(Stop::Paused),
                Some(r) => r?,
            };
            first = false;
            for (item_type, record) in records {
                // `items` counts this record type's own records, as for delta rounds.
                if item_type == self.record_type {
                    state.items += 1;
                }
                ctx.sink.push(item_type, record).await?;
            }
            match page.next_link {
                Some(next) => {
                    state.next_link = Some(next.clone());
                    url = next;
                    is_link = true;
                }
                None => {
                    state.next_link = None;
                    return Ok(Stop::Finished);
                }
            }
        }
    }
}
