//! The state blob kept by the platform between invocations: the SDK-owned keys (preserved untouched
//! unless the protocol says the worker sets them) and our own small, tenant-size-independent part under
//! the `entra` key: per record type a status, the resume link, the delta link and when it was obtained.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Our key inside the flat state object.
pub const KEY: &str = "entra";
const VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Pending,
    Running,
    Done,
    Skipped,
}

/// Progress of one record type within the current sync, and its cursor between syncs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeState {
    #[serde(default)]
    pub status: Status,
    /// Why the type was skipped (missing permission or licence), for the answer's statistics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where to resume the current round (a `nextLink`), if it is under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
    /// The `deltaLink` that ends the last finished round: the start of the next sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_at: Option<DateTime<Utc>>,
    /// For time-window types (audit and sign-in logs): the end of the last window fully read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watermark: Option<DateTime<Utc>>,
    /// Items sent in the current sync (across invocations).
    #[serde(default)]
    pub items: u64,
    /// Rounds restarted because a delta link expired or was refused, in the current sync.
    #[serde(default)]
    pub restarts: u32,
    /// Snapshot types: the ids behind explicit deletions (kept only while the snapshot is small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotIds>,
    /// Delta types whose round restarted (expired or refused delta link): the deletions Graph's recycle bin
    /// still has to supply, read once the restarted round has finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<DeletionGap>,
    /// A full round read as a list: the delta link taken before the list began, which ends the round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed_link: Option<String>,
    /// Per-user report types: the rows the last full read returned (how many pages reading it all costs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population: Option<u64>,
    /// Per-user types in an incremental sync: the last user re-read before a pause (users are re-read in
    /// user id order, a step at a time), so the next invocation goes on after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reread_after: Option<String>,
    /// The registration report read again in full for the changed users: where the paused read resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reread_link: Option<String>,
}

/// A restarted delta round's gap: objects deleted since `since` (the last finished round's delta link time)
/// were never reported, and a fresh round lists only live objects, so the soft-deleted ones are read from
/// `/directory/deletedItems`; `next_link` is the resume point of that read.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeletionGap {
    pub since: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

/// The ids of a small snapshot type: those of the last complete snapshot, and those sent so far in the
/// current one (a snapshot read may span invocations). Ids gone from one snapshot to the next are sent
/// as deletions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotIds {
    /// None when unknown (first snapshot, or one too large to keep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub current: Vec<String>,
    /// The current snapshot outgrew the cap: its ids are incomplete and no deletion is derived from it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overflow: bool,
}

/// Our part of the state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectorState {
    #[serde(default)]
    pub version: u32,
    /// When the current data phase started (the `modified_date` of delta changes in this sync).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_started: Option<DateTime<Utc>>,
    #[serde(default)]
    pub types: BTreeMap<String, TypeState>,
    /// The user-targeted directory extensions (Graph `extensionProperty` objects, trimmed) of the last
    /// successful discovery: used when a later discovery fails, so that users are never sent without them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_properties: Option<Vec<Value>>,
    /// The start of a sync whose plan (permissions, licence) is still to be made: its first attempt was
    /// throttled, so the next invocation makes it before extracting.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub plan_pending: bool,
    /// The data-phase answer this state was saved for, until the platform shows it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Box<PendingAnswer>>,
}

/// What an answer's invocation started from. If the answer never reaches the platform (the callback is
/// refused, or the process dies after saving state), the cursors go back here, so the records of the
/// unannounced artifacts are read again: duplicates at worst, never a loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingAnswer {
    /// The `event_context.request_id` of the event answered; the platform sends the same event again when
    /// it did not get the answer.
    pub request_id: String,
    /// Our state as that invocation began extracting (after a START's preparation).
    pub before: ConnectorState,
}

impl PendingAnswer {
    /// Drops from `before` what the invocation left unchanged, so the saved state stays small: only the
    /// record types whose cursors moved keep their earlier copy.
    pub fn prune(&mut self, now: &ConnectorState) {
        self.before.types.retain(|k, v| now.types.get(k) != Some(v));
        if self.before.extension_properties == now.extension_properties {
            self.before.extension_properties = None;
        }
    }

    /// The state as the invocation began: `now` with the parts it changed put back.
    pub fn restore(self, mut now: ConnectorState) -> ConnectorState {
        let before = self.before;
        now.types.extend(before.types);
        now.sync_started = before.sync_started;
        now.plan_pending = before.plan_pending;
        if before.extension_properties.is_some() {
            now.extension_properties = before.extension_properties;
        }
        now.pending = None;
        now
    }
}

/// The whole state object: every key as stored, plus our part parsed.
#[derive(Clone, Debug)]
pub struct WorkerState {
    pub raw: Map<String, Value>,
    pub ours: ConnectorState,
}

