//! Record building shared by every extractor: the `{id, created_date, modified_date, data}` envelope with
//! honest dates, deletion records for `@removed` entries, and `@odata.type` turned into a member type.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::line::LineWriter;
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::RecordType;

/// An RFC 3339 timestamp in UTC, to the second.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// To the millisecond: the `modified_date` of a sync, so two syncs within one second stay apart (a snapshot
/// type's latest snapshot is told by it).
pub fn ts_millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A Graph timestamp property, parsed.
pub fn time_of(obj: &Json, prop: &str) -> Option<DateTime<Utc>> {
    obj.field(prop)
        .and_then(Json::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The `(created_date, modified_date)` texts of the envelope: `created_date` = the object's creation time
/// where it has one, else the sync time (to the second); `modified_date` = the sync time (to the
/// millisecond), never earlier than `created_date`.
pub fn envelope_dates(created: Option<DateTime<Utc>>, sync_time: DateTime<Utc>) -> (String, String) {
    let (sync_secs, sync_millis) = sync_stamps(sync_time);
    match created {
        None => (sync_secs, sync_millis),
        Some(c) if c <= sync_time => (ts(c), sync_millis),
        Some(c) => (ts(c), ts_millis(c)),
    }
}

thread_local! {
    /// The last sync time formatted: most records of a sync carry it, and formatting is dear per record.
    static SYNC_STAMPS: std::cell::RefCell<Option<(DateTime<Utc>, String, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// `(ts(t), ts_millis(t))`, formatted once per sync time and thread.
fn sync_stamps(t: DateTime<Utc>) -> (String, String) {
    SYNC_STAMPS.with(|cell| {
        let mut cached = cell.borrow_mut();
        match &*cached {
            Some((at, secs, millis)) if *at == t => (secs.clone(), millis.clone()),
            _ => {
                let (secs, millis) = (ts(t), ts_millis(t));
                *cached = Some((t, secs.clone(), millis.clone()));
                (secs, millis)
            }
        }
    })
}

/// `{id, created_date, modified_date, data}` built in place: `json!` would serialize `data` into a copy.
pub fn assemble(id: &str, created_date: String, modified_date: String, data: Map<String, Value>) -> Value {
    let mut record = Map::new();
    record.insert("created_date".into(), Value::String(created_date));
    record.insert("data".into(), Value::Object(data));
    record.insert("id".into(), Value::String(id.into()));
    record.insert("modified_date".into(), Value::String(modified_date));
    Value::Object(record)
}

/// The reason of an `@removed` annotation: `changed` (soft-deleted, restorable) or `deleted`.
pub fn removed_reason(removed: &Json) -> &'static str {
    match removed.field("reason").and_then(Json::as_str) {
        Some(r) if r.eq_ignore_ascii_case("changed") => "changed",
        _ => "deleted",
    }
}

/// A deletion record: same id, `deleted_in_source` with the reason, dated at the sync time.
pub fn deletion(id: &str, removed: &Json, sync_time: DateTime<Utc>) -> Line {
    LineWriter::new(id, None, sync_time).deleted(removed_reason(removed))
}

/// A live object of a delta record type with its copied properties written: the caller writes the derived
/// fields, then ends it with `LineWriter::live`.
pub fn live_writer(
    rt: &RecordType,
    id: &str,
    created: Option<DateTime<Utc>>,
    sync_time: DateTime<Utc>,
    obj: &Json,
) -> LineWriter {
    let mut w = LineWriter::new(id, created, sync_time);
    w.props(rt, obj);
    w
}

/// `#microsoft.graph.servicePrincipal` → `servicePrincipal` (the member types of the contract).
pub fn odata_kind<'a>(obj: &'a Json) -> Option<&'a str> {
    let t = obj.field("@odata.type").and_then(Json::as_str)?;
    let kind = t.rsplit('.').next().unwrap_or(t).trim_start_matches('#');
    (!kind.is_empty()).then_some(kind)
}

/// The `$select` list of a delta: the record type's copied properties plus `extra`, sorted, once each.
pub fn select_list(extra: &[&str], rt: &RecordType) -> String {
    let mut select: Vec<&str> = extra.to_vec();
    select.extend(rt.graph_properties());
    select.sort_unstable();
    select.dedup();
    select.join(",")
}

/// True when a delta entry carries properties of the object itself, not only its id and annotations
/// (a large group's later member slices may repeat just the id with more `members@delta`).
pub fn has_properties(obj: &Json) -> bool {
    obj.as_object().is_some_and(|o| o.keys().any(|k| k != "id" && !k.contains('@')))
}

/// A non-empty string property.
pub fn str_prop<'a>(obj: &'a Json, prop: &str) -> Option<&'a str> {
    obj.field(prop).and_then(Json::as_str).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::view;
    use serde_json::json;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn dates_are_honest() {
        assert_eq!(
            envelope_dates(None, at()),
            ("2026-11-27T08:00:00Z".to_string(), "2026-11-27T08:00:00.000Z".to_string())
        );
        let later = time_of(&view(&json!({"t": "2027-01-01T00:00:00Z"})), "t");
        assert_eq!(envelope_dates(later, at()).1, "2027-01-01T00:00:00.000Z", "never earlier than created");
        assert!(time_of(&view(&json!({"t": "never"})), "t").is_none());
    }

    #[test]
    fn removed_reasons_and_kinds() {
        assert_eq!(removed_reason(&view(&json!({"reason": "changed"}))), "changed");
        assert_eq!(removed_reason(&view(&json!({"reason": "deleted"}))), "deleted");
        assert_eq!(removed_reason(&view(&json!({}))), "deleted");
        let d = deletion("g1", &view(&json!({"reason": "changed"})), at()).to_value();
        assert_eq!(d["data"], json!({"deleted_in_source": true, "deleted_reason": "changed"}));
        assert_eq!(odata_kind(&view(&json!({"@odata.type": "#microsoft.graph.orgContact"}))), Some("orgContact"));
        assert_eq!(odata_kind(&view(&json!({"id": "x"}))), None);
        assert_eq!(str_prop(&view(&json!({"a": ""})), "a"), None);
    }
}
