//! Ground truth of the directory (docs/contracts.md §1), list by list, one object at a time: full live
//! objects, membership / owner / assignment link tables, RBAC, and the `deleted.*` lists with their reasons.

use super::dir::Directory;
use super::model::*;
use super::rbac;
use super::render::Obj;
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Map, Value};

/// The directory's truth lists.
pub const LISTS: &[&str] = &[
    "groups",
    "groupMembers",
    "directoryRoles",
    "directoryRoleMembers",
    "roleDefinitions",
    "roleAssignments",
    "applications",
    "servicePrincipals",
    "appRoleAssignments",
    "devices",
    "deviceOwners",
    "contacts",
];

fn full<T: Obj>(d: &Directory, s: &Store<T>, f: &mut dyn FnMut(&Value)) {
    for o in s.live.values() {
        f(&Value::Object(o.full(&d.meta)));
    }
}

fn links<T: Obj>(s: &Store<T>, owner_key: &str, f: &mut dyn FnMut(&Value)) {
    for o in s.live.values() {
        for m in o.members().unwrap_or(&[]) {
            f(&json!({owner_key: fmt_guid(o.id()), "memberId": fmt_guid(m.id), "memberType": m.kind.name()}));
        }
    }
}

fn app_role_assignments(d: &Directory, f: &mut dyn FnMut(&Value)) {
    for sp in d.sps.live.values() {
        for a in &sp.assigned_to {
            f(&json!({
                "id": a.id_str(),
                "principalId": fmt_guid(a.principal),
                "principalType": a.ptype.principal_type(),
                "resourceId": fmt_guid(sp.id),
                "appRoleId": fmt_guid(a.role),
                "createdDateTime": fmt_time(a.created),
            }));
        }
    }
}

fn device_owners(d: &Directory, f: &mut dyn FnMut(&Value)) {
    for dev in d.devices.live.values() {
        for u in &dev.owners {
            f(&json!({"deviceId": fmt_guid(dev.id), "ownerId": fmt_guid(*u)}));
        }
    }
}

/// Visit every item of the directory truth list `key`; false when `key` is not one of [`LISTS`].
pub fn each(d: &Directory, key: &str, f: &mut dyn FnMut(&Value)) -> bool {
    match key {
        "groups" => full(d, &d.groups, f),
        "groupMembers" => links(&d.groups, "groupId", f),
        "directoryRoles" => full(d, &d.roles, f),
        "directoryRoleMembers" => links(&d.roles, "roleId", f),
        "roleDefinitions" => rbac::definitions(d).iter().for_each(f),
        "roleAssignments" => rbac::assignments(d).iter().for_each(f),
        "applications" => full(d, &d.apps, f),
        "servicePrincipals" => full(d, &d.sps, f),
        "appRoleAssignments" => app_role_assignments(d, f),
        "devices" => full(d, &d.devices, f),
        "deviceOwners" => device_owners(d, f),
        "contacts" => full(d, &d.contacts, f),
        _ => return false,
    }
    true
}

fn deleted<T: Obj>(s: &Store<T>) -> Value {
    let mut all: Vec<(u32, Value)> =
        s.soft.values().map(|o| (o.num(), json!({"id": fmt_guid(o.id()), "reason": "changed"}))).collect();
    all.extend(s.hard.iter().map(|(n, id)| (*n, json!({"id": fmt_guid(*id), "reason": "deleted"}))));
    all.sort_by_key(|(n, _)| *n);
    Value::Array(all.into_iter().map(|(_, v)| v).collect())
}

/// Add the directory's `deleted.*` lists.
pub fn deleted_into(d: &Directory, del: &mut Map<String, Value>) {
    del.insert("groups".into(), deleted(&d.groups));
    del.insert("applications".into(), deleted(&d.apps));
    del.insert("servicePrincipals".into(), deleted(&d.sps));
    del.insert("devices".into(), deleted(&d.devices));
    del.insert("contacts".into(), deleted(&d.contacts));
}
