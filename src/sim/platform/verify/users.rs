//! Checks of the users: every tenant user present and equal on the contract fields (the rest soft-deleted),
//! and the custom fields (on-premises extension attributes and directory extensions) on each of them.

use serde_json::Value;

use super::common::{check_dates, check_gone, counts_for, field_eq, is_deleted, Seen};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

/// users: every tenant user present and equal on the contract fields; the rest soft-deleted.
pub fn check_users(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let mut live = Seen::default();
    truth.each("users", &mut |u| {
        let Some(id) = u.get("id").and_then(Value::as_str) else { return };
        let Some(rec) = live.held(store, "users", id, mm) else { return };
        let tag = format!("users/{id}");
        if is_deleted(&rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        let null = Value::Null;
        for (field, key) in
            [("display_name", "displayName"), ("user_principal_name", "userPrincipalName"), ("user_type", "userType")]
        {
            field_eq(&tag, &rec, field, u.get(key).unwrap_or(&null), mm);
        }
        field_eq(&tag, &rec, "email", u.get("mail").unwrap_or(&null), mm);
        if let Some(e) = rec.data.get("email").and_then(Value::as_str) {
            if e.contains("#EXT#") {
                mm.push(format!("{tag}: data.email is a guest #EXT# UPN: {e}"));
            }
        }
        let enabled = rec.data.get("account_enabled").unwrap_or(&null);
        let want = u.get("accountEnabled").unwrap_or(&null);
        if !enabled.is_boolean() && !want.is_null() {
            mm.push(format!("{tag}: data.account_enabled is {enabled}, not a JSON bool"));
        } else if enabled != want {
            mm.push(format!("{tag}: data.account_enabled is {enabled}, expected {want}"));
        }
        let truth_created = u.get("createdDateTime").filter(|v| !v.is_null());
        check_dates(&tag, &rec, truth_created, mm);
    });
    check_gone(store, truth, "users", "users", &live, mm);
    counts_for(store, "users", live.len())
}

/// Custom fields on users: `ext_attr_1..15` from `onPremisesExtensionAttributes`, and one `ext_…` key per
/// user-targeted directory extension, equal to the user's value (null when the user has none).
pub fn check_user_custom_fields(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    use crate::schema::custom_fields::{from_extension_property, user_custom_fields, value_of};
    let discovered: Vec<_> = truth.list("extensionProperties").iter().filter_map(from_extension_property).collect();
    let fields = user_custom_fields(&discovered);
    let (mut users, mut checked) = (0, 0);
    truth.each("users", &mut |u| {
        users += 1;
        let Some(id) = u.get("id").and_then(Value::as_str) else { return };
        let Some(rec) = store.get("users", id) else { return };
        checked += 1;
        for f in &fields {
            let tag = format!("users/{id}");
            match rec.data.get(&f.key) {
                None => mm.push(format!("{tag}: custom field {} not sent", f.key)),
                Some(got) => {
                    let want = value_of(f, &crate::graph::json::view(u));
                    if got != &want {
                        mm.push(format!("{tag}: custom field {} is {got}, expected {want}", f.key));
                    }
                }
            }
        }
    });
    TypeCounts { expected: users, present: checked, deleted: 0 }
}
