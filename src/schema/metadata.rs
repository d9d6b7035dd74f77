//! `external_domain_metadata` (schema v0.2.0, protocol §8.3), generated from the record type declarations.

use serde_json::{json, Map, Value};

use super::custom_fields::{user_custom_fields, CustomField};
use super::{record_types, Kind};

fn field_json(name: &str, kind: Kind) -> Value {
    match kind {
        Kind::Text => json!({"type": "text", "name": name}),
        Kind::Bool => json!({"type": "bool", "name": name}),
        Kind::Int => json!({"type": "int", "name": name}),
        Kind::Timestamp => json!({"type": "timestamp", "name": name}),
        Kind::Enum { values, .. } => json!({
            "type": "enum", "name": name,
            "enum": {"values": values.iter().map(|v| json!({"key": v, "name": v})).collect::<Vec<_>>()}
        }),
        Kind::Reference(target) => json!({
            "type": "reference", "name": name,
            "reference": {"refers_to": {format!("#record:{target}"): {}}}
        }),
        Kind::TextList => json!({"type": "text", "name": name, "collection": {}}),
    }
}

/// The metadata artifact's one line; `users` also gets its custom fields: the on-premises extension
/// attributes and the directory extensions discovered in the tenant (`discovered`).
pub fn external_domain_metadata(discovered: &[CustomField]) -> Value {
    let mut types = Map::new();
    for rt in record_types() {
        let mut fields: Map<String, Value> =
            rt.all_fields().map(|f| (f.key.to_string(), field_json(f.name, f.kind))).collect();
        if rt.key == "users" {
            for f in user_custom_fields(discovered) {
                fields.insert(f.key.clone(), field_json(&f.name, f.kind));
            }
        }
        let mut entry = json!({"name": rt.name, "description": rt.description, "fields": fields});
        if rt.is_snapshot {
            entry["is_snapshot"] = json!(true);
        }
        types.insert(rt.key.to_string(), entry);
    }
    json!({"schema_version": "v0.2.0", "record_types": types})
}
