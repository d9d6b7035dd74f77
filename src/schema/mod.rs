//! The single source of truth for record types: each is declared once (fields, types, Graph sources,
//! DevRev target). From it come the `external_domain_metadata`, the initial domain mapping and the
//! field-by-field part of every normalizer.

mod mapping;
mod metadata;
mod users;
// Directory record types (ex-directory).
mod apps;
mod contacts;
mod devices;
mod groups;
mod licences;
mod roles;
// Policies, reports, logs and custom fields (one block).
mod audit_logs;
mod auth_methods;
mod auth_methods_policy;
mod conditional_access;
pub mod custom_fields;
mod lifecycle_workflows;
mod pim;
mod registration_details;
mod sign_in_logs;

use serde_json::{Map, Value};

use crate::graph::json::{to_owned, Field as _, Json};

pub use mapping::initial_domain_mapping;
pub use metadata::external_domain_metadata;
pub use users::USERS;
// Directory record types (ex-directory).
pub use apps::{
    APPLICATIONS, APPLICATION_PORTAL_URL, APP_ROLES, APP_ROLE_ASSIGNMENTS, SERVICE_PRINCIPALS,
    SERVICE_PRINCIPALS_EXTRA_SELECT,
};
pub use contacts::{ORG_CONTACTS, ORG_CONTACTS_EXTRA_SELECT};
pub use devices::DEVICES;
pub use groups::{GROUPS, GROUPS_EXTRA_SELECT, GROUP_MEMBERS};
pub use licences::LICENSE_ASSIGNMENTS;
pub use roles::{DIRECTORY_ROLES, ROLE_MEMBERS};
// Policies, reports, logs (one block).
pub use audit_logs::DIRECTORY_AUDIT_LOGS;
pub use auth_methods::{AUTHENTICATION_METHODS, METHOD_TYPES, REGISTERED_METHODS};
pub use auth_methods_policy::AUTHENTICATION_METHODS_POLICY;
pub use conditional_access::{CONDITIONAL_ACCESS_POLICIES, LIST_FIELDS as CA_LIST_FIELDS};
pub use custom_fields::CustomField;
pub use lifecycle_workflows::LIFECYCLE_WORKFLOWS;
pub use pim::PIM_ELIGIBLE_ROLES;
pub use registration_details::USER_REGISTRATION_DETAILS;
pub use sign_in_logs::{NESTED_FIELDS as SIGN_IN_NESTED_FIELDS, SIGN_IN_LOGS};

/// The Graph properties the users delta selects beyond the copied fields (sources of derived fields).
pub fn users_extra_select() -> &'static [&'static str] {
    users::EXTRA_SELECT
}

/// A field's DevRev type (protocol §8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    Int,
    Timestamp,
    /// An enum; open enums (as Graph's are) send unknown values as `unknownFutureValue`.
    Enum {
        values: &'static [&'static str],
        open: bool,
    },
    /// A reference to another record type, sent as the target's id.
    Reference(&'static str),
    /// A list of texts.
    TextList,
}

/// Where a field's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A Graph property copied with type coercion (a value of the wrong type becomes null).
    Prop(&'static str),
    /// Computed by the record type's normalizer.
    Derived,
}

#[derive(Debug)]
pub struct Field {
    pub key: &'static str,
    pub name: &'static str,
    pub kind: Kind,
    pub source: Source,
}

/// The DevRev object a record type becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A stock DevRev type (`devu`, `revu`, `group`…) with stock fields mapped from ours.
    Stock { object_type: &'static str, fields: &'static [(&'static str, &'static str)] },
    /// A custom object titled by one of our fields.
    Custom { title_field: &'static str },
}

/// The Entra ID licence a record type needs (graph-api.md §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Licence {
    Free,
    P1,
    P2,
    /// Entra ID Governance (includes what P2 gives for these record types).
    Governance,
}

#[derive(Debug)]
pub struct RecordType {
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
    pub target: Target,
    /// Full snapshot each sync (no delta).
    pub is_snapshot: bool,
    /// Link to the object in the Entra portal, with `{id}` for its id.
    pub portal_url: Option<&'static str>,
    /// Application permissions of which any one lets the worker read this record type.
    pub permissions: &'static [&'static str],
    /// The licence the tenant needs for it.
    pub licence: Licence,
}

