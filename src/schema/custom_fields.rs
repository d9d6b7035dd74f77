//! Custom fields on users: `onPremisesExtensionAttributes` 1–15 (`ext_attr_<n>`) and the directory
//! extensions discovered at run time (`ext_<appId>_<name>`), with their kinds, EDM fields and IDM mappings.

use serde_json::{json, Map, Value};

use super::{coerce, Kind};
use crate::graph::json::{to_owned, Field, Json};

/// Where a custom field's value sits on a Graph user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomSource {
    /// `onPremisesExtensionAttributes.extensionAttribute<n>`.
    OnPremises(u8),
    /// A directory extension property, e.g. `extension_4d405aa8baa04fb494d3e0571fd9fd71_skypeId`.
    Extension(String),
}

/// One custom field of the `users` record type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomField {
    /// The data key in `users` records (lower case, `[a-z0-9_]`).
    pub key: String,
    pub name: String,
    pub kind: Kind,
    pub source: CustomSource,
}

/// The 15 on-premises extension attributes (always present on users, even when empty).
pub fn on_premises_fields() -> Vec<CustomField> {
    (1..=15u8)
        .map(|n| CustomField {
            key: format!("ext_attr_{n}"),
            name: format!("Extension attribute {n}"),
            kind: Kind::Text,
            source: CustomSource::OnPremises(n),
        })
        .collect()
}

/// The data key of a directory extension: `extension_<appId>_<name>` → `ext_<appid>_<name>`, lower case,
/// anything outside `[a-z0-9_]` replaced by `_`.
pub fn extension_key(property: &str) -> String {
    let rest = property.strip_prefix("extension_").unwrap_or(property);
    let clean: String =
        rest.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    format!("ext_{clean}")
}

/// A discovered `extensionProperty` (Graph object) → a custom field, if it targets users and has a name.
pub fn from_extension_property(ep: &Value) -> Option<CustomField> {
    let name = ep.get("name").and_then(Value::as_str).filter(|n| !n.is_empty())?;
    let targets_users = match ep.get("targetObjects").and_then(Value::as_array) {
        Some(targets) => targets.iter().any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("User"))),
        None => false,
    };
    if !targets_users {
        return None;
    }
    let multi = ep.get("isMultiValued").and_then(Value::as_bool).unwrap_or(false);
    let kind = match (multi, ep.get("dataType").and_then(Value::as_str).unwrap_or("String")) {
        (true, _) => Kind::TextList,
        (false, "Boolean") => Kind::Bool,
        (false, "Integer") | (false, "LargeInteger") => Kind::Int,
        (false, "DateTime") => Kind::Timestamp,
        (false, _) => Kind::Text,
    };
    let short = name.rsplit_once('_').map_or(name, |(_, s)| s);
    let label = match ep.get("appDisplayName").and_then(Value::as_str).filter(|a| !a.is_empty()) {
        Some(app) => format!("{short} ({app})"),
        None => short.to_string(),
    };
    Some(CustomField { key: extension_key(name), name: label, kind, source: CustomSource::Extension(name.to_string()) })
}

/// Every custom field of users: the on-premises attributes, then the discovered extensions in name order,
/// without duplicate keys.
pub fn user_custom_fields(discovered: &[CustomField]) -> Vec<CustomField> {
    let mut all = on_premises_fields();
    let mut extensions: Vec<CustomField> = discovered.to_vec();
    extensions.sort_by(|a, b| a.key.cmp(&b.key));
    for f in extensions {
        if !all.iter().any(|e| e.key == f.key) {
            all.push(f);
        }
    }
    all
}

/// The Graph properties to add to the users `$select` for these fields.
pub fn select_properties(fields: &[CustomField]) -> Vec<String> {
    let mut props = vec!["onPremisesExtensionAttributes".to_string()];
    props.extend(fields.iter().filter_map(|f| match &f.source {
        CustomSource::Extension(name) => Some(name.clone()),
        CustomSource::OnPremises(_) => None,
    }));
    props
}

/// `extensionAttribute1` … `15`, without formatting the name for every user.
const ON_PREMISES_NAMES: [&str; 15] = [
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
];

