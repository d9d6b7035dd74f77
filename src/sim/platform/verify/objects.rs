//! Checks of the directory's delta object types (groups, roles, apps, service principals, app role
//! assignments, devices, contacts): live objects present and equal, every other record soft-deleted.

use std::collections::HashMap;

use serde_json::Value;

use super::common::{check_dates, check_gone, counts_for, field_eq, is_deleted, parse_time, Seen};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::record::StoredRecord;
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

/// A check of its own on one live object's record: (tag, record, truth object, mismatches).
type Extra<'a> = &'a dyn Fn(&str, &StoredRecord, &Value, &mut Mismatches);

/// A truth timestamp cut to whole seconds, as the worker sends dates.
fn to_second(v: Option<&Value>) -> Option<Value> {
    let t = v.and_then(parse_time)?;
    Some(Value::String(t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

/// Live objects of a delta type: present, not deleted, the contract fields equal (Graph property → data
/// field), honest dates; every other record of the type soft-deleted with the truth's reason.
fn check_objects(
    store: &RecordStore,
    truth: &dyn Truth,
    (item_type, truth_key, deleted_key): (&str, &str, &str),
    fields: &[(&str, &str)],
    extra: Extra,
    mm: &mut Mismatches,
) -> TypeCounts {
    let mut live = Seen::default();
    truth.each(truth_key, &mut |obj| {
        let Some(id) = obj.get("id").and_then(Value::as_str) else { return };
        let Some(rec) = live.held(store, item_type, id, mm) else { return };
        let tag = format!("{item_type}/{id}");
        if is_deleted(&rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        for (field, prop) in fields {
            field_eq(&tag, &rec, field, obj.get(*prop).unwrap_or(&Value::Null), mm);
        }
        extra(&tag, &rec, obj, mm);
        check_dates(&tag, &rec, to_second(obj.get("createdDateTime")).as_ref(), mm);
    });
    check_gone(store, truth, item_type, deleted_key, &live, mm);
    counts_for(store, item_type, live.len())
}

fn no_extra(_: &str, _: &StoredRecord, _: &Value, _: &mut Mismatches) {}

/// groups: the contract fields (`display_name`, `mail`, `security_enabled`, `mail_enabled`, `group_types`).
pub fn check_groups(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("display_name", "displayName"),
        ("mail", "mail"),
        ("security_enabled", "securityEnabled"),
        ("mail_enabled", "mailEnabled"),
        ("group_types", "groupTypes"),
    ];
    check_objects(store, truth, ("groups", "groups", "groups"), &fields, &no_extra, mm)
}

/// directory_roles: `display_name`, `role_template_id`.
pub fn check_directory_roles(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("role_template_id", "roleTemplateId")];
    check_objects(store, truth, ("directory_roles", "directoryRoles", "directoryRoles"), &fields, &no_extra, mm)
}

/// applications: `display_name`, `app_id`.
pub fn check_applications(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("app_id", "appId")];
    check_objects(store, truth, ("applications", "applications", "applications"), &fields, &no_extra, mm)
}

/// service_principals: `display_name`, `app_id`.
pub fn check_service_principals(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [("display_name", "displayName"), ("app_id", "appId")];
    let keys = ("service_principals", "servicePrincipals", "servicePrincipals");
    check_objects(store, truth, keys, &fields, &no_extra, mm)
}

/// app_role_assignments (a delta type): every live assignment present and equal with its creation date; every
/// other record deleted (removed in Graph, or gone with its principal or resource; no `deleted` list: any reason).
pub fn check_app_role_assignments(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let fields = [
        ("principal_id", "principalId"),
        ("principal_type", "principalType"),
        ("resource_id", "resourceId"),
        ("app_role_id", "appRoleId"),
    ];
    let keys = ("app_role_assignments", "appRoleAssignments", "appRoleAssignments");
    check_objects(store, truth, keys, &fields, &no_extra, mm)
}

/// devices: `display_name`, `device_id`, `account_enabled`, `is_compliant`; `registered_owner_ids` = the
/// device's owners in `deviceOwners` (as a set).
pub fn check_devices(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let mut owners: HashMap<String, Vec<String>> = HashMap::new();
    truth.each("deviceOwners", &mut |o| {
        if let (Some(d), Some(u)) =
            (o.get("deviceId").and_then(Value::as_str), o.get("ownerId").and_then(Value::as_str))
        {
            owners.entry(d.to_string()).or_default().push(u.to_string());
        }
    });
    let check_owners = |tag: &str, rec: &StoredRecord, obj: &Value, mm: &mut Mismatches| {
        let id = obj.get("id").and_then(Value::as_str).unwrap_or_default();
        let mut want: Vec<&str> = owners.get(id).map(|o| o.iter().map(String::as_str).collect()).unwrap_or_default();
        want.sort_unstable();
        let mut got: Vec<&str> = match rec.data.get("registered_owner_ids") {
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            other => {
                mm.push(format!("{tag}: data.registered_owner_ids is {other:?}, expected a list"));
                return;
            }
        };
        got.sort_unstable();
        if got != want {
            mm.push(format!("{tag}: data.registered_owner_ids is {got:?}, expected {want:?}"));
        }
    };
    let fields = [
        ("display_name", "displayName"),
        ("device_id", "deviceId"),
        ("account_enabled", "accountEnabled"),
        ("is_compliant", "isCompliant"),
    ];
    check_objects(store, truth, ("devices", "devices", "devices"), &fields, &check_owners, mm)
}

/// org_contacts: `display_name`, and `email` = `mail` when it is a real address (never `#EXT#`, never "").
pub fn check_org_contacts(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let email = |tag: &str, rec: &StoredRecord, obj: &Value, mm: &mut Mismatches| {
        let want = match obj.get("mail").and_then(Value::as_str) {
            Some(m) if m.contains('@') && !m.contains("#EXT#") => Value::String(m.to_string()),
            _ => Value::Null,
        };
        field_eq(tag, rec, "email", &want, mm);
    };
    let keys = ("org_contacts", "contacts", "contacts");
    check_objects(store, truth, keys, &[("display_name", "displayName")], &email, mm)
}