/// A field copied from the Graph property `p` (for the record type declarations).
pub(crate) const fn prop(key: &'static str, name: &'static str, kind: Kind, p: &'static str) -> Field {
    Field { key, name, kind, source: Source::Prop(p) }
}

/// A field the normalizer computes.
pub(crate) const fn derived(key: &'static str, name: &'static str, kind: Kind) -> Field {
    Field { key, name, kind, source: Source::Derived }
}

/// Fields every record type carries to mark deletions in the source.
pub const DELETION_FIELDS: [Field; 2] = [
    Field { key: "deleted_in_source", name: "Deleted in Entra ID", kind: Kind::Bool, source: Source::Derived },
    Field {
        key: "deleted_reason",
        name: "Deletion kind",
        kind: Kind::Enum { values: &["changed", "deleted"], open: false },
        source: Source::Derived,
    },
];

/// A data key every record may carry without declaring it: the link back to the source system.
pub const ITEM_URL_FIELD: &str = "item_url_field";

/// Every record type the connector extracts, in extraction order.
static RECORD_TYPES: &[&RecordType] = &[
    &USERS,
    // Directory record types (ex-directory).
    &GROUPS,
    &GROUP_MEMBERS,
    &DIRECTORY_ROLES,
    &ROLE_MEMBERS,
    &APPLICATIONS,
    &SERVICE_PRINCIPALS,
    &APP_ROLES,
    &APP_ROLE_ASSIGNMENTS,
    &DEVICES,
    &ORG_CONTACTS,
    &LICENSE_ASSIGNMENTS,
    // Policies, reports, logs (one block).
    &AUTHENTICATION_METHODS,
    &USER_REGISTRATION_DETAILS,
    &AUTHENTICATION_METHODS_POLICY,
    &CONDITIONAL_ACCESS_POLICIES,
    &PIM_ELIGIBLE_ROLES,
    &LIFECYCLE_WORKFLOWS,
    &DIRECTORY_AUDIT_LOGS,
    &SIGN_IN_LOGS,
];

pub fn record_types() -> &'static [&'static RecordType] {
    RECORD_TYPES
}

pub fn record_type(key: &str) -> Option<&'static RecordType> {
    record_types().iter().copied().find(|r| r.key == key)
}

impl RecordType {
    /// All declared fields, including the deletion fields (delta types mark deleted objects; snapshot types
    /// mark the records gone since the previous snapshot).
    pub fn all_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().chain(DELETION_FIELDS.iter())
    }

    /// The Graph properties the `Prop` fields read (for `$select`).
    pub fn graph_properties(&self) -> Vec<&'static str> {
        self.fields
            .iter()
            .filter_map(|f| match f.source {
                Source::Prop(p) => Some(p),
                Source::Derived => None,
            })
            .collect()
    }

    /// Copies every `Prop` field from a Graph object with type coercion; `Derived` fields are left to the
    /// caller. Missing values become null (never `""`, `-1` or other placeholders).
    pub fn copy_props(&self, obj: &Json) -> Map<String, Value> {
        let mut data = Map::new();
        for field in self.fields {
            if let Source::Prop(prop) = field.source {
                data.insert(field.key.to_string(), coerce(field.kind, obj.field(prop)));
            }
        }
        if let Some(template) = self.portal_url {
            if let Some(id) = obj.field("id").and_then(Json::as_str) {
                let url = match template.split_once("{id}") {
                    Some((head, tail)) => [head, id, tail].concat(),
                    None => template.to_string(),
                };
                data.insert(ITEM_URL_FIELD.into(), Value::String(url));
            }
        }
        data
    }
}

/// A Graph value coerced to a field kind, borrowing from the value where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Coerced<'a> {
    Null,
    Str(&'a str),
    /// A timestamp re-written to `YYYY-MM-DDTHH:MM:SSZ`.
    Owned(String),
    Bool(bool),
    Int(i64),
    /// A list: its string items (the others are dropped).
    Strs(&'a [Json<'a>]),
}

