//! Directory roles from `/directoryRoles/delta?$select=…,members` (`directory_roles` + `role_members`
//! `<roleId>_<memberId>`), and unified RBAC role assignments, a full read, as `role_members` `rbac_<id>`.

use chrono::{DateTime, Utc};

use super::groups::{member_changes, membership_line};
use super::line::LineWriter;
use super::list::ListExtractor;
use super::record::{deletion, has_properties, live_writer, select_list, str_prop};
use super::{DeltaExtractor, ExtractCtx, PerEntry, Records};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::DIRECTORY_ROLES;

pub const ROLE_ITEM: &str = "directory_roles";
pub const MEMBER_ITEM: &str = "role_members";

pub fn extractor() -> DeltaExtractor {
    let select = select_list(&["id", "members"], &DIRECTORY_ROLES);
    DeltaExtractor {
        record_type: ROLE_ITEM,
        initial_path: format!("/v1.0/directoryRoles/delta?$select={select}"),
        normalize,
    }
}

/// Unified RBAC assignments at every scope (no delta exists: a snapshot each sync).
pub fn rbac_extractor() -> ListExtractor {
    ListExtractor {
        record_type: MEMBER_ITEM,
        path: "/v1.0/roleManagement/directory/roleAssignments".into(),
        normalize: Box::new(PerEntry(rbac_normalize)),
    }
}

fn normalize(obj: &Json, ctx: &ExtractCtx) -> Records {
    normalize_at(obj, ctx.sync_time)
}

fn rbac_normalize(obj: &Json, ctx: &ExtractCtx) -> Records {
    rbac_at(obj, ctx.sync_time).map(|r| (MEMBER_ITEM, r.into())).into_iter().collect()
}

/// One directoryRoles-delta entry → its role record and one `role_members` record per `members@delta` entry.
pub fn normalize_at(obj: &Json, sync_time: DateTime<Utc>) -> Records {
    let Some(id) = str_prop(obj, "id") else { return Vec::new() };
    if let Some(removed) = obj.field("@removed") {
        return vec![(ROLE_ITEM, deletion(id, removed, sync_time).into())];
    }
    let mut out = Records::new();
    if has_properties(obj) {
        out.push((ROLE_ITEM, live_writer(&DIRECTORY_ROLES, id, None, sync_time, obj).live().into()));
    }
    let template = str_prop(obj, "roleTemplateId");
    for change in member_changes(obj) {
        let line = membership_line(id, &change, sync_time, |w| {
            w.str("role_id", Some(id));
            w.str("role_definition_id", template);
            // Members of an activated directory role hold it tenant-wide.
            w.str("directory_scope_id", Some("/"));
            w.str("assignment_source", Some("directoryRole"));
        });
        out.push((MEMBER_ITEM, line.into()));
    }
    out
}

/// One unified RBAC `unifiedRoleAssignment` → a `role_members` record `rbac_<id>`.
pub fn rbac_at(obj: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = str_prop(obj, "id")?;
    let mut w = LineWriter::new(&format!("rbac_{id}"), None, sync_time);
    w.null("role_id");
    w.str("role_definition_id", str_prop(obj, "roleDefinitionId"));
    w.str("member_id", str_prop(obj, "principalId"));
    w.str("member_type", obj.field("principal").and_then(super::record::odata_kind));
    w.str("directory_scope_id", str_prop(obj, "directoryScopeId"));
    w.str("assignment_source", Some("roleAssignment"));
    w.null("remove_member_ids");
    Some(w.live())
}
