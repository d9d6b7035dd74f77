//! One record of the emulated DevRev view, kept compact: its dates and data values as one JSON array text,
//! the data's keys shared between records of one shape; decoded to a [`StoredRecord`] when read.

use std::fmt::Write;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

/// One record as DevRev would hold it after import (the decoded view).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord {
    pub id: String,
    pub created_date: Value,
    pub modified_date: Value,
    pub data: Value,
}

/// The data's keys, in order, shared by the records that have exactly these keys.
type Shape = Arc<[Box<str>]>;

/// A record without its id. `text` is the JSON array `[created, modified, v1, …, vn]` with the data's
/// values in the order of `shape`; without a shape the data was not an object and is the third item.
#[derive(Debug, Clone)]
pub struct Compact {
    shape: Option<Shape>,
    text: Box<str>,
}

/// Shapes met so far by one encoder (few per record type, so a short list compared key by key).
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    known: Vec<Shape>,
}

/// Shapes an encoder remembers; beyond, a new shape is still used but not shared.
const MAX_SHAPES: usize = 64;

impl Shapes {
    fn shape_of(&mut self, data: &Map<String, Value>) -> Shape {
        let same = |s: &&Shape| s.len() == data.len() && s.iter().map(|k| &**k).eq(data.keys().map(String::as_str));
        if let Some(known) = self.known.iter().find(same) {
            return known.clone();
        }
        let shape: Shape = data.keys().map(|k| Box::from(k.as_str())).collect();
        if self.known.len() < MAX_SHAPES {
            self.known.push(shape.clone());
        }
        shape
    }

    /// Encode a record's dates and data.
    pub fn encode(&mut self, created: &Value, modified: &Value, data: &Value) -> Compact {
        let mut text = String::with_capacity(256);
        // Writing into a String cannot fail.
        let _ = write!(text, "[{created},{modified}");
        let shape = match data {
            Value::Object(map) => {
                for v in map.values() {
                    let _ = write!(text, ",{v}");
                }
                Some(self.shape_of(map))
            }
            other => {
                let _ = write!(text, ",{other}");
                None
            }
        };
        text.push(']');
        Compact { shape, text: text.into_boxed_str() }
    }
}

impl Compact {
    /// (created, modified, data).
    pub fn parts(&self) -> (Value, Value, Value) {
        // The text was written from values by `encode`, so it parses back to the same array.
        let items: Vec<Value> = serde_json::from_str(&self.text).unwrap_or_default();
        let mut items = items.into_iter();
        let created = items.next().unwrap_or(Value::Null);
        let modified = items.next().unwrap_or(Value::Null);
        let data = match &self.shape {
            Some(keys) => Value::Object(keys.iter().map(|k| k.to_string()).zip(items).collect()),
            None => items.next().unwrap_or(Value::Null),
        };
        (created, modified, data)
    }

    /// The record, with its id.
    pub fn decode(&self, id: &str) -> StoredRecord {
        let (created_date, modified_date, data) = self.parts();
        StoredRecord { id: id.to_string(), created_date, modified_date, data }
    }

    /// Whether both hold equal values (the same text, or texts that decode to equal values).
    pub fn same_as(&self, other: &Compact) -> bool {
        let same_shape = match (&self.shape, &other.shape) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        };
        (same_shape && self.text == other.text) || self.parts() == other.parts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_and_shares_shapes() {
        let mut shapes = Shapes::default();
        let data = json!({"b": [1, {"x": null}], "a": "é\"q", "c": 1.5});
        let c = shapes.encode(&json!("2024-01-01T00:00:00Z"), &Value::Null, &data);
        assert_eq!(
            c.decode("r1"),
            StoredRecord {
                id: "r1".into(),
                created_date: json!("2024-01-01T00:00:00Z"),
                modified_date: Value::Null,
                data: data.clone()
            }
        );
        let d = shapes.encode(&json!(1), &json!(2), &json!({"a": 0, "b": 0, "c": 0}));
        assert!(Arc::ptr_eq(c.shape.as_ref().unwrap(), d.shape.as_ref().unwrap()));
        assert_eq!(shapes.known.len(), 1);
        let odd = shapes.encode(&json!(1), &json!(2), &json!([1, 2]));
        assert_eq!(odd.parts(), (json!(1), json!(2), json!([1, 2])));
    }

    #[test]
    fn equality_is_value_equality() {
        let mut a = Shapes::default();
        let mut b = Shapes::default();
        let x = a.encode(&json!(1), &json!(2), &json!({"k": 0.0}));
        assert!(x.same_as(&b.encode(&json!(1), &json!(2), &json!({"k": 0.0}))));
        assert!(x.same_as(&b.encode(&json!(1), &json!(2), &json!({"k": -0.0}))), "equal as values");
        assert!(!x.same_as(&b.encode(&json!(1), &json!(2), &json!({"k": 0}))), "0 and 0.0 differ as values");
        assert!(!x.same_as(&b.encode(&json!(1), &json!(2), &json!({"j": 0.0}))));
        assert!(!x.same_as(&b.encode(&json!(1), &json!(3), &json!({"k": 0.0}))));
    }
}
