//! Users from `/users/delta`: members and guests, with `@removed` entries sent as deletions
//! (`changed` = soft-deleted, `deleted` = hard-deleted), their licence assignments (`licences`), and their
//! custom fields (on-premises extension attributes, discovered directory extensions) sent as `ext_…` keys.

use chrono::{DateTime, Utc};

use super::licences::WithLicences;
use super::line::LineWriter;
use super::record::{removed_reason, time_of};
use super::{DeltaPages, ExtractCtx, ExtractError, Extractor, Records, Stop};
use crate::airsync::line::Line;
use crate::airsync::state::TypeState;
use crate::graph::json::{Field, Json};
use crate::schema::custom_fields::{raw_value, select_properties, value_of};
use crate::schema::{self, CustomField, Kind, RecordType};

fn users() -> &'static RecordType {
    &schema::USERS
}

/// The users delta; its `$select` (fixed when a round starts) includes the custom fields of the sync.
pub struct UsersExtractor;

pub fn extractor() -> UsersExtractor {
    UsersExtractor
}

impl UsersExtractor {
    /// The first request of a round, selecting the declared fields and the custom fields.
    pub fn initial_path(&self, custom: &[CustomField]) -> String {
        let mut select: Vec<String> = schema::users_extra_select().iter().map(|s| s.to_string()).collect();
        select.extend(users().graph_properties().iter().map(|s| s.to_string()));
        select.extend(select_properties(custom));
        select.sort();
        select.dedup();
        format!("/v1.0/users/delta?$select={}", select.join(","))
    }
}

#[async_trait::async_trait]
impl Extractor for UsersExtractor {
    fn record_type(&self) -> &'static str {
        "users"
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let delta = DeltaPages {
            record_type: "users",
            initial_path: self.initial_path(&ctx.custom_fields),
            pages: Box::new(WithLicences::new(normalize)),
            full_list: None,
        };
        delta.run(ctx, state).await
    }
}

/// The `mail` property, unless it is a guest's `#EXT#` address (never an email).
fn email<'a>(obj: &'a Json) -> Option<&'a str> {
    obj.field("mail").and_then(Json::as_str).filter(|m| !m.contains("#EXT#") && m.contains('@'))
}

/// One users-delta entry → its `users` record.
pub fn normalize(obj: &Json, ctx: &ExtractCtx) -> Records {
    normalize_at(obj, ctx.sync_time, &ctx.custom_fields).map(|r| ("users", r.into())).into_iter().collect()
}

/// One users-delta entry → its record (`@removed` → a deletion with its reason); `custom` are the users'
/// custom fields of this sync (`schema::custom_fields::user_custom_fields`).
pub fn normalize_at(obj: &Json, sync_time: DateTime<Utc>, custom: &[CustomField]) -> Option<Line> {
    let id = obj.field("id").and_then(Json::as_str)?;
    if let Some(removed) = obj.field("@removed") {
        return Some(LineWriter::new(id, None, sync_time).deleted(removed_reason(removed)));
    }
    let mut w = LineWriter::new(id, time_of(obj, "createdDateTime"), sync_time);
    w.props(users(), obj);
    w.str("email", email(obj));
    match obj.field("assignedLicenses").and_then(Json::as_array) {
        Some(list) => w.strs("assigned_sku_ids", list.iter().filter_map(|l| l.field("skuId")?.as_str())),
        None => w.null("assigned_sku_ids"),
    }
    for field in custom {
        match raw_value(field, obj) {
            // A list keeps its non-text items as text (`value_of`).
            Some(Json::Array(_)) if field.kind == Kind::TextList => w.value(&field.key, &value_of(field, obj)),
            raw => w.kind(&field.key, field.kind, raw),
        }
    }
    Some(w.live())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::view;
    use crate::schema::custom_fields::user_custom_fields;
    use serde_json::json;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T08:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn guest_ext_upn_is_never_an_email_and_false_stays_false() {
        let guest = json!({"id": "g1", "userPrincipalName": "kim_fabrikam.example#EXT#@contoso-sim.onmicrosoft.com",
                           "mail": null, "userType": "Guest", "accountEnabled": false, "createdDateTime": "2024-11-02T08:01:55Z"});
        let r = normalize_at(&view(&guest), at(), &[]).unwrap().to_value();
        assert_eq!(r["data"]["email"], serde_json::Value::Null);
        assert_eq!(r["data"]["account_enabled"], json!(false));
        assert_eq!(r["created_date"], "2024-11-02T08:01:55Z");
        assert_eq!(r["modified_date"], "2026-11-27T08:00:00.000Z");
        assert!(r["data"]["item_url_field"].as_str().unwrap().ends_with("/g1"));
    }

    #[test]
    fn removed_entries_become_deletions_with_reason() {
        let soft =
            normalize_at(&view(&json!({"id": "u1", "@removed": {"reason": "changed"}})), at(), &[]).unwrap().to_value();
        assert_eq!(soft["data"], json!({"deleted_in_source": true, "deleted_reason": "changed"}));
        let hard =
            normalize_at(&view(&json!({"id": "u2", "@removed": {"reason": "deleted"}})), at(), &[]).unwrap().to_value();
        assert_eq!(hard["data"]["deleted_reason"], "deleted");
        assert!(normalize_at(&view(&json!({"displayName": "no id"})), at(), &[]).is_none());
    }

    #[test]
    fn every_emitted_field_is_declared_and_every_declared_field_emitted() {
        let full = json!({"id": "u3", "displayName": "A", "mail": "a@contoso-sim.example", "assignedLicenses": [{"skuId": "s1"}],
                          "createdDateTime": "2021-03-12T10:36:14Z"});
        let ext = schema::custom_fields::from_extension_property(
            &json!({"name": "extension_abc_skypeId", "dataType": "String", "targetObjects": ["User"]}),
        )
        .unwrap();
        let custom = user_custom_fields(std::slice::from_ref(&ext));
        let r = normalize_at(&view(&full), at(), &custom).unwrap().to_value();
        let emitted: Vec<&str> =
            r["data"].as_object().unwrap().keys().map(String::as_str).filter(|k| *k != "item_url_field").collect();
        let mut declared: Vec<&str> = users().all_fields().map(|f| f.key).collect();
        declared.extend(custom.iter().map(|f| f.key.as_str()));
        for k in &emitted {
            assert!(declared.contains(k), "{k} emitted but not declared");
        }
        for k in &declared {
            assert!(emitted.contains(k), "{k} declared but not emitted");
        }
        assert_eq!(r["data"]["assigned_sku_ids"], json!(["s1"]));
        assert_eq!(r["data"]["email"], "a@contoso-sim.example");
    }

    #[test]
    fn the_delta_selects_licences_and_extension_attributes() {
        let ext = schema::custom_fields::from_extension_property(
            &json!({"name": "extension_abc_skypeId", "dataType": "String", "targetObjects": ["User"]}),
        )
        .unwrap();
        let path = extractor().initial_path(&[ext]);
        assert!(path.contains("assignedLicenses"));
        assert!(path.contains("onPremisesExtensionAttributes"));
        assert!(path.contains("extension_abc_skypeId"));
        assert!(path.starts_with("/v1.0/users/delta?$select="));
    }
}
