//! Ground truth of the directory (docs/contracts.md §1): full live objects, membership / owner /
//! assignment link tables, RBAC, and the `deleted.*` lists with their delta reasons.

use super::dir::Directory;
use super::model::*;
use super::rbac;
use super::render::Obj;
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Map, Value};

fn full<T: Obj>(d: &Directory, s: &Store<T>) -> Value {
    Value::Array(s.live.values().map(|o| Value::Object(o.full(&d.meta))).collect())
}

fn links<T: Obj>(s: &Store<T>, owner_key: &str) -> Value {
    let mut out = Vec::new();
    for o in s.live.values() {
        for m in o.members().unwrap_or(&[]) {
            out.push(json!({owner_key: fmt_guid(o.id()), "memberId": fmt_guid(m.id), "memberType": m.kind.name()}));
        }
    }
    Value::Array(out)
}

fn deleted<T: Obj>(s: &Store<T>) -> Value {
    let mut all: Vec<(u32, Value)> =
        s.soft.values().map(|o| (o.num(), json!({"id": fmt_guid(o.id()), "reason": "changed"}))).collect();
    all.extend(s.hard.iter().map(|(n, id)| (*n, json!({"id": fmt_guid(*id), "reason": "deleted"}))));
    all.sort_by_key(|(n, _)| *n);
    Value::Array(all.into_iter().map(|(_, v)| v).collect())
}

/// Add the directory keys to a truth object (`deleted` is merged, not replaced).
pub fn truth_into(d: &Directory, out: &mut Value) {
    let Some(o) = out.as_object_mut() else { return };
    o.insert("groups".into(), full(d, &d.groups));
    o.insert("groupMembers".into(), links(&d.groups, "groupId"));
    o.insert("directoryRoles".into(), full(d, &d.roles));
    o.insert("directoryRoleMembers".into(), links(&d.roles, "roleId"));
    o.insert("roleDefinitions".into(), Value::Array(rbac::definitions(d)));
    o.insert("roleAssignments".into(), Value::Array(rbac::assignments(d)));
    o.insert("applications".into(), full(d, &d.apps));
    o.insert("servicePrincipals".into(), full(d, &d.sps));
    let assignments: Vec<Value> = d
        .sps
        .live
        .values()
        .flat_map(|sp| {
            sp.assigned_to.iter().map(move |a| {
                json!({
                    "id": a.id_str(),
                    "principalId": fmt_guid(a.principal),
                    "principalType": a.ptype.principal_type(),
                    "resourceId": fmt_guid(sp.id),
                    "appRoleId": fmt_guid(a.role),
                    "createdDateTime": fmt_time(a.created),
                })
            })
        })
        .collect();
    o.insert("appRoleAssignments".into(), Value::Array(assignments));
    o.insert("devices".into(), full(d, &d.devices));
    let owners: Vec<Value> = d
        .devices
        .live
        .values()
        .flat_map(|dev| dev.owners.iter().map(|u| json!({"deviceId": fmt_guid(dev.id), "ownerId": fmt_guid(*u)})))
        .collect();
    o.insert("deviceOwners".into(), Value::Array(owners));
    o.insert("contacts".into(), full(d, &d.contacts));
    if !o.get("deleted").is_some_and(Value::is_object) {
        o.insert("deleted".into(), Value::Object(Map::new()));
    }
    if let Some(Value::Object(del)) = o.get_mut("deleted") {
        del.insert("groups".into(), deleted(&d.groups));
        del.insert("applications".into(), deleted(&d.apps));
        del.insert("servicePrincipals".into(), deleted(&d.sps));
        del.insert("devices".into(), deleted(&d.devices));
        del.insert("contacts".into(), deleted(&d.contacts));
    }
}