/// The user's Graph value behind a custom field, as Graph returned it.
pub fn raw_value<'v, 'a>(field: &CustomField, user: &'v Json<'a>) -> Option<&'v Json<'a>> {
    match &field.source {
        CustomSource::OnPremises(n) => {
            user.field("onPremisesExtensionAttributes").and_then(|a| {
                match ON_PREMISES_NAMES.get(usize::from(*n).wrapping_sub(1)) {
                    Some(name) => a.field(name),
                    None => a.field(&format!("extensionAttribute{n}")),
                }
            })
        }
        CustomSource::Extension(name) => user.field(name),
    }
}

/// The field's value on a Graph user, coerced to its kind (missing → null; list items as text).
pub fn value_of(field: &CustomField, user: &Json) -> Value {
    match (field.kind, raw_value(field, user)) {
        (Kind::TextList, Some(Json::Array(items))) => Value::Array(
            items
                .iter()
                .filter(|i| !i.is_null())
                .map(|i| match i {
                    Json::Str(s) => Value::String(s.to_string()),
                    other => Value::String(to_owned(other).to_string()),
                })
                .collect(),
        ),
        (kind, raw) => coerce(kind, raw),
    }
}

/// The IDM `constructed_custom_fields` of the users → `devu` mapping.
pub fn idm_custom_fields(custom: &[CustomField]) -> Map<String, Value> {
    custom
        .iter()
        .map(|f| {
            (
                f.key.clone(),
                json!({"forward": true, "reverse": false, "primary_external_field": f.key,
                       "transformation_method_for_set": {"transformation_method": "use_directly"},
                       "custom_field": {"name": f.name, "is_read_only": true}}),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_properties_become_typed_fields() {
        let ep = json!({"name": "extension_4d405aa8baa04fb494d3e0571fd9fd71_skypeId", "dataType": "String",
                        "isMultiValued": false, "targetObjects": ["User"], "appDisplayName": "SampleApp"});
        let f = from_extension_property(&ep).unwrap();
        assert_eq!(f.key, "ext_4d405aa8baa04fb494d3e0571fd9fd71_skypeid");
        assert_eq!(f.name, "skypeId (SampleApp)");
        assert_eq!(f.kind, Kind::Text);
        let group_only = json!({"name": "extension_x_y", "dataType": "String", "targetObjects": ["Group"]});
        assert!(from_extension_property(&group_only).is_none());
        let multi =
            json!({"name": "extension_a_b", "dataType": "Integer", "isMultiValued": true, "targetObjects": ["user"]});
        assert_eq!(from_extension_property(&multi).unwrap().kind, Kind::TextList);
        let flag = json!({"name": "extension_a_c", "dataType": "Boolean", "targetObjects": ["User"]});
        assert_eq!(from_extension_property(&flag).unwrap().kind, Kind::Bool);
    }

    #[test]
    fn values_are_read_from_the_right_place() {
        let user = json!({"extension_a_b": [1, "x", null], "extension_a_c": false,
                          "onPremisesExtensionAttributes": {"extensionAttribute1": "CostCenter-4410", "extensionAttribute2": null}});
        let fields = user_custom_fields(&[
            from_extension_property(
                &json!({"name": "extension_a_b", "isMultiValued": true, "targetObjects": ["User"]}),
            )
            .unwrap(),
            from_extension_property(
                &json!({"name": "extension_a_c", "dataType": "Boolean", "targetObjects": ["User"]}),
            )
            .unwrap(),
        ]);
        assert_eq!(fields.len(), 17);
        let user = crate::graph::json::view(&user);
        let get = |k: &str| value_of(fields.iter().find(|f| f.key == k).unwrap(), &user);
        assert_eq!(get("ext_attr_1"), json!("CostCenter-4410"));
        assert_eq!(get("ext_attr_2"), Value::Null);
        assert_eq!(get("ext_attr_15"), Value::Null);
        assert_eq!(get("ext_a_b"), json!(["1", "x"]));
        assert_eq!(get("ext_a_c"), json!(false));
        let select = select_properties(&fields);
        assert_eq!(select, ["onPremisesExtensionAttributes", "extension_a_b", "extension_a_c"]);
    }
}
