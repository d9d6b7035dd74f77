//! What the per-type checks share: dates and deletion marks, field comparison, the truth's `deleted.*`
//! reasons, the ids met while streaming a truth list, and the rule for records the tenant no longer has.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::{Mismatches, TypeCounts};
use crate::sim::platform::record::StoredRecord;
use crate::sim::platform::store::RecordStore;
use crate::sim::truth::Truth;

pub fn parse_time(v: &Value) -> Option<DateTime<FixedOffset>> {
    v.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok())
}

pub fn is_deleted(r: &StoredRecord) -> bool {
    r.data.get("deleted_in_source") == Some(&Value::Bool(true))
}

/// A string property of a truth object (`Null` when absent or not a string).
pub fn text(v: &Value, key: &str) -> Value {
    v.get(key).filter(|x| x.is_string()).cloned().unwrap_or(Value::Null)
}

/// The `id`s of the objects of a truth list.
pub fn live_ids(truth: &dyn Truth, key: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    truth.each(key, &mut |o| {
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            ids.insert(id.to_string());
        }
    });
    ids
}

/// `deleted.<key>` of the truth: id → reason.
fn deleted_reasons(truth: &dyn Truth, key: &str) -> HashMap<String, String> {
    truth
        .value("deleted")
        .get(key)
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
pub fn check_dates(tag: &str, rec: &StoredRecord, truth_created: Option<&Value>, mm: &mut Mismatches) {
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

/// Compare one data field with a truth value (missing in data counts as null).
/// The record of an object the tenant has: a mismatch when it is missing (None) or marked deleted.
pub fn expected_live(
    store: &RecordStore,
    tag: &str,
    item_type: &str,
    id: &str,
    mm: &mut Mismatches,
) -> Option<StoredRecord> {
    let Some(rec) = store.get(item_type, id) else {
        mm.push(format!("{tag}: missing from the store"));
        return None;
    };
    if is_deleted(&rec) {
        mm.push(format!("{tag}: exists in the tenant but is marked deleted_in_source"));
    }
    Some(rec)
}

pub fn field_eq(tag: &str, rec: &StoredRecord, field: &str, want: &Value, mm: &mut Mismatches) {
    let got = rec.data.get(field).unwrap_or(&Value::Null);
    if got != want {
        mm.push(format!("{tag}: data.{field} is {got}, expected {want}"));
    }
}

pub fn counts_for(store: &RecordStore, item_type: &str, expected: usize) -> TypeCounts {
    let deleted = store.iter(item_type).filter(|(_, r)| is_deleted(r)).count();
    let total = store.count(item_type);
    TypeCounts { expected, present: total - deleted, deleted }
}

/// The distinct ids of one type's truth objects met so far while streaming the truth: those the store
/// holds (the store's own id, borrowed) and the others.
#[derive(Debug, Default)]
pub struct Seen<'s> {
    held: HashSet<&'s str>,
    absent: HashSet<String>,
}

impl<'s> Seen<'s> {
    /// Note `id` as met; false when it was met before.
    pub fn note(&mut self, store: &'s RecordStore, item_type: &str, id: &str) -> bool {
        match store.key(item_type, id) {
            Some(held) => self.held.insert(held),
            None => self.absent.insert(id.to_string()),
        }
    }

    /// Note `id`; the first time, its record to check, or a "missing from the store" mismatch. (A truth list
    /// names each object once; a repeated id is checked once, as the truth's id maps always did.)
    pub fn held(
        &mut self,
        store: &'s RecordStore,
        item_type: &str,
        id: &str,
        mm: &mut Mismatches,
    ) -> Option<StoredRecord> {
        if !self.note(store, item_type, id) {
            return None;
        }
        let rec = store.get(item_type, id);
        if rec.is_none() {
            mm.push(format!("{item_type}/{id}: missing from the store"));
        }
        rec
    }

    pub fn contains(&self, id: &str) -> bool {
        self.held.contains(id) || self.absent.contains(id)
    }

    pub fn len(&self) -> usize {
        self.held.len() + self.absent.len()
    }
}

/// Records of `item_type` that are not live truth objects (`live`) must be soft-deleted with the truth's
/// reason (`deleted.<truth_key>`).
pub fn check_gone(
    store: &RecordStore,
    truth: &dyn Truth,
    item_type: &str,
    truth_key: &str,
    live: &Seen,
    mm: &mut Mismatches,
) {
    let reasons = deleted_reasons(truth, truth_key);
    for id in store.ids(item_type) {
        if live.contains(id) {
            continue;
        }
        let Some(rec) = store.get(item_type, id) else { continue };
        if !is_deleted(&rec) {
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
