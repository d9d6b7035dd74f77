//! An artifact line digested for the loader: what applying it will do (a special item type's value, an
//! upsert, a soft deletion, a relation removal, a rejection), its record already in compact form.

use serde_json::{Map, Value};

use super::record::{Compact, Shapes};

/// Item types whose lines are not normalized records.
pub fn is_special_item_type(item_type: &str) -> bool {
    matches!(item_type, "external_domain_metadata" | "external_sync_units" | "attachments" | "ssor_attachment")
}

/// One line, ready for [`super::RecordStore::apply`].
#[derive(Debug, Clone)]
pub enum Line {
    /// A line of a special item type, whole.
    Special(Value),
    /// A record line without a string id.
    NoId,
    /// `remove_member_ids` lists an id: the relation record goes.
    Remove { id: Box<str> },
    /// `data.deleted_in_source` is true: a soft deletion (merged into the record the store holds).
    Delete { id: Box<str>, record: Compact },
    /// Any other record line: created or replaced.
    Upsert { id: Box<str>, record: Compact },
}

fn remove_member_ids(line: &Value) -> Option<&Vec<Value>> {
    line.get("remove_member_ids")
        .and_then(Value::as_array)
        .or_else(|| line.get("data").and_then(|d| d.get("remove_member_ids")).and_then(Value::as_array))
}

/// Digest one line of an artifact of `item_type`.
pub fn digest(item_type: &str, line: Value, shapes: &mut Shapes) -> Line {
    if is_special_item_type(item_type) {
        return Line::Special(line);
    }
    let Some(id) = line.get("id").and_then(Value::as_str).map(Box::from) else {
        return Line::NoId;
    };
    if remove_member_ids(&line).is_some_and(|members| !members.is_empty()) {
        return Line::Remove { id };
    }
    let field = |k: &str| line.get(k).unwrap_or(&Value::Null);
    let empty = Value::Object(Map::new());
    let data = line.get("data").unwrap_or(&empty);
    let record = shapes.encode(field("created_date"), field("modified_date"), data);
    if data.get("deleted_in_source") == Some(&Value::Bool(true)) {
        Line::Delete { id, record }
    } else {
        Line::Upsert { id, record }
    }
}
