//! One read of the directory audit events per sync window, shared: the audit-log extractor notes the
//! security-info changes on the pages it reads, and the per-user types (methods, registrations) take them.
//!
//! A consumer uses the feed only when the audit-log extractor reads its whole window in this invocation from
//! no later than the consumer's own window start (decided before the extractors start); in every other case
//! (the audit type skipped, already done, resuming a saved page, paused, failed) it reads the audits itself.

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::norm::parse_ts;
use super::security_info::{change_of, merge, Change, Triggers};
use crate::graph::json::{Field, Json};

/// One change an audit event named, with when it happened and whether role changes alone triggered it.
#[derive(Clone, Debug)]
struct Noted {
    at: Option<DateTime<Utc>>,
    change: Change,
    /// Named only under `Triggers::MethodsAndRoles` (a role change), not under `Triggers::Methods`.
    roles_only: bool,
}

#[derive(Clone, Debug)]
enum FeedState {
    Reading,
    Complete(std::sync::Arc<Vec<Noted>>),
    /// The shared read did not cover the window (paused, failed): consumers read for themselves.
    Abandoned,
}

/// The shared audit read of one invocation.
pub struct AuditFeed {
    /// Start of the window the audit-log extractor reads in full this invocation; None: no shared read.
    from: Option<DateTime<Utc>>,
    state: watch::Sender<FeedState>,
}

impl AuditFeed {
    /// `from`: the audit-log extractor's window start when it will read that whole window in this
    /// invocation (it runs and has no saved page), else None.
    pub fn new(from: Option<DateTime<Utc>>) -> AuditFeed {
        AuditFeed { from, state: watch::channel(FeedState::Reading).0 }
    }

    /// A feed no consumer uses.
    pub fn none() -> AuditFeed {
        AuditFeed::new(None)
    }

    /// Whether the shared read covers a consumer window starting at `from`.
    pub fn covers(&self, from: DateTime<Utc>) -> bool {
        self.from.is_some_and(|f| f <= from)
    }

    /// The producer's handle; dropped without `complete`, the feed is abandoned.
    pub fn producer(&self) -> Producer<'_> {
        Producer { feed: self, noted: Vec::new(), done: false }
    }

    /// The changes of events at or after `from` for `triggers` (merged per user, in user id order), once
    /// the shared read is complete; None when it was abandoned (read the audits yourself).
    pub async fn changes_since(&self, from: DateTime<Utc>, triggers: Triggers) -> Option<Vec<Change>> {
        let mut rx = self.state.subscribe();
        let state = rx.wait_for(|s| !matches!(s, FeedState::Reading)).await.ok()?.clone();
        let FeedState::Complete(noted) = state else { return None };
        let picked = noted
            .iter()
            .filter(|n| n.at.is_none_or(|at| at >= from))
            .filter(|n| triggers == Triggers::MethodsAndRoles || !n.roles_only)
            .map(|n| n.change.clone());
        Some(merge(picked))
    }
}

/// Notes the changes on the pages the audit-log extractor reads.
pub struct Producer<'a> {
    feed: &'a AuditFeed,
    noted: Vec<Noted>,
    done: bool,
}

impl Producer<'_> {
    /// Notes one page of audit events.
    pub fn note(&mut self, events: &[Json<'_>]) {
        if self.feed.from.is_none() {
            return;
        }
        for event in events {
            let Some(change) = change_of(event, Triggers::MethodsAndRoles) else { continue };
            let roles_only = change_of(event, Triggers::Methods).is_none();
            self.noted.push(Noted { at: parse_ts(event.field("activityDateTime")), change, roles_only });
        }
    }

    /// The whole window was read: hand the changes to the consumers.
    pub fn complete(mut self) {
        self.done = true;
        let noted = std::mem::take(&mut self.noted);
        self.feed.state.send_replace(FeedState::Complete(std::sync::Arc::new(noted)));
    }
}

impl Drop for Producer<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.feed.state.send_replace(FeedState::Abandoned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::views;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn events() -> Vec<serde_json::Value> {
        vec![
            json!({"activityDisplayName": "User registered security info", "activityDateTime": "2026-03-10T10:00:00Z",
                   "targetResources": [{"id": "u1", "type": "User"}]}),
            json!({"activityDisplayName": "Add member to role", "category": "RoleManagement", "activityDateTime": "2026-03-10T11:00:00Z",
                   "targetResources": [{"id": "u2", "type": "User"}]}),
            json!({"activityDisplayName": "Admin deleted security info", "activityDateTime": "2026-03-09T10:00:00Z",
                   "targetResources": [{"id": "u3", "type": "User"}]}),
        ]
    }

    #[tokio::test]
    async fn a_complete_read_hands_each_consumer_its_window_and_triggers() {
        let feed = AuditFeed::new(Some(t("2026-03-09T00:00:00Z")));
        assert!(feed.covers(t("2026-03-10T00:00:00Z")) && !feed.covers(t("2026-03-08T00:00:00Z")));
        let mut p = feed.producer();
        p.note(&views(&events()));
        p.complete();
        let methods = feed.changes_since(t("2026-03-10T00:00:00Z"), Triggers::Methods).await.unwrap();
        assert_eq!(methods.iter().map(|c| c.user_id.as_str()).collect::<Vec<_>>(), ["u1"]);
        let regs = feed.changes_since(t("2026-03-10T00:00:00Z"), Triggers::MethodsAndRoles).await.unwrap();
        assert_eq!(regs.iter().map(|c| c.user_id.as_str()).collect::<Vec<_>>(), ["u1", "u2"]);
        let all = feed.changes_since(t("2026-03-09T00:00:00Z"), Triggers::Methods).await.unwrap();
        assert_eq!(all.len(), 2);
    }

    #[tokio::test]
    async fn an_unfinished_read_sends_consumers_back_to_their_own() {
        let feed = AuditFeed::new(Some(t("2026-03-09T00:00:00Z")));
        let waiting = feed.changes_since(t("2026-03-10T00:00:00Z"), Triggers::Methods);
        {
            let mut p = feed.producer();
            p.note(&views(&events()));
        }
        assert!(waiting.await.is_none());
        assert!(!AuditFeed::none().covers(t("2026-03-10T00:00:00Z")));
    }
}
