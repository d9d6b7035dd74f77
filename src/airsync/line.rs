//! A record on its way into an artifact: either a JSON value, or already written out as its JSON line (the
//! record types a tenant has millions of skip the intermediate value), with what the sink reads of it.

use serde_json::Value;

/// A record already written as its artifact line, with the envelope fields the sink needs beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub id: String,
    pub created_date: String,
    pub modified_date: String,
    /// `deleted_in_source` is not true (snapshot types track the ids of live records).
    pub live: bool,
    /// `{"created_date":…,"id":…,"modified_date":…,"data":{…}}`, without a newline.
    pub json: Vec<u8>,
}

impl Line {
    /// The record as a JSON value (for tests and anything that inspects records).
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// One normalized record, in either form.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Value(Value),
    Line(Line),
}

impl Record {
    /// The record as a JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            Record::Value(v) => v.clone(),
            Record::Line(line) => line.to_value(),
        }
    }

    /// The record as a JSON value, without a copy when it is one already.
    pub fn into_value(self) -> Value {
        match self {
            Record::Value(v) => v,
            Record::Line(line) => line.to_value(),
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Record::Value(v) => v.get("id").and_then(Value::as_str),
            Record::Line(line) => Some(&line.id),
        }
    }

    /// True unless the record says `deleted_in_source: true`.
    pub fn is_live(&self) -> bool {
        match self {
            Record::Value(v) => v.get("data").and_then(|d| d.get("deleted_in_source")) != Some(&Value::Bool(true)),
            Record::Line(line) => line.live,
        }
    }

    pub fn created_date(&self) -> Option<&str> {
        match self {
            Record::Value(v) => v.get("created_date").and_then(Value::as_str),
            Record::Line(line) => Some(&line.created_date),
        }
    }

    pub fn modified_date(&self) -> Option<&str> {
        match self {
            Record::Value(v) => v.get("modified_date").and_then(Value::as_str),
            Record::Line(line) => Some(&line.modified_date),
        }
    }
}

impl From<Value> for Record {
    fn from(v: Value) -> Record {
        Record::Value(v)
    }
}

impl From<Line> for Record {
    fn from(line: Line) -> Record {
        Record::Line(line)
    }
}
