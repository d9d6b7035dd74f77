//! The initial domain mapping (protocol §8.4), generated from the record type declarations: stock
//! targets map their stock fields, custom objects get a title; references stay references.

use serde_json::{json, Map, Value};

use super::custom_fields::{idm_custom_fields, user_custom_fields, CustomField};
use super::{record_types, Target};

fn direct(field: &str) -> Value {
    json!({"forward": true, "reverse": false, "primary_external_field": field,
           "transformation_method_for_set": {"transformation_method": "use_directly"}})
}

/// The mapping installed on the first stateful event of a snap-in version; the users → `devu` mapping
/// carries the custom fields (on-premises attributes and the directory extensions known at install time).
pub fn initial_domain_mapping(discovered: &[CustomField]) -> Value {
    let mut mappings = Map::new();
    for rt in record_types() {
        let (category, object_type, stock) = match rt.target {
            Target::Stock { object_type, fields } => {
                let stock: Map<String, Value> =
                    fields.iter().map(|(devrev, ours)| (devrev.to_string(), direct(ours))).collect();
                ("stock", object_type.to_string(), stock)
            }
            Target::Custom { title_field } => {
                let mut stock = Map::new();
                stock.insert("title".into(), direct(title_field));
                ("custom", rt.key.to_string(), stock)
            }
        };
        let leaf = json!({"object_category": category, "object_type": object_type});
        let custom = match rt.key {
            "users" => idm_custom_fields(&user_custom_fields(discovered)),
            _ => Map::new(),
        };
        mappings.insert(
            rt.key.to_string(),
            json!({
                "default_mapping": leaf,
                "possible_record_type_mappings": [{
                    "devrev_leaf_type": object_type, "forward": true, "reverse": false,
                    "shard": {"mode": "create_shard", "devrev_leaf_type": leaf,
                              "stock_field_mappings": stock, "constructed_custom_fields": custom}
                }]
            }),
        );
    }
    json!({"additional_mappings": {"record_type_mappings": mappings, "format_version": "v0.2.0"}})
}
