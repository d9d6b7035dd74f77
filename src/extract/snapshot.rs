//! Explicit deletions for snapshot record types: a wrapper around a snapshot extractor that keeps the ids
//! of small snapshots in state and, when a snapshot completes, sends a deletion for each id gone since the last.
//!
//! DevRev reads an `is_snapshot` type's absent records as gone only where a newer snapshot exists; a
//! snapshot that became empty sends no artifact at all (the protocol has no empty artifacts), so without
//! this its last records would stay live forever. State stays small: ids are kept only up to a cap.

use std::collections::HashSet;

use super::norm::deletion;
use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::{SnapshotIds, TypeState};

/// Ids kept per snapshot type (the previous snapshot and the current one each): about 1.2 KB of state
/// each at most. Larger snapshots rely on the snapshot semantics alone.
pub const IDS_KEPT: usize = 32;

/// A snapshot extractor whose vanished records are sent as deletions.
pub struct SnapshotDiff {
    pub inner: Box<dyn Extractor>,
}

impl SnapshotDiff {
    pub fn new(inner: impl Extractor + 'static) -> SnapshotDiff {
        SnapshotDiff { inner: Box::new(inner) }
    }
}

/// Adds the ids sent in one invocation to the current snapshot.
fn note(ids: &mut SnapshotIds, sent: Vec<String>, overflow: bool) {
    if ids.overflow {
        return;
    }
    if overflow || ids.current.len() + sent.len() > IDS_KEPT {
        ids.overflow = true;
        ids.current.clear();
        return;
    }
    ids.current.extend(sent);
}

/// Closes the current snapshot: the ids of the previous one that it lacks (none when either is unknown),
/// and the current snapshot becomes the previous one.
fn close(ids: &mut SnapshotIds) -> Vec<String> {
    let current: HashSet<&str> = ids.current.iter().map(String::as_str).collect();
    let gone = match (&ids.previous, ids.overflow) {
        (Some(previous), false) => previous.iter().filter(|id| !current.contains(id.as_str())).cloned().collect(),
        _ => Vec::new(),
    };
    let mut finished = std::mem::take(&mut ids.current);
    finished.sort();
    finished.dedup();
    ids.previous = if std::mem::take(&mut ids.overflow) { None } else { Some(finished) };
    gone
}

#[async_trait::async_trait]
impl Extractor for SnapshotDiff {
    fn record_type(&self) -> &'static str {
        self.inner.record_type()
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let record_type = self.record_type();
        ctx.sink.track_ids(record_type, IDS_KEPT);
        let result = self.inner.run(ctx, state).await;
        let sent = ctx.sink.take_ids(record_type);
        let ids = state.snapshot.get_or_insert_with(SnapshotIds::default);
        note(ids, sent.ids, sent.overflow);
        if let Ok(Stop::Finished) = result {
            let gone = close(ids);
            if !gone.is_empty() {
                tracing::info!(record_type, deleted = gone.len(), "records gone since the last snapshot");
            }
            for id in gone {
                ctx.sink.push(record_type, deletion(&id, ctx.sync_time)).await?;
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_gone_since_the_last_snapshot_are_deleted() {
        let mut s = SnapshotIds::default();
        note(&mut s, ids(&["a", "b"]), false);
        assert!(close(&mut s).is_empty(), "the first snapshot has nothing to compare with");
        note(&mut s, ids(&["b"]), false);
        note(&mut s, ids(&["c"]), false);
        assert_eq!(close(&mut s), ids(&["a"]));
        assert_eq!(s.previous, Some(ids(&["b", "c"])));
        assert_eq!(close(&mut s), ids(&["b", "c"]), "an empty snapshot deletes everything");
    }

    #[test]
    fn a_snapshot_over_the_cap_derives_no_deletion_and_forgets_its_ids() {
        let mut s = SnapshotIds { previous: Some(ids(&["a"])), ..SnapshotIds::default() };
        let many: Vec<String> = (0..=IDS_KEPT).map(|i| i.to_string()).collect();
        note(&mut s, many, false);
        assert!(close(&mut s).is_empty());
        assert_eq!(s.previous, None);
        note(&mut s, ids(&["x"]), true);
        assert!(close(&mut s).is_empty());
        assert_eq!(s.previous, None);
    }
}
