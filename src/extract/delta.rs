//! A Graph delta round as an extractor: start from the stored `deltaLink` (or a fresh round), follow
//! `nextLink`s page by page with the cursor saved after each, keep the new `deltaLink`; an expired or
//! refused delta link (400/410) restarts the round from scratch and the sync goes on; after a restarted
//! round, the deletions of the gap are read from Graph's recycle bin (`/directory/deletedItems`).

use chrono::Utc;
use serde_json::Value;
use tokio_util::task::AbortOnDropHandle;

use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::line::Record;
use crate::airsync::state::{DeletionGap, TypeState};
use crate::graph::json::{view, Field, Json};
use crate::graph::pager::Page;
use crate::graph::GraphError;

/// Delta links older than this are not trusted (Graph keeps them 7 days).
pub const DELTA_MAX_AGE: chrono::Duration = chrono::Duration::hours(156);
/// Restarts of one round within a sync before the failure is reported.
const MAX_RESTARTS: u32 = 3;
/// Deletions up to this long before the last delta link are read from the recycle bin too (clock skew
/// between Graph and the worker; a deletion sent twice is harmless).
const GAP_OVERLAP: chrono::Duration = chrono::Duration::minutes(15);

/// The recycle-bin type (`/directory/deletedItems/microsoft.graph.<cast>`) of a delta record type whose
/// soft-deleted objects Graph keeps: users, groups (Microsoft 365 groups), applications, service principals.
pub fn recycle_bin_cast(record_type: &str) -> Option<&'static str> {
    match record_type {
        "users" => Some("user"),
        "groups" => Some("group"),
        "applications" => Some("application"),
        "service_principals" => Some("servicePrincipal"),
        _ => None,
    }
}

/// Notes the start of a deletion gap when a round restarts: the last finished round's delta link time
/// (the earliest, if the round restarts again). A type without a recycle bin, or a first round, has none.
fn open_gap(record_type: &str, state: &mut TypeState) {
    if state.gap.is_none() && recycle_bin_cast(record_type).is_some() {
        state.gap = state.delta_at.map(|since| DeletionGap { since, next_link: None });
    }
}

/// Turns one delta entry into the records it carries: `(item type, record)` pairs. A groups entry, for
/// instance, yields the group and one record per `members@delta` entry.
pub type Normalize = fn(&Json, &ExtractCtx) -> Records;

/// The records normalizers give: `(item type, record)` pairs.
pub type Records = Vec<(&'static str, Record)>;

pub struct DeltaExtractor {
    pub record_type: &'static str,
    /// The first request of a round, e.g. `/v1.0/users/delta?$select=…`.
    pub initial_path: String,
    /// Turns one delta entry into records (none for an entry without an id).
    pub normalize: Normalize,
}

/// What a normalizer may need to know about the round a page belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// The round continues from an earlier sync (a stored delta link) or re-reads after a restart in this
    /// sync: DevRev may already hold records, so what is absent from an entry can mean a removal.
    pub incremental: bool,
}

/// Turns one page of entries into records. Families that enrich a page with further (batched) reads or
/// need a lookup table for the invocation implement this; `PerEntry` adapts a `Normalize`.
#[async_trait::async_trait]
pub trait PageNormalizer: Send + Sync {
    async fn page(&self, ctx: &ExtractCtx, round: Round, items: &[Json<'_>]) -> Result<Records, ExtractError>;
}

/// Each entry on its own, with no further reads.
pub struct PerEntry(pub Normalize);

#[async_trait::async_trait]
impl PageNormalizer for PerEntry {
    async fn page(&self, ctx: &ExtractCtx, _: Round, items: &[Json<'_>]) -> Result<Records, ExtractError> {
        Ok(items.iter().flat_map(|item| (self.0)(item, ctx)).collect())
    }
}

/// A delta round whose pages are normalized as a whole (`DeltaExtractor` with a `PageNormalizer`).
pub struct DeltaPages {
    pub record_type: &'static str,
    /// The first request of a round.
    pub initial_path: String,
    pub pages: Box<dyn PageNormalizer>,
    /// A full round read as this list instead, for what a delta round cannot give (an `$expand`): the
    /// round's delta link is taken first (`$deltatoken=latest`), so changes made while the list is read
    /// come in the next round.
    pub full_list: Option<String>,
}

#[async_trait::async_trait]
impl Extractor for DeltaPages {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let paths = Paths { initial: &self.initial_path, full_list: self.full_list.as_deref() };
        run_round(self.record_type, paths, self.pages.as_ref(), ctx, state).await
    }
}

#[async_trait::async_trait]
impl Extractor for DeltaExtractor {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let paths = Paths { initial: &self.initial_path, full_list: None };
        run_round(self.record_type, paths, &PerEntry(self.normalize), ctx, state).await
    }
}

/// Where this run starts: the saved `nextLink`, else a fresh-enough `deltaLink`, else a new round.
fn start(record_type: &'static str, initial_path: &str, state: &mut TypeState) -> (String, bool) {
    if let Some(next) = &state.next_link {
        return (next.clone(), true);
    }
    let fresh = state.delta_at.is_some_and(|at| Utc::now() - at < DELTA_MAX_AGE);
    match (&state.delta_link, fresh) {
        (Some(link), true) => (link.clone(), true),
        (Some(_), false) => {
            tracing::info!(record_type, "stored delta link is older than 6.5 days; starting a full round");
            open_gap(record_type, state);
            state.delta_link = None;
            // A re-read within an incremental sync: counted as a restart, so normalizers know.
            state.restarts += 1;
            (initial_path.to_string(), false)
        }
        (None, _) => (initial_path.to_string(), false),
    }
}

/// Where a new round starts.
#[derive(Clone, Copy)]
struct Paths<'a> {
    initial: &'a str,
    full_list: Option<&'a str>,
}

