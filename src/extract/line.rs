//! Records written straight to their artifact line: the envelope, then each data field as the normalizer
//! reads it from the Graph object, with no intermediate JSON value (no copied keys, strings or maps).

use super::record::envelope_dates;
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::{coerced, Coerced, Kind, RecordType, Source, ITEM_URL_FIELD};
use chrono::{DateTime, Utc};

/// Writes one record's line: `LineWriter::new`, the data fields in any order (each key once), then `live`,
/// `deleted` or `finish`.
pub struct LineWriter {
    line: Line,
    /// No data field written yet.
    first: bool,
    /// Keys written, to catch a key written twice (checked in debug builds, i.e. in every test).
    #[cfg(debug_assertions)]
    keys: Vec<String>,
}

impl LineWriter {
    /// A record with the envelope dates of `record::envelope_dates` (creation time, else the sync time).
    pub fn new(id: &str, created: Option<DateTime<Utc>>, sync_time: DateTime<Utc>) -> LineWriter {
        let (created_date, modified_date) = envelope_dates(created, sync_time);
        LineWriter::with_dates(id, created_date, modified_date)
    }

    /// A record with these envelope dates.
    pub fn with_dates(id: &str, created_date: String, modified_date: String) -> LineWriter {
        let mut json = Vec::with_capacity(512);
        json.extend_from_slice(b"{\"created_date\":");
        write_str(&mut json, &created_date);
        json.extend_from_slice(b",\"id\":");
        write_str(&mut json, id);
        json.extend_from_slice(b",\"modified_date\":");
        write_str(&mut json, &modified_date);
        json.extend_from_slice(b",\"data\":{");
        LineWriter {
            line: Line { id: id.to_string(), created_date, modified_date, live: true, json },
            first: true,
            #[cfg(debug_assertions)]
            keys: Vec::new(),
        }
    }

    fn key(&mut self, key: &str) {
        #[cfg(debug_assertions)]
        {
            assert!(!self.keys.iter().any(|k| k == key), "record {}: field {key} written twice", self.line.id);
            self.keys.push(key.to_string());
        }
        if !self.first {
            self.line.json.push(b',');
        }
        self.first = false;
        write_str(&mut self.line.json, key);
        self.line.json.push(b':');
    }

    /// Any JSON value, as it is.
    pub fn value(&mut self, key: &str, v: &impl serde::Serialize) {
        self.key(key);
        write_value(&mut self.line.json, v);
    }

    /// A text, or null.
    pub fn str(&mut self, key: &str, s: Option<&str>) {
        self.key(key);
        match s {
            Some(s) => write_str(&mut self.line.json, s),
            None => self.line.json.extend_from_slice(b"null"),
        }
    }

    pub fn bool(&mut self, key: &str, b: bool) {
        self.key(key);
        self.line.json.extend_from_slice(if b { b"true" } else { b"false" });
    }

    pub fn null(&mut self, key: &str) {
        self.key(key);
        self.line.json.extend_from_slice(b"null");
    }

    /// A list of texts.
    pub fn strs<'a>(&mut self, key: &str, items: impl IntoIterator<Item = &'a str>) {
        self.key(key);
        self.line.json.push(b'[');
        for (i, s) in items.into_iter().enumerate() {
            if i > 0 {
                self.line.json.push(b',');
            }
            write_str(&mut self.line.json, s);
        }
        self.line.json.push(b']');
    }

    /// A Graph value coerced to a field kind (`schema::coerce`).
    pub fn kind(&mut self, key: &str, kind: Kind, v: Option<&Json>) {
        self.key(key);
        let out = &mut self.line.json;
        match coerced(kind, v) {
            Coerced::Null => out.extend_from_slice(b"null"),
            Coerced::Str(s) => write_str(out, s),
            Coerced::Owned(s) => write_str(out, &s),
            Coerced::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Coerced::Int(n) => {
                let _ = serde_json::to_writer(&mut *out, &n);
            }
            Coerced::Strs(items) => {
                out.push(b'[');
                for (i, s) in items.iter().filter_map(Json::as_str).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, s);
                }
                out.push(b']');
            }
        }
    }

    /// Every `Prop` field of the record type, coerced, plus its portal link (`RecordType::copy_props`).
    pub fn props(&mut self, rt: &RecordType, obj: &Json) {
        for field in rt.fields {
            if let Source::Prop(prop) = field.source {
                self.kind(field.key, field.kind, obj.field(prop));
            }
        }
        if let (Some(template), Some(id)) = (rt.portal_url, obj.field("id").and_then(Json::as_str)) {
            let url = match template.split_once("{id}") {
                Some((head, tail)) => [head, id, tail].concat(),
                None => template.to_string(),
            };
            self.str(ITEM_URL_FIELD, Some(&url));
        }
    }

    /// Ends a live record: the deletion fields set to "live".
    pub fn live(mut self) -> Line {
        self.bool("deleted_in_source", false);
        self.null("deleted_reason");
        self.finish()
    }

    /// Ends a record of something gone from the source.
    pub fn deleted(mut self, reason: &str) -> Line {
        self.bool("deleted_in_source", true);
        self.str("deleted_reason", Some(reason));
        self.line.live = false;
        self.finish()
    }

    /// Ends the record with the fields written so far.
    pub fn finish(mut self) -> Line {
        self.line.json.extend_from_slice(b"}}");
        self.line
    }
}

