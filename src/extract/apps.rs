//! Applications from `/applications/delta`, and service principals from `/servicePrincipals/delta`
//! with the `app_roles` they define read from the same objects' `appRoles` (no extra call).

use chrono::{DateTime, Utc};

use super::record::{deletion, live_writer, select_list, str_prop, time_of};
use super::{DeltaExtractor, ExtractCtx, Records};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::{
    APPLICATIONS, APPLICATION_PORTAL_URL, APP_ROLES, ITEM_URL_FIELD, SERVICE_PRINCIPALS,
    SERVICE_PRINCIPALS_EXTRA_SELECT,
};

pub const APP_ITEM: &str = "applications";
pub const SP_ITEM: &str = "service_principals";
pub const ROLE_ITEM: &str = "app_roles";

pub fn applications() -> DeltaExtractor {
    let select = select_list(&["id"], &APPLICATIONS);
    DeltaExtractor {
        record_type: APP_ITEM,
        initial_path: format!("/v1.0/applications/delta?$select={select}"),
        normalize: normalize_app,
    }
}

pub fn service_principals() -> DeltaExtractor {
    let select = select_list(SERVICE_PRINCIPALS_EXTRA_SELECT, &SERVICE_PRINCIPALS);
    DeltaExtractor {
        record_type: SP_ITEM,
        initial_path: format!("/v1.0/servicePrincipals/delta?$select={select}"),
        normalize: normalize_sp,
    }
}

fn normalize_app(obj: &Json, ctx: &ExtractCtx) -> Records {
    application_at(obj, ctx.sync_time).map(|r| (APP_ITEM, r.into())).into_iter().collect()
}

fn normalize_sp(obj: &Json, ctx: &ExtractCtx) -> Records {
    service_principal_at(obj, ctx.sync_time).into_iter().map(|(t, r)| (t, r.into())).collect()
}

/// One applications-delta entry → its record (the portal link is addressed by appId).
pub fn application_at(obj: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = str_prop(obj, "id")?;
    if let Some(removed) = obj.field("@removed") {
        return Some(deletion(id, removed, sync_time));
    }
    let mut w = live_writer(&APPLICATIONS, id, time_of(obj, "createdDateTime"), sync_time, obj);
    if let Some(app_id) = str_prop(obj, "appId") {
        w.str(ITEM_URL_FIELD, Some(&format!("{APPLICATION_PORTAL_URL}{app_id}")));
    }
    Some(w.live())
}

/// One servicePrincipals-delta entry → its record and one `app_roles` record per entry of `appRoles`.
pub fn service_principal_at(obj: &Json, sync_time: DateTime<Utc>) -> Vec<(&'static str, Line)> {
    let Some(id) = str_prop(obj, "id") else { return Vec::new() };
    if let Some(removed) = obj.field("@removed") {
        return vec![(SP_ITEM, deletion(id, removed, sync_time))];
    }
    let created = time_of(obj, "createdDateTime");
    let mut out = vec![(SP_ITEM, live_writer(&SERVICE_PRINCIPALS, id, created, sync_time, obj).live())];
    for role in obj.field("appRoles").and_then(Json::as_array).into_iter().flatten() {
        let Some(role_id) = str_prop(role, "id") else { continue };
        let mut w = live_writer(&APP_ROLES, &format!("{id}_{role_id}"), None, sync_time, role);
        w.str("service_principal_id", Some(id));
        out.push((ROLE_ITEM, w.live()));
    }
    out
}
