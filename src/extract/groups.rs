//! Groups from `/groups/delta?$select=…,members`: `groups` records and, from the same entries'
//! `members@delta`, `group_members` adds and removals (`remove_member_ids`) — never one call per group.

use chrono::{DateTime, Utc};

use super::line::LineWriter;
use super::record::{
    deletion, has_properties, live_writer, odata_kind, removed_reason, select_list, str_prop, time_of,
};
use super::{DeltaExtractor, ExtractCtx, Records};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::{GROUPS, GROUPS_EXTRA_SELECT};

pub const GROUP_ITEM: &str = "groups";
pub const MEMBER_ITEM: &str = "group_members";

pub fn extractor() -> DeltaExtractor {
    let select = select_list(GROUPS_EXTRA_SELECT, &GROUPS);
    DeltaExtractor { record_type: GROUP_ITEM, initial_path: format!("/v1.0/groups/delta?$select={select}"), normalize }
}

fn normalize(obj: &Json, ctx: &ExtractCtx) -> Records {
    normalize_at(obj, ctx.sync_time)
}

/// One entry of a `members@delta` annotation: the member's id and type, and its `@removed` if removed.
pub struct MemberChange<'a> {
    pub member_id: &'a str,
    pub member_type: Option<&'a str>,
    pub removed: Option<&'a Json<'a>>,
}

/// The `members@delta` entries of a groups or directory roles delta entry (none when absent).
pub fn member_changes<'a>(obj: &'a Json) -> impl Iterator<Item = MemberChange<'a>> {
    obj.field("members@delta").and_then(Json::as_array).into_iter().flatten().filter_map(|m| {
        Some(MemberChange { member_id: str_prop(m, "id")?, member_type: odata_kind(m), removed: m.field("@removed") })
    })
}

/// A membership record `<ownerId>_<memberId>`: the fields its family adds (`owner_fields`), then what every
/// membership carries — the member, its type, and the removal or live markers.
pub fn membership_line(
    owner_id: &str,
    change: &MemberChange<'_>,
    sync_time: DateTime<Utc>,
    owner_fields: impl FnOnce(&mut LineWriter),
) -> Line {
    let mut w = LineWriter::new(&format!("{owner_id}_{}", change.member_id), None, sync_time);
    owner_fields(&mut w);
    w.str("member_id", Some(change.member_id));
    w.str("member_type", change.member_type);
    match change.removed {
        Some(removed) => {
            w.strs("remove_member_ids", [change.member_id]);
            w.deleted(removed_reason(removed))
        }
        None => {
            w.null("remove_member_ids");
            w.live()
        }
    }
}

/// One groups-delta entry → its `groups` record (unless it is only a slice of members) and one
/// `group_members` record per `members@delta` entry.
pub fn normalize_at(obj: &Json, sync_time: DateTime<Utc>) -> Records {
    let Some(id) = str_prop(obj, "id") else { return Vec::new() };
    if let Some(removed) = obj.field("@removed") {
        return vec![(GROUP_ITEM, deletion(id, removed, sync_time).into())];
    }
    let mut out = Records::new();
    if has_properties(obj) {
        let w = live_writer(&GROUPS, id, time_of(obj, "createdDateTime"), sync_time, obj);
        out.push((GROUP_ITEM, w.live().into()));
    }
    for change in member_changes(obj) {
        let line = membership_line(id, &change, sync_time, |w| w.str("group_id", Some(id)));
        out.push((MEMBER_ITEM, line.into()));
    }
    out
}
