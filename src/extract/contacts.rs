//! Organizational contacts from `/contacts/delta`, with `email` only when `mail` is a real address (never
//! an `#EXT#` name, never an empty string).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::record::{deletion, envelope, live_data, select_list, str_prop, time_of};
use super::{DeltaExtractor, ExtractCtx, Records};
use crate::schema::{ORG_CONTACTS, ORG_CONTACTS_EXTRA_SELECT};

pub const ITEM: &str = "org_contacts";

pub fn extractor() -> DeltaExtractor {
    let select = select_list(ORG_CONTACTS_EXTRA_SELECT, &ORG_CONTACTS);
    DeltaExtractor { record_type: ITEM, initial_path: format!("/v1.0/contacts/delta?$select={select}"), normalize }
}

fn normalize(obj: &Value, ctx: &ExtractCtx) -> Records {
    contact_at(obj, ctx.sync_time).map(|r| (ITEM, r.into())).into_iter().collect()
}

/// The `mail` property when it is a real address.
pub fn email(obj: &Value) -> Value {
    match str_prop(obj, "mail").map(str::trim) {
        Some(m) if !m.contains("#EXT#") && m.contains('@') => json!(m),
        _ => Value::Null,
    }
}

/// One contacts-delta entry → its record.
pub fn contact_at(obj: &Value, sync_time: DateTime<Utc>) -> Option<Value> {
    let id = str_prop(obj, "id")?;
    if let Some(removed) = obj.get("@removed") {
        return Some(deletion(id, removed, sync_time));
    }
    let mut data = live_data(&ORG_CONTACTS, obj);
    data.insert("email".into(), email(obj));
    Some(envelope(id, time_of(obj, "createdDateTime"), sync_time, data))
}