/// The first request of a new round: the delta round's, or for a list-read type its list, once the delta
/// link that will end the round has been taken (kept in `seed_link` until the list is read).
async fn new_round(ctx: &ExtractCtx, paths: Paths<'_>, state: &mut TypeState) -> Result<String, GraphError> {
    let Some(list) = paths.full_list else { return Ok(paths.initial.to_string()) };
    let sep = if paths.initial.contains('?') { '&' } else { '?' };
    let latest = ctx.graph.get_page(&format!("{}{sep}$deltatoken=latest", paths.initial), false).await?;
    let Some(link) = latest.delta_link else {
        return Err(GraphError::Malformed("a `$deltatoken=latest` answer without a deltaLink".into()));
    };
    state.seed_link = Some(link);
    Ok(list.to_string())
}

/// Runs the round from the cursor in `state` until it finishes or must pause.
async fn run_round(
    record_type: &'static str,
    paths: Paths<'_>,
    pages: &dyn PageNormalizer,
    ctx: &ExtractCtx,
    state: &mut TypeState,
) -> Result<Stop, ExtractError> {
    let initial_path = paths.initial;
    if state.gap.is_some() && state.next_link.is_none() && state.delta_link.is_some() {
        // The restarted round finished in an earlier invocation (or sync); its recycle-bin read did not.
        // Once it has, the round goes on from the new delta link (a cheap round if nothing changed since).
        match read_gap(record_type, pages, ctx, state).await? {
            Stop::Finished if ctx.should_pause() => return Ok(Stop::Paused),
            Stop::Finished => {}
            Stop::Paused => return Ok(Stop::Paused),
        }
    }
    let (mut url, mut is_link) = start(record_type, initial_path, state);
    if !is_link {
        url = new_round(ctx, paths, state).await?;
    }
    // The first page of a run, and the work on it, always complete, so every invocation makes progress
    // however little time is left; later pages stop at the deadline (the cursor still points at the
    // page under way, so it is read again next time).
    let mut first = true;
    let mut first_page_work = true;
    // The next page, fetched while the current one is normalized and uploaded (aborted if dropped).
    let mut prefetched: Option<AbortOnDropHandle<Result<Page, GraphError>>> = None;
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
        } else if let Some(next) = prefetched.take() {
            tokio::select! {
                page = next => page.unwrap_or_else(|e| Err(GraphError::Transient(format!("page prefetch: {e}")))),
                _ = ctx.paused() => return Ok(Stop::Paused),
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
                tracing::warn!(record_type, reason = %why, "delta round refused; restarting it from scratch");
                state.restarts += 1;
                open_gap(record_type, state);
                state.next_link = None;
                state.delta_link = None;
                state.delta_at = None;
                url = new_round(ctx, paths, state).await?;
                is_link = false;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(next) = page.next_link.clone().filter(|_| !ctx.should_pause()) {
            let graph = ctx.graph.clone();
            prefetched = Some(AbortOnDropHandle::new(tokio::spawn(async move { graph.get_page(&next, true).await })));
        }
        let round = Round { incremental: state.delta_link.is_some() || state.restarts > 0 };
        let records = if first_page_work {
            first_page_work = false;
            tokio::select! {
                r = pages.page(ctx, round, page.items()) => r?,
                _ = ctx.stop.cancelled() => return Ok(Stop::Paused),
            }
        } else {
            tokio::select! {
                r = pages.page(ctx, round, page.items()) => r?,
                _ = ctx.paused() => return Ok(Stop::Paused),
            }
        };
        for (item_type, record) in records {
            // `items` counts this record type's own records (a groups round's memberships are not groups).
            if item_type == record_type {
                state.items += 1;
            }
            ctx.sink.push(item_type, record).await?;
        }
        // A list read ends where its last page does, with the delta link taken before it began.
        let delta_link = page.delta_link.or_else(|| page.next_link.is_none().then(|| state.seed_link.take()).flatten());
        match (page.next_link, delta_link) {
            (Some(next), _) => {
                state.next_link = Some(next.clone());
                url = next;
                is_link = true;
            }
            (None, Some(delta)) => {
                state.next_link = None;
                state.delta_link = Some(delta);
                state.delta_at = Some(Utc::now());
                if state.gap.is_none() {
                    return Ok(Stop::Finished);
                }
                if ctx.should_pause() {
                    return Ok(Stop::Paused);
                }
                return read_gap(record_type, pages, ctx, state).await;
            }
            (None, None) => {
                return Err(GraphError::Malformed(format!(
                    "a {record_type} delta page has neither nextLink nor deltaLink"
                ))
                .into());
            }
        }
    }
}

