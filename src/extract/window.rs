//! Log windows (audits, sign-ins): from the watermark minus 15 minutes, open-ended, paged, deduplicated by id;
//! the watermark becomes the sync start once the window is complete (first window: the retention limit).

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};

use chrono::{DateTime, Duration, Utc};

use super::fullread::{PageWalk, Step};
use super::norm::filter_floor;
use super::{logs, ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::line::Line;
use crate::airsync::state::TypeState;
use crate::graph::json::{Field, Json};
use crate::graph::GraphError;

/// Overlap of a window with the previous one (late-arriving events).
pub const OVERLAP: Duration = Duration::minutes(15);
/// The first window when no plan set one: Graph keeps at most 30 days.
pub const DEFAULT_RETENTION: Duration = Duration::days(30);
/// Events remembered for deduplication: the last ten pages' worth. An event comes back when newer ones push
/// it onto the next page, so within a page or two; one seen again beyond these is a harmless upsert.
const RECENT_KEPT: usize = 10_000;

/// The record type whose reads also feed the per-user types' security-info changes.
pub const AUDIT_LOGS: &str = "directory_audit_logs";

/// Where a window type's window starts this sync: the watermark minus the overlap, or the default retention.
pub fn window_from(state: &TypeState, sync_time: DateTime<Utc>) -> DateTime<Utc> {
    state.watermark.map_or(sync_time - DEFAULT_RETENTION, |w| w - OVERLAP).min(sync_time)
}

/// One log type read in time windows. A window has no upper bound: an event stamped by a Graph clock ahead of
/// the worker's is read now and again in the next (overlapping) window, never lost; a duplicate is an upsert.
pub struct WindowExtractor {
    pub record_type: &'static str,
    /// The collection, e.g. `/v1.0/auditLogs/directoryAudits`.
    pub path: &'static str,
    /// The property the window filters on (`activityDateTime`, `createdDateTime`).
    pub time_property: &'static str,
    pub top: u32,
    /// One event → its record, written straight to its line.
    pub normalize: fn(&Json, DateTime<Utc>) -> Option<Line>,
}

impl WindowExtractor {
    /// The window of this sync: from the watermark minus the overlap (or the default retention) to the
    /// sync start.
    pub fn window(&self, state: &TypeState, sync_time: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        (window_from(state, sync_time), sync_time)
    }

    /// The window's first page: everything since `from` (no upper bound: see the module comment).
    pub fn first_url(&self, from: DateTime<Utc>) -> String {
        format!("{}?$filter={}%20ge%20{}&$top={}", self.path, self.time_property, filter_floor(from), self.top)
    }
}

#[async_trait::async_trait]
impl Extractor for WindowExtractor {
    fn record_type(&self) -> &'static str {
        self.record_type
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let (from, to) = self.window(state, ctx.sync_time);
        let first = self.first_url(from);
        let mut walk = PageWalk::resume(state, &first);
        let mut recent = RecentIds::default();
        // The audit log's pages also carry the per-user types' security-info changes (`audit_feed`); the
        // feed counts on this read only when it covers the whole window (no saved page: engine).
        let mut feed = (self.record_type == AUDIT_LOGS).then(|| ctx.audit_feed.producer());
        loop {
            let page = match walk.fetch(ctx).await {
                Ok(Step::Page(page)) => page,
                Ok(Step::Paused) => return Ok(Stop::Paused),
                Err(GraphError::DeltaExpired(why)) if walk.restart(state, &first, &why, self.record_type) => continue,
                Err(e) => return Err(e.into()),
            };
            if let Some(feed) = feed.as_mut() {
                feed.note(page.items());
            }
            for item in page.items() {
                let Some(id) = item.field("id").and_then(|v| v.as_str()) else { continue };
                if !recent.first_time(id) {
                    continue;
                }
                if let Some(record) = (self.normalize)(item, ctx.sync_time) {
                    ctx.sink.push(self.record_type, record).await?;
                    state.items += 1;
                }
            }
            if !walk.advance(state, page.next_link) {
                state.watermark = Some(to);
                if let Some(feed) = feed.take() {
                    feed.complete();
                }
                return Ok(Stop::Finished);
            }
        }
    }
}

/// The ids of the last [`RECENT_KEPT`] events read, as 64-bit hashes (about 250 KB at most, whatever the
/// window's size).
#[derive(Default)]
struct RecentIds {
    keys: HashSet<u64>,
    order: VecDeque<u64>,
    hasher: RandomState,
}

impl RecentIds {
    /// Whether `id` is not among the recent ids; it is one of them from now on.
    fn first_time(&mut self, id: &str) -> bool {
        let key = self.hasher.hash_one(id);
        if !self.keys.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > RECENT_KEPT {
            if let Some(oldest) = self.order.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        true
    }
}

pub fn directory_audit_logs() -> WindowExtractor {
    WindowExtractor {
        record_type: AUDIT_LOGS,
        path: "/v1.0/auditLogs/directoryAudits",
        time_property: "activityDateTime",
        top: 1000,
        normalize: logs::normalize_audit,
    }
}

pub fn sign_in_logs() -> WindowExtractor {
    WindowExtractor {
        record_type: "sign_in_logs",
        path: "/v1.0/auditLogs/signIns",
        time_property: "createdDateTime",
        top: 1000,
        normalize: logs::normalize_sign_in,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_overlap_and_start_at_retention() {
        let sync = DateTime::parse_from_rfc3339("2026-03-10T12:00:00Z").unwrap().with_timezone(&Utc);
        let ex = directory_audit_logs();
        let mut st = TypeState::default();
        assert_eq!(ex.window(&st, sync).0, sync - Duration::days(30));
        st.watermark = Some(sync - Duration::hours(6));
        let (from, to) = ex.window(&st, sync);
        assert_eq!((from, to), (sync - Duration::hours(6) - Duration::minutes(15), sync));
        assert_eq!(
            ex.first_url(from),
            "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime%20ge%202026-03-10T05:45:00Z&$top=1000"
        );
        assert!(sign_in_logs().first_url(from).contains("createdDateTime%20ge%20"));
    }

    #[test]
    fn an_event_is_skipped_while_recent_and_memory_stays_bounded() {
        let mut recent = RecentIds::default();
        assert!(recent.first_time("e0"));
        assert!(!recent.first_time("e0"), "seen again on the next page: skipped");
        for i in 1..=RECENT_KEPT {
            assert!(recent.first_time(&format!("e{i}")));
        }
        assert_eq!(recent.keys.len(), RECENT_KEPT);
        assert_eq!(recent.order.len(), RECENT_KEPT);
        assert!(recent.first_time("e0"), "forgotten after RECENT_KEPT newer events: sent again (an upsert)");
        assert!(!recent.first_time(&format!("e{RECENT_KEPT}")));
    }
}