/// A JSON string. Most texts need no escape (no control character, quote or backslash) and are copied as
/// they are; the rest go through serde_json. Writing to a `Vec` cannot fail.
fn write_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(out, s);
    }
}

fn write_value(out: &mut Vec<u8>, v: &impl serde::Serialize) {
    let _ = serde_json::to_writer(out, v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::record::assemble;
    use crate::graph::json::view;
    use serde_json::{json, Map, Value};

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").map(|t| t.with_timezone(&Utc)).unwrap_or_default()
    }

    #[test]
    fn a_written_line_is_the_record_envelope_would_build() {
        let obj = json!({"id": "u1", "displayName": "Ann \"A\" \u{e9}", "accountEnabled": false,
                         "createdDateTime": "2021-03-12T11:36:14+01:00", "userType": "Robot",
                         "businessPhones": ["1", 2, "3"]});
        let obj = view(&obj);
        let mut w = LineWriter::new("u1", None, at());
        w.kind("name", Kind::Text, obj.field("displayName"));
        w.kind("enabled", Kind::Bool, obj.field("accountEnabled"));
        w.kind("created", Kind::Timestamp, obj.field("createdDateTime"));
        w.kind("type", Kind::Enum { values: &["Member", "Guest"], open: true }, obj.field("userType"));
        w.kind("phones", Kind::TextList, obj.field("businessPhones"));
        w.kind("missing", Kind::Int, obj.field("nope"));
        w.strs("list", ["a", "b"]);
        let line = w.live();
        let mut data = Map::new();
        for (key, value) in [
            ("name", json!("Ann \"A\" \u{e9}")),
            ("enabled", json!(false)),
            ("created", json!("2021-03-12T10:36:14Z")),
            ("type", json!("unknownFutureValue")),
            ("phones", json!(["1", "3"])),
            ("missing", Value::Null),
            ("list", json!(["a", "b"])),
            ("deleted_in_source", json!(false)),
            ("deleted_reason", Value::Null),
        ] {
            data.insert(key.into(), value);
        }
        let (created, modified) = envelope_dates(None, at());
        assert_eq!(line.to_value(), assemble("u1", created, modified, data));
        assert_eq!((line.id.as_str(), line.live), ("u1", true));
        assert_eq!(line.modified_date, "2026-11-27T08:00:00.000Z");
    }

    #[test]
    fn texts_are_escaped_only_where_json_needs_it() {
        for text in ["plain", "caf\u{e9} \u{1F600}", "tab\there", "quote \" and \\ slash", "\u{1}\u{1f}", ""] {
            let mut out = Vec::new();
            write_str(&mut out, text);
            assert_eq!(serde_json::from_slice::<String>(&out).ok().as_deref(), Some(text));
            assert_eq!(out, serde_json::to_vec(text).unwrap_or_default(), "{text:?}");
        }
    }

    #[test]
    fn a_deletion_line_is_not_live() {
        let line = LineWriter::new("g1_u1", None, at()).deleted("changed");
        assert!(!line.live);
        assert_eq!(line.to_value()["data"], json!({"deleted_in_source": true, "deleted_reason": "changed"}));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "written twice")]
    fn a_key_written_twice_is_caught_in_tests() {
        let mut w = LineWriter::new("x", None, at());
        w.null("a");
        w.null("a");
    }
}
