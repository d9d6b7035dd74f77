//! Organizational contacts from `/contacts/delta`, with `email` only when `mail` is a real address (never
//! an `#EXT#` name, never an empty string).

use chrono::{DateTime, Utc};

use super::record::{deletion, live_writer, select_list, str_prop, time_of};
use super::{DeltaExtractor, ExtractCtx, Records};
use crate::airsync::line::Line;
use crate::graph::json::{Field, Json};
use crate::schema::{ORG_CONTACTS, ORG_CONTACTS_EXTRA_SELECT};

pub const ITEM: &str = "org_contacts";

pub fn extractor() -> DeltaExtractor {
    let select = select_list(ORG_CONTACTS_EXTRA_SELECT, &ORG_CONTACTS);
    DeltaExtractor { record_type: ITEM, initial_path: format!("/v1.0/contacts/delta?$select={select}"), normalize }
}

fn normalize(obj: &Json, ctx: &ExtractCtx) -> Records {
    contact_at(obj, ctx.sync_time).map(|r| (ITEM, r.into())).into_iter().collect()
}

/// The `mail` property when it is a real address.
pub fn email<'a>(obj: &'a Json) -> Option<&'a str> {
    str_prop(obj, "mail").map(str::trim).filter(|m| !m.contains("#EXT#") && m.contains('@'))
}

/// One contacts-delta entry → its record.
pub fn contact_at(obj: &Json, sync_time: DateTime<Utc>) -> Option<Line> {
    let id = str_prop(obj, "id")?;
    if let Some(removed) = obj.field("@removed") {
        return Some(deletion(id, removed, sync_time));
    }
    let mut w = live_writer(&ORG_CONTACTS, id, time_of(obj, "createdDateTime"), sync_time, obj);
    w.str("email", email(obj));
    Some(w.live())
}