/// Sends a deletion (`changed`: soft-deleted) for every object of the record type that Graph's recycle bin
/// lists as deleted since the gap began, page by page with the cursor saved; then closes the gap. Objects
/// purged from the bin (hard-deleted) are not listed: their deletion stays unreported (docs/contracts.md).
/// Without the permission to read the bin the gap is logged and closed, and the sync goes on.
async fn read_gap(
    record_type: &'static str,
    pages: &dyn PageNormalizer,
    ctx: &ExtractCtx,
    state: &mut TypeState,
) -> Result<Stop, ExtractError> {
    let Some(cast) = recycle_bin_cast(record_type) else {
        state.gap = None;
        return Ok(Stop::Finished);
    };
    let first_url = format!("/v1.0/directory/deletedItems/microsoft.graph.{cast}?$select=id,deletedDateTime&$top=999");
    let mut restarts = 0;
    let mut first = true;
    while let Some(gap) = state.gap.clone() {
        if !first && ctx.should_pause() {
            return Ok(Stop::Paused);
        }
        first = false;
        let is_link = gap.next_link.is_some();
        let url = gap.next_link.clone().unwrap_or_else(|| first_url.clone());
        let page = tokio::select! {
            page = ctx.graph.get_page(&url, is_link) => page,
            _ = ctx.stop.cancelled() => return Ok(Stop::Paused),
        };
        let page = match page {
            Ok(page) => page,
            Err(GraphError::DeltaExpired(why)) if is_link && restarts < MAX_RESTARTS => {
                tracing::warn!(record_type, reason = %why, "recycle-bin page refused; reading the bin again");
                restarts += 1;
                state.gap = Some(DeletionGap { since: gap.since, next_link: None });
                continue;
            }
            Err(e @ (GraphError::Permission { .. } | GraphError::NotFound(_) | GraphError::Rejected { .. })) => {
                tracing::warn!(record_type, error = %e,
                    "cannot read the recycle bin: objects deleted while the delta link was expired stay live in DevRev");
                state.gap = None;
                return Ok(Stop::Finished);
            }
            Err(e) => return Err(e.into()),
        };
        let since = gap.since - GAP_OVERLAP;
        let removed: Vec<Value> = page
            .items()
            .iter()
            .filter(|o| {
                o.field("deletedDateTime")
                    .and_then(Json::as_str)
                    .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                    // An entry without a readable deletion time is reported rather than missed.
                    .is_none_or(|t| t >= since)
            })
            .filter_map(|o| o.field("id").and_then(Json::as_str))
            .map(|id| serde_json::json!({"id": id, "@removed": {"reason": "changed"}}))
            .collect();
        if !removed.is_empty() {
            tracing::info!(record_type, deleted = removed.len(), "deletions read from the recycle bin after a restart");
        }
        let removed: Vec<Json> = removed.iter().map(view).collect();
        let records = pages.page(ctx, Round { incremental: true }, &removed).await?;
        for (item_type, record) in records {
            if item_type == record_type {
                state.items += 1;
            }
            ctx.sink.push(item_type, record).await?;
        }
        state.gap = page.next_link.map(|next| DeletionGap { since: gap.since, next_link: Some(next) });
    }
    Ok(Stop::Finished)
}
