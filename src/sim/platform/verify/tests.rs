//! Unit tests of the verifier on a small users truth: a matching store passes, each kind of drift is
//! reported, and messages are capped while the count stays exact.

use super::*;
use crate::sim::platform::record::StoredRecord;
use serde_json::{json, Value};

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
    s.patch("users", id, f);
}

#[test]
fn detects_each_kind() {
    let m = mismatch_after(|s| {
        s.remove("users", "u1");
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