/// The SDK's extraction defaults (protocol §6.2), used when the platform has no state yet.
fn sdk_defaults() -> Map<String, Value> {
    let v = json!({
        "lastSyncStarted": "", "lastSuccessfulSyncStarted": "",
        "pendingWorkersOldest": "", "pendingWorkersNewest": "",
        "workersOldest": "", "workersNewest": "", "snapInVersionId": "",
        "toDevRev": {"attachmentsMetadata": {"artifactIds": [], "lastProcessed": 0, "lastProcessedAttachmentsIdsList": []}}
    });
    match v {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl WorkerState {
    /// A fresh state for a connection the platform has never seen (state GET answered 404).
    pub fn initial() -> WorkerState {
        WorkerState { raw: sdk_defaults(), ours: ConnectorState { version: VERSION, ..Default::default() } }
    }

    /// Parses stored state text. Our part, if unreadable, is reset with a warning (a full re-read is
    /// always safe); the SDK part is kept as it was. Text that is not a JSON object is an error.
    pub fn parse(text: &str) -> Result<WorkerState, String> {
        let raw: Map<String, Value> = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err("the stored state is not a JSON object".into()),
            Err(e) => return Err(format!("the stored state is not valid JSON: {e}")),
        };
        let ours = match raw.get(KEY) {
            None => ConnectorState { version: VERSION, ..Default::default() },
            Some(v) => serde_json::from_value::<ConnectorState>(v.clone()).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "our part of the stored state is unreadable; starting every record type afresh");
                ConnectorState { version: VERSION, ..Default::default() }
            }),
        };
        Ok(WorkerState { raw, ours })
    }

    /// Serializes the whole object, with our part written back under its key.
    pub fn to_text(&self) -> String {
        let mut raw = self.raw.clone();
        raw.insert(KEY.to_string(), serde_json::to_value(&self.ours).unwrap_or(Value::Null));
        Value::Object(raw).to_string()
    }

    pub fn sdk_str(&self, key: &str) -> String {
        self.raw.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
    }

    pub fn set_sdk_str(&mut self, key: &str, value: &str) {
        self.raw.insert(key.to_string(), Value::String(value.to_string()));
    }

    pub fn type_state(&mut self, record_type: &str) -> &mut TypeState {
        self.ours.types.entry(record_type.to_string()).or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_answer_keeps_only_what_moved_and_puts_it_back() {
        let link = |l: &str| TypeState { next_link: Some(l.into()), ..TypeState::default() };
        let mut before = ConnectorState::default();
        before.types.insert("users".into(), link("u1"));
        before.types.insert("groups".into(), link("g1"));
        let mut now = before.clone();
        now.types.insert("users".into(), link("u2"));
        let mut pending = PendingAnswer { request_id: "r".into(), before };
        pending.prune(&now);
        assert_eq!(pending.before.types.keys().collect::<Vec<_>>(), ["users"], "groups did not move");
        let back = pending.restore(now);
        assert_eq!(back.types["users"].next_link.as_deref(), Some("u1"));
        assert_eq!(back.types["groups"].next_link.as_deref(), Some("g1"));
        assert!(back.pending.is_none());
    }

    #[test]
    fn sdk_keys_survive_a_round_trip() {
        let stored =
            r#"{"lastSyncStarted":"2026-01-01T00:00:00.000Z","platformThing":{"a":[1,2]},"snapInVersionId":"v1"}"#;
        let mut s = WorkerState::parse(stored).unwrap();
        s.type_state("users").delta_link = Some("https://graph/x".into());
        let back: Value = serde_json::from_str(&s.to_text()).unwrap();
        assert_eq!(back["platformThing"], json!({"a": [1, 2]}));
        assert_eq!(back["lastSyncStarted"], "2026-01-01T00:00:00.000Z");
        assert_eq!(back["entra"]["types"]["users"]["delta_link"], "https://graph/x");
        let again = WorkerState::parse(&s.to_text()).unwrap();
        assert_eq!(again.ours, s.ours);
    }

    #[test]
    fn unreadable_own_part_restarts_but_keeps_sdk_part() {
        let s = WorkerState::parse(r#"{"entra": {"types": 5}, "snapInVersionId": "v9"}"#).unwrap();
        assert!(s.ours.types.is_empty());
        assert_eq!(s.sdk_str("snapInVersionId"), "v9");
        assert!(WorkerState::parse("[1]").is_err());
        assert!(WorkerState::parse("{").is_err());
    }

    #[test]
    fn initial_state_has_the_sdk_defaults() {
        let s = WorkerState::initial();
        assert_eq!(s.sdk_str("snapInVersionId"), "");
        assert!(s.raw.contains_key("toDevRev"));
    }
}
