//! Groups from `/groups/delta?$select=…,members`: `groups` records and, from the same entries'
//! `members@delta`, `group_members` adds and removals (`remove_member_ids`) — never one call per group.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::record::{
    deletion, envelope, has_properties, live_data, odata_kind, removed_reason, select_list, str_prop, time_of,
};
use super::{DeltaExtractor, ExtractCtx};
use crate::schema::{GROUPS, GROUPS_EXTRA_SELECT};

pub const GROUP_ITEM: &str = "groups";
pub const MEMBER_ITEM: &str = "group_members";

pub fn extractor() -> DeltaExtractor {
    let select = select_list(GROUPS_EXTRA_SELECT, &GROUPS);
    DeltaExtractor { record_type: GROUP_ITEM, initial_path: format!("/v1.0/groups/delta?$select={select}"), normalize }
}

fn normalize(obj: &Value, ctx: &ExtractCtx) -> Vec<(&'static str, Value)> {
    normalize_at(obj, ctx.sync_time)
}

/// One entry of a `members@delta` annotation: the member's id and type, and its `@removed` if removed.
pub struct MemberChange<'a> {
    pub member_id: &'a str,
    pub member_type: Option<&'a str>,
    pub removed: Option<&'a Value>,
}

/// The `members@delta` entries of a groups or directory roles delta entry (none when absent).
pub fn member_changes(obj: &Value) -> impl Iterator<Item = MemberChange<'_>> {
    obj.get("members@delta").and_then(Value::as_array).into_iter().flatten().filter_map(|m| {
        Some(MemberChange { member_id: str_prop(m, "id")?, member_type: odata_kind(m), removed: m.get("@removed") })
    })
}

/// The data every membership record carries: the member, its type, and the removal or live markers.
pub fn membership_data(change: &MemberChange<'_>) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("member_id".into(), json!(change.member_id));
    data.insert("member_type".into(), change.member_type.map_or(Value::Null, |t| json!(t)));
    match change.removed {
        Some(removed) => {
            data.insert("remove_member_ids".into(), json!([change.member_id]));
            data.insert("deleted_in_source".into(), Value::Bool(true));
            data.insert("deleted_reason".into(), json!(removed_reason(removed)));
        }
        None => {
            data.insert("remove_member_ids".into(), Value::Null);
            data.insert("deleted_in_source".into(), Value::Bool(false));
            data.insert("deleted_reason".into(), Value::Null);
        }
    }
    data
}

/// One groups-delta entry → its `groups` record (unless it is only a slice of members) and one
/// `group_members` record per `members@delta` entry.
pub fn normalize_at(obj: &Value, sync_time: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let Some(id) = str_prop(obj, "id") else { return Vec::new() };
    if let Some(removed) = obj.get("@removed") {
        return vec![(GROUP_ITEM, deletion(id, removed, sync_time))];
    }
    let mut out = Vec::new();
    if has_properties(obj) {
        let data = live_data(&GROUPS, obj);
        out.push((GROUP_ITEM, envelope(id, time_of(obj, "createdDateTime"), sync_time, data)));
    }
    for change in member_changes(obj) {
        let mut data = membership_data(&change);
        data.insert("group_id".into(), json!(id));
        out.push((MEMBER_ITEM, envelope(&format!("{id}_{}", change.member_id), None, sync_time, data)));
    }
    out
}
