//! Full reads of plain paged collections (snapshot record types): walk `nextLink`s with the cursor saved
//! after each page, pause between pages at the deadline, restart the read if a saved link is refused.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;

use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::TypeState;
use crate::graph::json::{view, Json};
use crate::graph::pager::Page;
use crate::graph::GraphError;

/// Restarts of one read within a sync before the failure is reported.
const MAX_RESTARTS: u32 = 3;
/// How long past the soft deadline the first page of a run may still wait (e.g. for a reports-bucket
/// token); the hard timeout is always at least 2 s after the soft one, so flush and state still fit.
pub const FIRST_PAGE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// What fetching the next page gave.
pub enum Step {
    Page(Page),
    /// The deadline passed or shutdown began: the cursor stays where it is.
    Paused,
}

/// A walk over the pages of one collection, resumable from `TypeState.next_link`.
pub struct PageWalk {
    url: String,
    is_link: bool,
    wait: Wait,
}

/// What may keep the next page from being fetched.
enum Wait {
    /// The first page of a run: fetched even after the deadline, unless it cannot start within a short grace.
    Grace,
    /// A later page: not once the deadline has passed.
    Deadline,
    /// A page that belongs with the ones before it (`follow`): only shutdown stops it.
    Shutdown,
}

impl PageWalk {
    /// Starts at the saved `nextLink`, else at `first_url`.
    pub fn resume(state: &TypeState, first_url: &str) -> PageWalk {
        match &state.next_link {
            Some(link) => PageWalk { url: link.clone(), is_link: true, wait: Wait::Grace },
            None => PageWalk { url: first_url.to_string(), is_link: false, wait: Wait::Grace },
        }
    }

    /// The next page. The first page of a run is fetched even after the deadline (so that every invocation
    /// makes progress) unless it cannot start within a short grace (a throttled bucket); later pages stop at
    /// the deadline, except those `follow` reached.
    pub async fn fetch(&mut self, ctx: &ExtractCtx) -> Result<Step, GraphError> {
        let get = ctx.graph.get_page(&self.url, self.is_link);
        let page = match std::mem::replace(&mut self.wait, Wait::Deadline) {
            Wait::Grace => tokio::select! {
                page = get => page,
                _ = ctx.stop.cancelled() => return Ok(Step::Paused),
                _ = tokio::time::sleep_until(ctx.deadline + FIRST_PAGE_GRACE) => return Ok(Step::Paused),
            },
            Wait::Deadline if ctx.should_pause() => return Ok(Step::Paused),
            Wait::Deadline => tokio::select! {
                page = get => page,
                _ = ctx.paused() => return Ok(Step::Paused),
            },
            Wait::Shutdown => tokio::select! {
                page = get => page,
                _ = ctx.stop.cancelled() => return Ok(Step::Paused),
            },
        };
        page.map(Step::Page)
    }

    /// Moves the cursor past a processed page; false when the collection is finished.
    pub fn advance(&mut self, state: &mut TypeState, next_link: Option<String>) -> bool {
        match next_link {
            Some(next) => {
                state.next_link = Some(next.clone());
                self.url = next;
                self.is_link = true;
                true
            }
            None => {
                state.next_link = None;
                false
            }
        }
    }

    /// Goes on to the next page without moving the saved cursor, for pages processed together: the next
    /// page is fetched past the deadline too (the caller bounds how many), and a paused run starts again
    /// from the saved cursor.
    pub fn follow(&mut self, next_link: String) {
        self.url = next_link;
        self.is_link = true;
        self.wait = Wait::Shutdown;
    }

    /// A refused saved link (400/410 on a `nextLink`): start again from the first page, a bounded number
    /// of times per sync. Returns false when the budget is spent.
    pub fn restart(&mut self, state: &mut TypeState, first_url: &str, why: &str, record_type: &str) -> bool {
        if state.restarts >= MAX_RESTARTS {
            return false;
        }
        tracing::warn!(record_type, reason = %why, "a saved page link was refused; reading the collection again");
        state.restarts += 1;
        state.next_link = None;
        *self = PageWalk { url: first_url.to_string(), is_link: false, wait: Wait::Deadline };
        true
    }
}

/// One collection object → its record (None for an object without an id).
pub type NormalizeOne = fn(&Json, DateTime<Utc>) -> Option<Value>;

/// Optional per-page enrichment (e.g. a workflow's tasks through `$batch`) before normalizing.
pub type Enrich = for<'a> fn(&'a ExtractCtx, Vec<Value>) -> BoxFuture<'a, Result<Vec<Value>, GraphError>>;

/// A snapshot record type read in full every sync from one paged collection.
pub struct FullReadExtractor {
    pub record_type: &'static str,
    /// The first request, e.g. `/v1.0/identity/conditionalAccess/policies`.
    pub path: String,
    pub normalize: NormalizeOne,
    pub enrich: Option<Enrich>,
}

#[async_trait::async_trait]
impl Extractor for FullReadExtractor {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let mut walk = PageWalk::resume(state, &self.path);
        loop {
            let page = match walk.fetch(ctx).await {
                Ok(Step::Page(page)) => page,
                Ok(Step::Paused) => return Ok(Stop::Paused),
                Err(GraphError::DeltaExpired(why)) if walk.restart(state, &self.path, &why, self.record_type) => {
                    continue
                }
                Err(e) => return Err(e.into()),
            };
            let enriched = match self.enrich {
                Some(enrich) => enrich(ctx, page.owned_items()).await?,
                None => Vec::new(),
            };
            let views: Vec<Json> = enriched.iter().map(view).collect();
            let items = if self.enrich.is_some() { &views[..] } else { page.items() };
            for item in items {
                if let Some(record) = (self.normalize)(item, ctx.sync_time) {
                    ctx.sink.push(self.record_type, record).await?;
                    state.items += 1;
                }
            }
            if !walk.advance(state, page.next_link) {
                return Ok(Stop::Finished);
            }
        }
    }
}
