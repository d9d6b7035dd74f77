//! The verifier: compares the emulated DevRev view (the record store) with the simulated tenant's ground truth,
//! through a table of per-record-type checks keyed by truth keys (one function per type).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use serde_json::Value;

use super::store::{RecordStore, StoredRecord};

/// Mismatch messages kept (the count is always exact).
const MAX_MESSAGES: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TypeCounts {
    /// Live objects in the truth.
    pub expected: usize,
    /// Store records not marked `deleted_in_source`.
    pub present: usize,
    /// Store records marked `deleted_in_source`.
    pub deleted: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub per_type: BTreeMap<String, TypeCounts>,
    /// The first ~50 mismatch messages.
    pub mismatches: Vec<String>,
    /// Total number of mismatches found.
    pub mismatch_count: usize,
}

/// Collects mismatches (capped messages, exact count).
#[derive(Debug, Default)]
pub struct Mismatches {
    pub messages: Vec<String>,
    pub count: usize,
}

impl Mismatches {
    pub fn push(&mut self, msg: String) {
        self.count += 1;
        if self.messages.len() < MAX_MESSAGES {
            self.messages.push(msg);
        }
    }
}

/// A per-type check: (store, whole truth, mismatches) → counts.
pub type TypeCheck = fn(&RecordStore, &Value, &mut Mismatches) -> TypeCounts;

/// Truth key → (store item type, check). Add a row per record type.
pub const CHECKS: &[(&str, &str, TypeCheck)] = &[("users", "users", check_users)];

/// Compare the store with the truth.
pub fn verify(store: &RecordStore, truth: &Value) -> VerifyReport {
    let mut mm = Mismatches::default();
    let mut per_type = BTreeMap::new();
    for (truth_key, item_type, check) in CHECKS {
        if truth.get(*truth_key).is_none() {
            continue;
        }
        let counts = check(store, truth, &mut mm);
        per_type.insert((*item_type).to_string(), counts);
    }
    VerifyReport { ok: mm.count == 0, per_type, mismatches: mm.messages, mismatch_count: mm.count }
}

fn parse_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

fn is_deleted(r: &StoredRecord) -> bool {
    r.data.get("deleted_in_source") == Some(&Value::Bool(true))
}

