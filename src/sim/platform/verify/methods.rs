//! Checks of the per-user types: authentication methods (from the registration report or the per-user API)
//! and the registration report rows, with the rule for users created after the first full read.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::common::{check_dates, counts_for, field_eq, is_deleted, parse_time, Seen};
use super::policies::{pol_at, pol_sorted};
use super::{Mismatches, TypeCounts};
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

/// The user part of a per-user record id (`<userId>_…`).
fn user_of(id: &str) -> &str {
    id.split('_').next().unwrap_or("")
}

/// The tenant's users: id → `createdDateTime`.
fn user_times(truth: &dyn Truth) -> HashMap<String, Option<DateTime<FixedOffset>>> {
    let mut users = HashMap::new();
    truth.each("users", &mut |u| {
        if let Some(id) = u.get("id").and_then(Value::as_str) {
            users.insert(id.to_string(), u.get("createdDateTime").and_then(parse_time));
        }
    });
    users
}

/// The time of the first full read of a per-user type (its oldest record): users created later are read
/// when an audit event names them ("Add user", security-info events); none named: not expected yet.
fn first_read(store: &RecordStore, item_type: &str) -> Option<DateTime<FixedOffset>> {
    store.iter(item_type).filter_map(|(_, r)| parse_time(&r.modified_date)).min()
}

/// Whether a user (created at `created`) was created after `t` (to the second: Graph's `createdDateTime`
/// has no fraction).
fn created_after(created: Option<&Option<DateTime<FixedOffset>>>, t: Option<DateTime<FixedOffset>>) -> bool {
    match (created.copied().flatten(), t) {
        (Some(c), Some(t)) => c.timestamp() >= t.timestamp(),
        _ => false,
    }
}

/// authentication_methods: each live user's methods present with their type and safe fields, no secret; per
/// user, a record older than that user's latest read is gone from it. Where the registration report was read
/// (the store has its rows), the methods are its `methodsRegistered` (`<userId>_<reportName>`), else the
/// per-user API's (`<userId>_<methodId>`). Methods of users no longer in the tenant are not checked.
pub fn check_authentication_methods(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let item_type = "authentication_methods";
    let users = user_times(truth);
    let first_read = first_read(store, item_type);
    let from_report = store.count("user_registration_details") > 0;
    let read_users: HashSet<&str> = store.ids(item_type).map(user_of).collect();
    let mut expected = Seen::default();
    // One expected method (`method`: the report row, with the report's kind, or the API's method object).
    let mut check = |id: &str, method: &Value, report_kind: Option<&str>| {
        if !expected.note(store, item_type, id) {
            return;
        }
        let user = user_of(id);
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            if !read_users.contains(user) && created_after(users.get(user), first_read) {
                return; // created after the full read and never named by an audit event
            }
            mm.push(format!("{tag}: missing from the store"));
            return;
        };
        if is_deleted(&rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        let kind = match report_kind {
            Some(kind) => kind,
            None => {
                let kind = method.get("@odata.type").and_then(Value::as_str).unwrap_or("");
                kind.rsplit('.').next().unwrap_or(kind)
            }
        };
        field_eq(&tag, &rec, "method_type", &Value::String(kind.to_string()), mm);
        field_eq(&tag, &rec, "user_id", &Value::String(user.to_string()), mm);
        for (field, prop) in [("phone_number", "phoneNumber"), ("email_address", "emailAddress"), ("model", "model")] {
            if let Some(v) = method.get(prop).filter(|v| !v.is_null()) {
                field_eq(&tag, &rec, field, v, mm);
            }
        }
        if let (Some(title), Some(phone)) =
            (rec.data.get("display_name").and_then(Value::as_str), method.get("phoneNumber").and_then(Value::as_str))
        {
            if title.contains(phone) {
                mm.push(format!("{tag}: the phone number is in the title"));
            }
        }
        for secret in ["password", "secretKey", "temporaryAccessPass"] {
            if rec.data.get(secret).is_some() {
                mm.push(format!("{tag}: carries {secret}"));
            }
        }
        let created = if from_report { None } else { method.get("createdDateTime").filter(|v| !v.is_null()) };
        check_dates(&tag, &rec, created, mm);
    };
    if from_report {
        truth.each("userRegistrationDetails", &mut |row| {
            let Some(user) = row.get("id").and_then(Value::as_str) else { return };
            for name in row.get("methodsRegistered").and_then(Value::as_array).into_iter().flatten() {
                let Some(name) = name.as_str() else { continue };
                let kind = crate::schema::REGISTERED_METHODS.iter().find(|(n, _, _)| *n == name).map_or(name, |m| m.1);
                check(&format!("{user}_{name}"), row, Some(kind));
            }
        });
    } else {
        truth.each("authenticationMethods", &mut |entry| {
            let (Some(user), Some(method)) = (entry.get("userId").and_then(Value::as_str), entry.get("method")) else {
                return;
            };
            let Some(mid) = method.get("id").and_then(Value::as_str) else { return };
            check(&format!("{user}_{mid}"), method, None);
        });
    }
    let mut latest: HashMap<&str, Option<DateTime<FixedOffset>>> = HashMap::new();
    for (id, rec) in store.iter(item_type) {
        let t = parse_time(&rec.modified_date);
        let e = latest.entry(user_of(id)).or_insert(t);
        *e = (*e).max(t);
    }
    for id in store.ids(item_type) {
        let user = user_of(id);
        if expected.contains(id) || !users.contains_key(user) {
            continue;
        }
        let Some(rec) = store.get(item_type, id) else { continue };
        if !is_deleted(&rec) && parse_time(&rec.modified_date) >= latest.get(user).copied().flatten() {
            mm.push(format!("{item_type}/{id}: in the latest read of user {user} but not in the tenant"));
        }
    }
    counts_for(store, item_type, expected.len())
}

