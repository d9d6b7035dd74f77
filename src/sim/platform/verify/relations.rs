//! Checks of the relation types (`<parent>_<child>` ids: group and role memberships, app roles, licence
//! assignments) and of the RBAC snapshot: exactly the expected records present, live and equal.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::common::{check_dates, counts_for, expected_live, field_eq, is_deleted, live_ids, parse_time, text, Seen};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

/// Contract fields a record must carry: data key → expected value.
type Fields = Vec<(&'static str, Value)>;
/// Expected snapshot records: id → (fields, truth creation time).
type Snapshot = HashMap<String, (Fields, Option<Value>)>;

/// One expected record: in the store, live, with equal fields and sane dates. `live_phrase` words the message
/// for a record the tenant has but the store marks deleted ("<phrase> marked deleted_in_source").
fn expect_live<'s>(
    store: &'s RecordStore,
    seen: &mut Seen<'s>,
    (item_type, id): (&str, &str),
    fields: &Fields,
    live_phrase: &str,
    mm: &mut Mismatches,
) {
    let Some(rec) = seen.held(store, item_type, id, mm) else { return };
    let tag = format!("{item_type}/{id}");
    if is_deleted(&rec) {
        mm.push(format!("{tag}: {live_phrase} marked deleted_in_source"));
    }
    for (field, want) in fields {
        field_eq(&tag, &rec, field, want, mm);
    }
    check_dates(&tag, &rec, None, mm);
}

/// Relation records outside the expected set (`expected`, skipping `skip`): accepted only when their parent
/// (`parent_field` → `parent_type`) has left the tenant and is marked deleted in the store: Graph reports a
/// removed parent, not its links.
fn check_extras(
    store: &RecordStore,
    item_type: &str,
    expected: &Seen,
    (parent_field, parent_type, live_parents): (&str, &str, &HashSet<String>),
    skip: &dyn Fn(&str) -> bool,
    mm: &mut Mismatches,
) {
    for id in store.ids(item_type) {
        if expected.contains(id) || skip(id) {
            continue;
        }
        let Some(rec) = store.get(item_type, id) else { continue };
        let parent = rec.data.get(parent_field).and_then(Value::as_str).unwrap_or_default();
        let parent_gone =
            !live_parents.contains(parent) && store.get(parent_type, parent).is_some_and(|p| is_deleted(&p));
        if !parent_gone {
            mm.push(format!("{item_type}/{id}: not in the tenant but still in the store"));
        }
    }
}

/// The newest `modified_date` of the records `pick` selects: the time of the latest snapshot.
fn latest_snapshot(store: &RecordStore, item_type: &str, pick: &dyn Fn(&str) -> bool) -> Option<DateTime<FixedOffset>> {
    store.iter(item_type).filter(|(id, _)| pick(id)).filter_map(|(_, r)| parse_time(&r.modified_date)).max()
}

/// Snapshot records (`pick`): the expected ones present with equal fields; the others deleted or older than
/// the latest snapshot (absent from it, which DevRev reads as deleted for an `is_snapshot` type).
fn check_snapshot(
    store: &RecordStore,
    item_type: &str,
    expected: &Snapshot,
    pick: &dyn Fn(&str) -> bool,
    mm: &mut Mismatches,
) {
    for (id, (fields, created)) in expected {
        let tag = format!("{item_type}/{id}");
        let Some(rec) = expected_live(store, &tag, item_type, id, mm) else { continue };
        for (field, want) in fields {
            field_eq(&tag, &rec, field, want, mm);
        }
        check_dates(&tag, &rec, created.as_ref(), mm);
    }
    let latest = latest_snapshot(store, item_type, pick);
    for (id, rec) in store.iter(item_type) {
        if !pick(id) || expected.contains_key(id) || is_deleted(&rec) {
            continue;
        }
        if parse_time(&rec.modified_date) >= latest {
            mm.push(format!("{item_type}/{id}: in the latest snapshot but not in the tenant"));
        }
    }
}

fn relation_counts(store: &RecordStore, item_type: &str, expected: usize, pick: &dyn Fn(&str) -> bool) -> TypeCounts {
    let (mut total, mut deleted) = (0, 0);
    for (_, r) in store.iter(item_type).filter(|(id, _)| pick(id)) {
        total += 1;
        deleted += usize::from(is_deleted(&r));
    }
    TypeCounts { expected, present: total - deleted, deleted }
}

/// The relation id `<parent>_<child>` of two truth properties, with their values.
fn link(v: &Value, parent: &str, child: &str) -> (String, Value, Value) {
    let (p, c) = (text(v, parent), text(v, child));
    (format!("{}_{}", p.as_str().unwrap_or_default(), c.as_str().unwrap_or_default()), p, c)
}

/// Checks that every membership of the truth list `list` is live in `item_type` as `<owner>_<member>`, with
/// its owner (`owner`: the truth property and the record field), member and member type; returns their ids.
fn expect_memberships<'s>(
    store: &'s RecordStore,
    truth: &dyn Truth,
    list: &str,
    (owner_prop, owner_field): (&str, &'static str),
    item_type: &str,
    mm: &mut Mismatches,
) -> Seen<'s> {
    let mut seen = Seen::default();
    truth.each(list, &mut |m| {
        let (id, owner, member) = link(m, owner_prop, "memberId");
        let fields = vec![(owner_field, owner), ("member_id", member), ("member_type", text(m, "memberType"))];
        expect_live(store, &mut seen, (item_type, &id), &fields, "exists in the tenant but is", mm);
    });
    seen
}