/// Coerces a Graph value to a field kind; a value of the wrong type becomes null rather than a lie.
pub fn coerced<'a>(kind: Kind, v: Option<&'a Json<'a>>) -> Coerced<'a> {
    let Some(v) = v else { return Coerced::Null };
    match kind {
        Kind::Text | Kind::Reference(_) => match v {
            Json::Str(s) => Coerced::Str(s),
            _ => Coerced::Null,
        },
        Kind::Timestamp => match v.as_str().map(|s| (s, chrono::DateTime::parse_from_rfc3339(s))) {
            // Already `YYYY-MM-DDTHH:MM:SSZ`, which is what formatting the parsed time would give back.
            Some((s, Ok(_))) if s.len() == 20 && s.as_bytes()[10] == b'T' && s.ends_with('Z') => Coerced::Str(s),
            Some((_, Ok(t))) => {
                Coerced::Owned(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            }
            _ => Coerced::Null,
        },
        Kind::Bool => match v {
            Json::Bool(b) => Coerced::Bool(*b),
            _ => Coerced::Null,
        },
        Kind::Int => match v.as_i64() {
            Some(n) => Coerced::Int(n),
            None => Coerced::Null,
        },
        Kind::Enum { values, open } => match v.as_str() {
            Some(s) if values.contains(&s) => Coerced::Str(s),
            Some(_) if open => Coerced::Str("unknownFutureValue"),
            _ => Coerced::Null,
        },
        Kind::TextList => match v {
            Json::Array(items) => Coerced::Strs(items),
            _ => Coerced::Null,
        },
    }
}

impl Coerced<'_> {
    pub fn into_value(self) -> Value {
        match self {
            Coerced::Null => Value::Null,
            Coerced::Str(s) => Value::String(s.to_string()),
            Coerced::Owned(s) => Value::String(s),
            Coerced::Bool(b) => Value::Bool(b),
            Coerced::Int(n) => Value::from(n),
            Coerced::Strs(items) => Value::Array(items.iter().filter(|i| i.is_string()).map(to_owned).collect()),
        }
    }
}

/// Coerces a Graph value to a field kind, as a JSON value.
pub fn coerce(kind: Kind, v: Option<&Json>) -> Value {
    coerced(kind, v).into_value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::view;
    use serde_json::json;

    #[test]
    fn coercion_keeps_false_and_zero_and_drops_wrong_types() {
        assert_eq!(coerce(Kind::Bool, Some(&view(&json!(false)))), json!(false));
        assert_eq!(coerce(Kind::Int, Some(&view(&json!(0)))), json!(0));
        assert_eq!(coerce(Kind::Bool, Some(&view(&json!("true")))), Value::Null);
        assert_eq!(coerce(Kind::Text, None), Value::Null);
        let open = Kind::Enum { values: &["Member", "Guest"], open: true };
        assert_eq!(coerce(open, Some(&view(&json!("agentUser")))), json!("unknownFutureValue"));
        assert_eq!(coerce(Kind::Timestamp, Some(&view(&json!("2021-03-12T10:36:14Z")))), json!("2021-03-12T10:36:14Z"));
        assert_eq!(coerce(Kind::Timestamp, Some(&view(&json!("yesterday")))), Value::Null);
        assert_eq!(coerce(Kind::Timestamp, Some(&view(&json!("2021-02-30T10:36:14Z")))), Value::Null);
        assert_eq!(coerce(Kind::Timestamp, Some(&view(&json!("2021-03-12t10:36:14z")))), json!("2021-03-12T10:36:14Z"));
        assert_eq!(
            coerce(Kind::Timestamp, Some(&view(&json!("2021-03-12T10:36:14.25Z")))),
            json!("2021-03-12T10:36:14Z")
        );
        assert_eq!(
            coerce(Kind::Timestamp, Some(&view(&json!("2021-03-12T11:36:14+01:00")))),
            json!("2021-03-12T10:36:14Z")
        );
    }

    #[test]
    fn field_keys_are_unique_and_not_reserved() {
        for rt in record_types() {
            let mut keys: Vec<_> = rt.all_fields().map(|f| f.key).collect();
            let n = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), n, "duplicate field in {}", rt.key);
            assert!(!keys.iter().any(|k| ["id", "created_date", "modified_date"].contains(k)));
        }
    }
}