/// user_registration_details (id = user id): the report rows (only where the licence allows the report).
pub fn check_user_registration_details(store: &RecordStore, truth: &dyn Truth, mm: &mut Mismatches) -> TypeCounts {
    let item_type = "user_registration_details";
    let users = user_times(truth);
    let first_read = first_read(store, item_type);
    let mut rows = 0;
    let mut expected = Seen::default();
    truth.each("userRegistrationDetails", &mut |row| {
        rows += 1;
        let Some(id) = row.get("id").and_then(Value::as_str) else { return };
        expected.note(store, item_type, id);
        let tag = format!("{item_type}/{id}");
        let Some(rec) = store.get(item_type, id) else {
            if !created_after(users.get(id), first_read) {
                mm.push(format!("{tag}: missing from the store"));
            }
            return;
        };
        for (field, prop) in [
            ("user_principal_name", "userPrincipalName"),
            ("is_mfa_registered", "isMfaRegistered"),
            ("is_admin", "isAdmin"),
            ("is_sspr_registered", "isSsprRegistered"),
            ("user_type", "userType"),
        ] {
            field_eq(&tag, &rec, field, &pol_at(row, &format!("/{prop}")), mm);
        }
        let got = pol_sorted(rec.data.get("methods_registered").unwrap_or(&Value::Null));
        let want = pol_sorted(&pol_at(row, "/methodsRegistered"));
        if got != want {
            mm.push(format!("{tag}: data.methods_registered is {got}, expected {want}"));
        }
        field_eq(&tag, &rec, "user_id", &Value::String(id.to_string()), mm);
        check_dates(&tag, &rec, None, mm);
    });
    let licence = truth.value("licence");
    for id in store.ids(item_type) {
        if expected.contains(id) || !(rows == 0 || users.contains_key(id)) {
            continue;
        }
        if store.get(item_type, id).is_some_and(|rec| !is_deleted(&rec)) {
            mm.push(format!("{item_type}/{id}: not a report row of the tenant (licence {licence})"));
        }
    }
    counts_for(store, item_type, expected.len())
}
