//! App role assignments as a snapshot (the fallback when the delta is refused): page `/servicePrincipals?$select=id,appRoles`
//! (the cursor is that list's `nextLink`, no ids in state) and read each page's `appRoleAssignedTo` via `$batch`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::delta::{PageNormalizer, Records, Round};
use super::fanout::collect_all;
use super::line::LineWriter;
use super::list::ListExtractor;
use super::record::{str_prop, time_of};
use super::{ExtractCtx, ExtractError};
use crate::airsync::line::Line;
use crate::graph::json::{view, Field, Json};
use crate::schema::APP_ROLE_ASSIGNMENTS;

pub const ITEM: &str = "app_role_assignments";

pub fn extractor() -> ListExtractor {
    ListExtractor {
        record_type: ITEM,
        path: "/v1.0/servicePrincipals?$select=id,appRoles".into(),
        normalize: Box::new(AssignmentPages),
    }
}

struct AssignmentPages;

#[async_trait::async_trait]
impl PageNormalizer for AssignmentPages {
    async fn page(&self, ctx: &ExtractCtx, _: Round, sps: &[Json<'_>]) -> Result<Records, ExtractError> {
        let sps: Vec<&Json> = sps.iter().filter(|sp| str_prop(sp, "id").is_some()).collect();
        let urls: Vec<String> = sps
            .iter()
            .filter_map(|sp| str_prop(sp, "id"))
            .map(|id| format!("/servicePrincipals/{id}/appRoleAssignedTo"))
            .collect();
        let mut out = Vec::new();
        for (sp, assignments) in sps.iter().zip(collect_all(ctx, &urls).await?) {
            let names = role_names(sp);
            for a in assignments.iter().flatten() {
                if let Some(r) = assignment_at(&view(a), &names, ctx.sync_time) {
                    out.push((ITEM, r.into()));
                }
            }
        }
        Ok(out)
    }
}

/// App role id → display name, from the resource service principal's `appRoles`.
pub fn role_names<'a>(sp: &'a Json) -> HashMap<&'a str, &'a str> {
    sp.field("appRoles")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| Some((str_prop(r, "id")?, str_prop(r, "displayName")?)))
        .collect()
}

/// One `appRoleAssignment` → its record, the role's name looked up in its resource's `appRoles` names.
pub fn assignment_at(obj: &Json, role_names: &HashMap<&str, &str>, sync_time: DateTime<Utc>) -> Option<Line> {
    let name = str_prop(obj, "appRoleId").and_then(|r| role_names.get(r)).copied();
    named_assignment_at(obj, name, sync_time)
}

/// One live `appRoleAssignment` and the display name of its app role → its record.
pub fn named_assignment_at(obj: &Json, role_name: Option<&str>, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = str_prop(obj, "id")?;
    let mut w = LineWriter::new(id, time_of(obj, "createdDateTime"), sync_time);
    w.props(&APP_ROLE_ASSIGNMENTS, obj);
    w.str("app_role_name", role_name);
    Some(w.live())
}