/// group_members: exactly the live memberships `<groupId>_<memberId>` (removed ones absent).
pub fn check_group_members(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let expected = expect_memberships(store, truth, "groupMembers", ("groupId", "group_id"), "group_members", mm);
    let groups = live_ids(truth, "groups");
    check_extras(store, "group_members", &expected, ("group_id", "groups", &groups), &|_| false, mm);
    relation_counts(store, "group_members", expected.len(), &|_| true)
}

fn is_rbac(id: &str) -> bool {
    id.starts_with("rbac_")
}

/// role_members: the activated roles' memberships `<roleId>_<memberId>` exactly, and the unified RBAC
/// assignments `rbac_<id>` as of the latest snapshot.
pub fn check_role_members(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let members = expect_memberships(store, truth, "directoryRoleMembers", ("roleId", "role_id"), "role_members", mm);
    let roles = live_ids(truth, "directoryRoles");
    check_extras(store, "role_members", &members, ("role_id", "directory_roles", &roles), &is_rbac, mm);
    let mut rbac = HashMap::new();
    truth.each("roleAssignments", &mut |a| {
        let fields = vec![
            ("member_id", text(a, "principalId")),
            ("role_definition_id", text(a, "roleDefinitionId")),
            ("directory_scope_id", text(a, "directoryScopeId")),
        ];
        rbac.insert(format!("rbac_{}", a.get("id").and_then(Value::as_str).unwrap_or_default()), (fields, None));
    });
    check_snapshot(store, "role_members", &rbac, &is_rbac, mm);
    let mut counts = relation_counts(store, "role_members", members.len(), &|id| !is_rbac(id));
    let latest = latest_snapshot(store, "role_members", &is_rbac);
    let current =
        store.iter("role_members").filter(|(id, r)| is_rbac(id) && parse_time(&r.modified_date) >= latest).count();
    counts.expected += rbac.len();
    counts.present += current;
    counts
}

/// app_roles: every live service principal's `appRoles` as `<spId>_<appRoleId>`.
pub fn check_app_roles(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let mut expected = Seen::default();
    let mut sps = HashSet::new();
    truth.each("servicePrincipals", &mut |sp| {
        let sp_id = text(sp, "id");
        if let Some(id) = sp_id.as_str() {
            sps.insert(id.to_string());
        }
        for role in sp.get("appRoles").and_then(Value::as_array).into_iter().flatten() {
            let id = format!(
                "{}_{}",
                sp_id.as_str().unwrap_or_default(),
                role.get("id").and_then(Value::as_str).unwrap_or_default()
            );
            let fields = vec![
                ("service_principal_id", sp_id.clone()),
                ("display_name", text(role, "displayName")),
                ("value", text(role, "value")),
                ("is_enabled", role.get("isEnabled").cloned().unwrap_or(Value::Null)),
            ];
            expect_live(store, &mut expected, ("app_roles", &id), &fields, "exists in the tenant but is", mm);
        }
    });
    let parents = ("service_principal_id", "service_principals", &sps);
    check_extras(store, "app_roles", &expected, parents, &|_| false, mm);
    relation_counts(store, "app_roles", expected.len(), &|_| true)
}

/// license_assignments: one live `<userId>_<skuId>` per live user's `assignedLicenses` entry, named from
/// `subscribedSkus`; every other record deleted. Without SKUs in the truth the worker cannot name them
/// nor infer removals, so only the live ones are checked.
pub fn check_license_assignments(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let skus = truth.value("subscribedSkus");
    let skus: Option<HashMap<&str, &Value>> = skus.as_array().map(|list| {
        list.iter()
            .filter_map(|s| {
                Some((s.get("skuId").and_then(Value::as_str)?, s.get("skuPartNumber").unwrap_or(&Value::Null)))
            })
            .collect()
    });
    let mut expected = Seen::default();
    truth.each("users", &mut |u| {
        let user = text(u, "id");
        for l in u.get("assignedLicenses").and_then(Value::as_array).into_iter().flatten() {
            let sku = text(l, "skuId");
            let id = format!("{}_{}", user.as_str().unwrap_or_default(), sku.as_str().unwrap_or_default());
            let mut fields = vec![("user_id", user.clone()), ("sku_id", sku.clone())];
            if let Some(names) = &skus {
                let name = sku.as_str().and_then(|s| names.get(s)).map_or(Value::Null, |n| (*n).clone());
                fields.push(("sku_part_number", name));
            }
            let phrase = "assigned in the tenant but";
            expect_live(store, &mut expected, ("license_assignments", &id), &fields, phrase, mm);
        }
    });
    if skus.is_some() {
        for id in store.ids("license_assignments") {
            if expected.contains(id) || store.get("license_assignments", id).is_some_and(|r| is_deleted(&r)) {
                continue;
            }
            mm.push(format!("license_assignments/{id}: no longer assigned but not marked deleted_in_source"));
        }
    }
    counts_for(store, "license_assignments", expected.len())
}
