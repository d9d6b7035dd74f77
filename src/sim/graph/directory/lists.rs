//! Plain reads: `GET /groups|applications|servicePrincipals|devices|contacts` (paged), `/directoryRoles`
//! (unpaged), single objects, group / role members, device owners, app role assignments.

use super::delta::select_for;
use super::dir::{with_store, Directory};
use super::model::*;
use super::paging::{lookup, no_filter, render_member, restrict, window, Paging, EXPAND_CAP};
use super::render::Obj;
use crate::sim::graph::errors::{graph_error, not_found};
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::http::{json_response, Ctx};
use crate::sim::graph::state::Shared;
use crate::sim::graph::users::{Query, Reply};
use hyper::StatusCode;
use serde_json::{json, Value};

fn poisoned(ctx: &Ctx) -> Reply {
    (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Directory lock poisoned."), 0)
}

fn no_members(kind: Kind) -> impl Fn(&str) -> Result<Vec<String>, String> {
    move |raw| {
        let v = select_for(kind, raw)?;
        match v.iter().find(|p| *p == "members") {
            Some(p) => Err(p.clone()),
            None => Ok(v),
        }
    }
}

fn any_select(raw: &str) -> Result<Vec<String>, String> {
    Ok(raw.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect())
}

fn page_of<T: Obj>(d: &Directory, s: &Store<T>, p: &Paging) -> (Vec<Value>, Option<String>) {
    let after = p.after.as_deref().and_then(|a| a.parse::<u32>().ok());
    let items: Vec<&T> = s.after(after, p.size()).collect();
    let value = items.iter().map(|o| Value::Object(o.render(&d.meta, p.sel.as_deref()))).collect();
    let next = items.last().map(|o| o.num()).filter(|n| s.has_after(*n)).map(|n| n.to_string());
    (value, next)
}

/// `GET /{collection}` for groups, applications, servicePrincipals, devices, contacts.
pub fn list(sh: &Shared, ctx: &Ctx, ver: &str, kind: Kind, q: &Query, eventual: bool) -> Reply {
    let p = match Paging::parse(sh, ctx, q, kind.collection(), kind.type_name(), no_members(kind)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = no_filter(ctx, &p) {
        return r;
    }
    // Locks in the order every reader takes them: the tenant (users), then the directory.
    let t = if kind == Kind::Device && p.expand.is_some() {
        let Ok(t) = sh.tenant.read() else { return poisoned(ctx) };
        Some(t)
    } else {
        None
    };
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let (mut value, next) = with_store!(&*d, kind, |s| page_of(&d, s, &p));
    if let Some(t) = &t {
        expand_owners(t, &d, &p, &mut value);
    }
    let counted = eventual && p.first() && q.get("$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    let count = counted.then(|| with_store!(&*d, kind, |s| s.live.len()));
    drop((d, t));
    p.reply(sh, ctx, ver, kind.collection(), (value, next), count)
}

/// `$expand=registeredOwners` on a devices page: each device's owners (id and type), at most `EXPAND_CAP`.
/// The page's records are read again by position (the same `after` window): finding each by its id would
/// scan the whole store once per device, which a 500,000-device tenant turns into minutes per page.
fn expand_owners(t: &crate::sim::graph::tenant::Tenant, d: &Directory, p: &Paging, devices: &mut [Value]) {
    let only_id = ["id".to_string()];
    let after = p.after.as_deref().and_then(|a| a.parse::<u32>().ok());
    for (dev, rec) in devices.iter_mut().zip(d.devices.after(after, p.size())) {
        let owners: Vec<Value> = rec
            .owners
            .iter()
            .take(EXPAND_CAP)
            .map(|id| render_member(t, d, &Member { id: *id, kind: MKind::User }, Some(&only_id)))
            .collect();
        if let Some(o) = dev.as_object_mut() {
            o.insert("registeredOwners".into(), Value::Array(owners));
        }
    }
}

/// `GET /directoryRoles`: every activated role, no paging.
pub fn list_roles(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    let p = match Paging::parse(sh, ctx, q, "directoryRoles", "directoryRole", no_members(Kind::Role)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = no_filter(ctx, &p) {
        return r;
    }
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let value: Vec<Value> = d.roles.live.values().map(|r| Value::Object(r.render(&d.meta, p.sel.as_deref()))).collect();
    drop(d);
    p.reply(sh, ctx, ver, "directoryRoles", (value, None), None)
}

/// `GET /{collection}/{id}`.
pub fn get_one(sh: &Shared, ctx: &Ctx, ver: &str, kind: Kind, key: &str, q: &Query) -> Reply {
    let p = match Paging::parse(sh, ctx, q, kind.collection(), kind.type_name(), no_members(kind)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let found = match kind {
        Kind::Role => d.find_role(key).map(|o| o.render(&d.meta, p.sel.as_deref())),
        _ => with_store!(&*d, kind, |s| lookup(s, key).map(|o| o.render(&d.meta, p.sel.as_deref()))),
    };
    drop(d);
    match found {
        None => (not_found(ctx, key), 0),
        Some(mut o) => {
            let ctxurl = format!("{}/{ver}/$metadata#{}/$entity", sh.origin, kind.collection());
            o.insert("@odata.context".into(), json!(ctxurl));
            (json_response(ctx, StatusCode::OK, &Value::Object(o), true, &[]), 1)
        }
    }
}

/// `GET /groups/{id}/members` (paged) and `GET /directoryRoles/{id}/members` (unpaged).
pub fn members(sh: &Shared, ctx: &Ctx, ver: &str, kind: Kind, key: &str, q: &Query) -> Reply {
    let route = format!("{}/{key}/members", kind.collection());
    let p = match Paging::parse(sh, ctx, q, &route, "directoryObject", any_select) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = no_filter(ctx, &p) {
        return r;
    }
    let Ok(t) = sh.tenant.read() else { return poisoned(ctx) };
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let list: Option<&[Member]> = match kind {
        Kind::Group => lookup(&d.groups, key).map(|g| g.members.as_slice()),
        _ => d.find_role(key).map(|r| r.members.as_slice()),
    };
    let Some(list) = list else { return (not_found(ctx, key), 0) };
    let (slice, more) =
        if kind == Kind::Group { window(list, |m| m.id, p.after.as_deref(), p.size()) } else { (list, false) };
    let value: Vec<Value> = slice.iter().map(|m| render_member(&t, &d, m, p.sel.as_deref())).collect();
    let next = slice.last().filter(|_| more).map(|m| format!("{:x}", m.id));
    drop((d, t));
    p.reply(sh, ctx, ver, "directoryObjects", (value, next), None)
}

/// `GET /devices/{id}/registeredOwners` (paged).
pub fn owners(sh: &Shared, ctx: &Ctx, ver: &str, key: &str, q: &Query) -> Reply {
    let route = format!("devices/{key}/registeredOwners");
    let p = match Paging::parse(sh, ctx, q, &route, "directoryObject", any_select) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = no_filter(ctx, &p) {
        return r;
    }
    let Ok(t) = sh.tenant.read() else { return poisoned(ctx) };
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let Some(dev) = lookup(&d.devices, key) else { return (not_found(ctx, key), 0) };
    let (slice, more) = window(&dev.owners, |id| *id, p.after.as_deref(), p.size());
    let value: Vec<Value> = slice
        .iter()
        .map(|id| render_member(&t, &d, &Member { id: *id, kind: MKind::User }, p.sel.as_deref()))
        .collect();
    let next = slice.last().filter(|_| more).map(|id| format!("{id:x}"));
    drop((d, t));
    p.reply(sh, ctx, ver, "directoryObjects", (value, next), None)
}

/// `GET /servicePrincipals/{id}/appRoleAssignedTo` (to = true) or `/appRoleAssignments` (granted to it).
pub fn assignments(sh: &Shared, ctx: &Ctx, ver: &str, key: &str, q: &Query, to: bool) -> Reply {
    let seg = if to { "appRoleAssignedTo" } else { "appRoleAssignments" };
    let route = format!("servicePrincipals/{key}/{seg}");
    let p = match Paging::parse(sh, ctx, q, &route, "appRoleAssignment", any_select) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = no_filter(ctx, &p) {
        return r;
    }
    let Ok(d) = sh.directory.read() else { return poisoned(ctx) };
    let Some(sp) = lookup(&d.sps, key) else { return (not_found(ctx, key), 0) };
    let mut items: Vec<(&Assignment, &SpRec)> = if to {
        sp.assigned_to.iter().map(|a| (a, sp)).collect()
    } else {
        d.sps
            .live
            .values()
            .flat_map(|r| r.assigned_to.iter().filter(|a| a.principal == sp.id).map(move |a| (a, r)))
            .collect()
    };
    items.sort_by_key(|(a, _)| a.key);
    let (slice, more) = window(&items, |(a, _)| a.key, p.after.as_deref(), p.size());
    let value: Vec<Value> = slice.iter().map(|(a, r)| restrict(a.to_json(r), p.sel.as_deref())).collect();
    let next = slice.last().filter(|_| more).map(|(a, _)| format!("{:x}", a.key));
    let context = format!("servicePrincipals('{}')/{seg}", fmt_guid(sp.id));
    drop(d);
    p.reply(sh, ctx, ver, &context, (value, next), None)
}