/// `deleted.<key>` of the truth: id → reason.
fn deleted_reasons(truth: &Value, key: &str) -> HashMap<String, String> {
    truth
        .pointer(&format!("/deleted/{key}"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|d| {
                    let id = d.get("id").and_then(Value::as_str)?;
                    let reason = d.get("reason").and_then(Value::as_str).unwrap_or("");
                    Some((id.to_string(), reason.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Dates every record must satisfy: parseable, created == truth created (when the truth has one),
/// modified >= created, modified not the epoch.
fn check_dates(tag: &str, rec: &StoredRecord, truth_created: Option<&Value>, mm: &mut Mismatches) {
    let created = parse_time(&rec.created_date);
    let modified = parse_time(&rec.modified_date);
    if created.is_none() {
        mm.push(format!("{tag}: created_date {} does not parse", rec.created_date));
    }
    match modified {
        None => mm.push(format!("{tag}: modified_date {} does not parse", rec.modified_date)),
        Some(m) => {
            if m.timestamp() == 0 {
                mm.push(format!("{tag}: modified_date is the Unix epoch"));
            }
            if let Some(c) = created {
                if m < c {
                    mm.push(format!("{tag}: modified_date {m} is earlier than created_date {c}"));
                }
            }
        }
    }
    if let (Some(tc), Some(c)) = (truth_created.and_then(parse_time), created) {
        if tc != c {
            mm.push(format!("{tag}: created_date {c} differs from the truth's {tc}"));
        }
    }
}

/// Records of `item_type` that are not live truth objects must be soft-deleted with the truth's reason.
fn check_gone(
    store: &RecordStore,
    truth: &Value,
    item_type: &str,
    truth_key: &str,
    live: &HashMap<&str, &Value>,
    mm: &mut Mismatches,
) {
    let reasons = deleted_reasons(truth, truth_key);
    for (id, rec) in store.records.get(item_type).into_iter().flatten() {
        if live.contains_key(id.as_str()) {
            continue;
        }
        if !is_deleted(rec) {
            mm.push(format!("{item_type}/{id}: not in the tenant but not marked deleted_in_source"));
            continue;
        }
        if let Some(reason) = reasons.get(id) {
            let got = rec.data.get("deleted_reason").and_then(Value::as_str);
            if got != Some(reason.as_str()) {
                mm.push(format!("{item_type}/{id}: deleted_reason {got:?}, expected {reason:?}"));
            }
        }
    }
}

fn counts_for(store: &RecordStore, item_type: &str, expected: usize) -> TypeCounts {
    let recs = store.records.get(item_type);
    let deleted = recs.map_or(0, |m| m.values().filter(|r| is_deleted(r)).count());
    let total = recs.map_or(0, |m| m.len());
    TypeCounts { expected, present: total - deleted, deleted }
}

/// Compare one data field with a truth value (missing in data counts as null).
fn field_eq(tag: &str, rec: &StoredRecord, field: &str, want: &Value, mm: &mut Mismatches) {
    let got = rec.data.get(field).unwrap_or(&Value::Null);
    if got != want {
        mm.push(format!("{tag}: data.{field} is {got}, expected {want}"));
    }
}

/// users: every tenant user present and equal on the contract fields; the rest soft-deleted.
pub fn check_users(store: &RecordStore, truth: &Value, mm: &mut Mismatches) -> TypeCounts {
    let users: Vec<&Value> =
        truth.get("users").and_then(Value::as_array).map(|l| l.iter().collect()).unwrap_or_default();
    let live: HashMap<&str, &Value> =
        users.iter().filter_map(|u| u.get("id").and_then(Value::as_str).map(|id| (id, *u))).collect();
    for (id, u) in &live {
        let tag = format!("users/{id}");
        let Some(rec) = store.get("users", id) else {
            mm.push(format!("{tag}: missing from the store"));
            continue;
        };
        if is_deleted(rec) {
            mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
        }
        let null = Value::Null;
        for (field, key) in
            [("display_name", "displayName"), ("user_principal_name", "userPrincipalName"), ("user_type", "userType")]
        {
            field_eq(&tag, rec, field, u.get(key).unwrap_or(&null), mm);
        }
        field_eq(&tag, rec, "email", u.get("mail").unwrap_or(&null), mm);
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
        check_dates(&tag, rec, truth_created, mm);
    }
    check_gone(store, truth, "users", "users", &live, mm);
    counts_for(store, "users", live.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn truth() -> Value {
        json!({"users": [
            {"id": "u1", "displayName": "Ann", "userPrincipalName": "ann@x.test", "mail": "ann@x.test",
             "accountEnabled": true, "userType": "Member", "createdDateTime": "2024-01-01T00:00:00Z"},
            {"id": "u2", "displayName": "Gus", "userPrincipalName": "gus_y.test#EXT#@x.test", "mail": null,
             "accountEnabled": false, "userType": "Guest", "createdDateTime": "2024-01-02T00:00:00Z"}
        ], "deleted": {"users": [{"id": "u3", "reason": "changed"}]}})
    }

    fn rec(id: &str, data: Value, created: &str) -> Value {
        json!({"id": id, "created_date": created, "modified_date": "2024-03-01T00:00:00Z", "data": data})
    }

    fn good_store() -> RecordStore {
        let mut s = RecordStore::default();
        s.apply_line(
            "users",
            &rec(
                "u1",
                json!({"display_name": "Ann", "user_principal_name": "ann@x.test",
            "email": "ann@x.test", "account_enabled": true, "user_type": "Member"}),
                "2024-01-01T01:00:00+01:00",
            ),
        )
        .unwrap();
        s.apply_line(
            "users",
            &rec(
                "u2",
                json!({"display_name": "Gus", "user_principal_name": "gus_y.test#EXT#@x.test",
            "email": null, "account_enabled": false, "user_type": "Guest"}),
                "2024-01-02T00:00:00Z",
            ),
        )
        .unwrap();
        s.apply_line(
            "users",
            &rec("u3", json!({"deleted_in_source": true, "deleted_reason": "changed"}), "2024-01-01T00:00:00Z"),
        )
        .unwrap();
        s
    }

    #[test]
    fn passes_on_matching_store() {
        let r = verify(&good_store(), &truth());
        assert!(r.ok, "{:?}", r.mismatches);
        assert_eq!(r.per_type["users"], TypeCounts { expected: 2, present: 2, deleted: 1 });
    }

    fn mismatch_after(f: impl FnOnce(&mut RecordStore)) -> Vec<String> {
        let mut s = good_store();
        f(&mut s);
        let r = verify(&s, &truth());
        assert!(!r.ok);
        r.mismatches
    }

    fn patch(s: &mut RecordStore, id: &str, f: impl FnOnce(&mut StoredRecord)) {
        let r = s.records.get_mut("users").unwrap().get_mut(id).unwrap();
        f(r);
    }

    #[test]
    fn detects_each_kind() {
        let m = mismatch_after(|s| {
            s.records.get_mut("users").unwrap().remove("u1");
        });
        assert!(m[0].contains("missing"), "{m:?}");
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["display_name"] = json!("Bob")));
        assert!(m[0].contains("display_name"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["user_principal_name"] = json!("x")));
        assert!(m[0].contains("user_principal_name"));
        let m = mismatch_after(|s| patch(s, "u2", |r| r.data["email"] = json!("gus_y.test#EXT#@x.test")));
        assert!(m.iter().any(|x| x.contains("#EXT#")));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["account_enabled"] = json!("true")));
        assert!(m[0].contains("account_enabled"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["user_type"] = json!("Guest")));
        assert!(m[0].contains("user_type"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.created_date = json!("2023-01-01T00:00:00Z")));
        assert!(m[0].contains("created_date"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.modified_date = json!("1970-01-01T00:00:00Z")));
        assert!(m.iter().any(|x| x.contains("epoch")));
        assert!(m.iter().any(|x| x.contains("earlier")));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.created_date = json!("not a date")));
        assert!(m[0].contains("parse"));
        let m = mismatch_after(|s| patch(s, "u1", |r| r.data["deleted_in_source"] = json!(true)));
        assert!(m[0].contains("marked deleted"));
        let m = mismatch_after(|s| patch(s, "u3", |r| r.data["deleted_reason"] = json!("deleted")));
        assert!(m[0].contains("deleted_reason"));
        let m = mismatch_after(|s| patch(s, "u3", |r| r.data = json!({})));
        assert!(m[0].contains("not marked"));
    }

    #[test]
    fn caps_messages_but_counts_all() {
        let users: Vec<Value> = (0..80).map(|i| json!({"id": format!("x{i}")})).collect();
        let r = verify(&RecordStore::default(), &json!({"users": users}));
        assert_eq!(r.mismatches.len(), MAX_MESSAGES);
        assert_eq!(r.mismatch_count, 80);
    }
}
