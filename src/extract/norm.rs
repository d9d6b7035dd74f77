//! Helpers shared by the policy, report and log normalizers: timestamps (never the epoch or Graph's
//! `0001-01-01` "never"), record assembly, JSON pointer reads, flattened lists and compact JSON text.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::record::assemble;
use crate::graph::json::{self, Field, Json};
use crate::schema::{coerce, Kind};

/// RFC 3339 in UTC, keeping Graph's sub-second digits when there are any.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A `$filter` lower bound: the time rounded down to the second.
pub fn filter_floor(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A Graph timestamp, or None when missing, unparseable or before 1971 (Graph's "never" and the epoch).
pub fn parse_ts(v: Option<&Json>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(v?.as_str()?).ok()?.with_timezone(&Utc);
    (t.timestamp() > 365 * 24 * 3600).then_some(t)
}

/// A record of a read object: `created_date` = the object's creation time, else the sync time;
/// `modified_date` = the sync time (the snapshot or re-read it belongs to), never before `created_date`.
/// The object's own modification time, where it has one, is a data field.
pub fn record(id: &str, created: Option<DateTime<Utc>>, sync_time: DateTime<Utc>, data: Map<String, Value>) -> Value {
    let (created_date, modified_date) = record_dates(created, sync_time);
    assemble(id, created_date, modified_date, data)
}

/// The `(created_date, modified_date)` texts of `record`.
pub fn record_dates(created: Option<DateTime<Utc>>, sync_time: DateTime<Utc>) -> (String, String) {
    let c = created.unwrap_or(sync_time);
    (ts(c), ts(sync_time.max(c)))
}

/// The value at a JSON pointer (`/conditions/users/includeUsers`), if any and not null.
pub fn at<'v, 'a>(obj: &'v Json<'a>, pointer: &str) -> Option<&'v Json<'a>> {
    json::pointer(obj, pointer).filter(|v| !v.is_null())
}

/// The value at a pointer coerced to a field kind (missing → null).
pub fn kind_at(obj: &Json, pointer: &str, kind: Kind) -> Value {
    coerce(kind, at(obj, pointer))
}

/// A list of strings at a pointer (non-strings dropped), or null when absent.
pub fn list_at(obj: &Json, pointer: &str) -> Value {
    coerce(Kind::TextList, at(obj, pointer))
}

/// Compact JSON text of a nested object (null when absent or null), keys sorted: the same object gives
/// the same text whatever order Graph sent its keys in.
pub fn json_text(v: Option<&Json>) -> Value {
    match v {
        None | Some(Json::Null) => Value::Null,
        Some(v) => Value::String(json::to_owned(v).to_string()),
    }
}

/// `#microsoft.graph.phoneAuthenticationMethod` → `phoneAuthenticationMethod`.
pub fn odata_type(obj: &Json) -> Option<String> {
    let t = obj.field("@odata.type")?.as_str()?;
    let name = t.rsplit('.').next().unwrap_or(t).trim_start_matches('#');
    (!name.is_empty()).then(|| name.to_string())
}

/// The string `id` of a Graph object.
pub fn id_of<'a>(obj: &'a Json) -> Option<&'a str> {
    obj.field("id").and_then(Json::as_str).filter(|s| !s.is_empty())
}

/// Marks a live record (deletion fields present, false/null).
pub fn live(data: &mut Map<String, Value>) {
    data.insert("deleted_in_source".into(), Value::Bool(false));
    data.insert("deleted_reason".into(), Value::Null);
}

/// A deletion of a record that is gone from the source: same id, `deleted_in_source`, dated at the sync.
pub fn deletion(id: &str, sync_time: DateTime<Utc>) -> Value {
    json!({"id": id, "created_date": ts(sync_time), "modified_date": ts(sync_time),
           "data": {"deleted_in_source": true, "deleted_reason": "deleted"}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::view;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_are_never_the_epoch_nor_before_creation() {
        let sync = t("2026-03-01T00:00:00Z");
        assert_eq!(parse_ts(Some(&Json::from("0001-01-01T00:00:00Z"))), None);
        assert_eq!(parse_ts(Some(&Json::from("1970-01-01T00:00:00Z"))), None);
        assert_eq!(parse_ts(Some(&Json::from("2024-01-10T09:12:44Z"))), Some(t("2024-01-10T09:12:44Z")));
        let r = record("x", None, sync, Map::new());
        assert_eq!(r["created_date"], "2026-03-01T00:00:00Z");
        assert_eq!(r["modified_date"], "2026-03-01T00:00:00Z");
        let r = record("x", Some(t("2024-01-10T09:12:44Z")), sync, Map::new());
        assert_eq!(r["created_date"], "2024-01-10T09:12:44Z");
        assert_eq!(r["modified_date"], "2026-03-01T00:00:00Z");
        let r = record("x", Some(t("2027-01-10T09:12:44Z")), sync, Map::new());
        assert_eq!(r["modified_date"], "2027-01-10T09:12:44Z", "never before created");
    }

    #[test]
    fn filter_lower_bounds_round_down() {
        let t = DateTime::parse_from_rfc3339("2026-03-01T10:00:05.250Z").unwrap().with_timezone(&Utc);
        assert_eq!(filter_floor(t), "2026-03-01T10:00:05Z");
    }

    #[test]
    fn small_readers() {
        let v = json!({"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "a": {"b": ["x", 1]}, "n": null});
        let v = view(&v);
        assert_eq!(odata_type(&v).as_deref(), Some("fido2AuthenticationMethod"));
        assert_eq!(list_at(&v, "/a/b"), json!(["x"]));
        assert_eq!(list_at(&v, "/n"), Value::Null);
        assert_eq!(json_text(v.field("a")), json!("{\"b\":[\"x\",1]}"));
        assert_eq!(json_text(v.field("n")), Value::Null);
    }
}
