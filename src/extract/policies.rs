//! Snapshot policy types: the authentication methods policy (a singleton GET), Conditional Access policies
//! and PIM eligibility schedules (paged full reads), with their normalizers.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::fullread::FullReadExtractor;
use super::norm::{at, id_of, json_text, kind_at, list_at, live, parse_ts, record};
use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::TypeState;
use crate::graph::json::{view, Field, Json};
use crate::schema::{self, Kind, RecordType};

pub const AUTH_METHODS_POLICY_PATH: &str = "/v1.0/policies/authenticationMethodsPolicy";
pub const CONDITIONAL_ACCESS_PATH: &str = "/v1.0/identity/conditionalAccess/policies";
pub const PIM_PATH: &str = "/v1.0/roleManagement/directory/roleEligibilitySchedules";

fn campaign_state() -> Kind {
    schema::AUTHENTICATION_METHODS_POLICY
        .fields
        .iter()
        .find(|f| f.key == "registration_campaign_state")
        .map_or(Kind::Text, |f| f.kind)
}

/// The authentication methods policy object → its one record (id `authenticationMethodsPolicy`).
pub fn normalize_auth_methods_policy(obj: &Json, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::AUTHENTICATION_METHODS_POLICY;
    let id = id_of(obj).unwrap_or("authenticationMethodsPolicy");
    let mut data = rt.copy_props(obj);
    let campaign = "/registrationEnforcement/authenticationMethodsRegistrationCampaign";
    data.insert("registration_campaign_state".into(), kind_at(obj, &format!("{campaign}/state"), campaign_state()));
    data.insert(
        "registration_snooze_days".into(),
        kind_at(obj, &format!("{campaign}/snoozeDurationInDays"), Kind::Int),
    );
    let targets = at(obj, &format!("{campaign}/includeTargets")).and_then(Json::as_array).map(|list| {
        list.iter()
            .map(|t| {
                let part = |k: &str| t.field(k).and_then(Json::as_str).unwrap_or("");
                Value::String(format!("{}:{}:{}", part("targetType"), part("id"), part("targetedAuthenticationMethod")))
            })
            .collect::<Vec<_>>()
    });
    data.insert("registration_include_targets".into(), targets.map_or(Value::Null, Value::Array));
    let configs: Vec<&Json> = obj
        .field("authenticationMethodConfigurations")
        .and_then(Json::as_array)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let ids_with = |state: &str| -> Value {
        Value::Array(
            configs
                .iter()
                .filter(|c| c.field("state").and_then(Json::as_str) == Some(state))
                .filter_map(|c| id_of(c).map(|s| Value::String(s.to_string())))
                .collect(),
        )
    };
    data.insert("enabled_methods".into(), ids_with("enabled"));
    data.insert("disabled_methods".into(), ids_with("disabled"));
    data.insert("method_configuration_count".into(), Value::from(configs.len() as u64));
    data.insert("method_configurations_json".into(), json_text(obj.field("authenticationMethodConfigurations")));
    live(&mut data);
    Some(record(id, None, sync_time, data))
}

/// A Conditional Access policy → its record.
pub fn normalize_conditional_access(obj: &Json, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::CONDITIONAL_ACCESS_POLICIES;
    let id = id_of(obj)?;
    let mut data = rt.copy_props(obj);
    for (key, _, pointer) in schema::CA_LIST_FIELDS {
        data.insert((*key).to_string(), list_at(obj, pointer));
    }
    let operator = Kind::Enum { values: &["AND", "OR"], open: true };
    data.insert("grant_operator".into(), kind_at(obj, "/grantControls/operator", operator));
    data.insert(
        "grant_authentication_strength".into(),
        kind_at(obj, "/grantControls/authenticationStrength/displayName", Kind::Text),
    );
    data.insert("sign_in_frequency_value".into(), kind_at(obj, "/sessionControls/signInFrequency/value", Kind::Int));
    data.insert("sign_in_frequency_type".into(), kind_at(obj, "/sessionControls/signInFrequency/type", Kind::Text));
    data.insert("persistent_browser_mode".into(), kind_at(obj, "/sessionControls/persistentBrowser/mode", Kind::Text));
    data.insert("conditions_json".into(), json_text(obj.field("conditions")));
    data.insert("grant_controls_json".into(), json_text(obj.field("grantControls")));
    data.insert("session_controls_json".into(), json_text(obj.field("sessionControls")));
    live(&mut data);
    Some(record(id, parse_ts(obj.field("createdDateTime")), sync_time, data))
}

/// A PIM role eligibility schedule → its record (schedule dates read from `scheduleInfo`).
pub fn normalize_pim(obj: &Json, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::PIM_ELIGIBLE_ROLES;
    let id = id_of(obj)?;
    let mut data: Map<String, Value> = rt.copy_props(obj);
    let text = |p: &str| obj.field(p).and_then(Json::as_str).unwrap_or("?");
    data.insert(
        "display_name".into(),
        Value::String(format!("Role {} for {}", text("roleDefinitionId"), text("principalId"))),
    );
    data.insert("schedule_start".into(), kind_at(obj, "/scheduleInfo/startDateTime", Kind::Timestamp));
    data.insert("schedule_end".into(), kind_at(obj, "/scheduleInfo/expiration/endDateTime", Kind::Timestamp));
    let expiration = rt.fields.iter().find(|f| f.key == "expiration_type").map_or(Kind::Text, |f| f.kind);
    data.insert("expiration_type".into(), kind_at(obj, "/scheduleInfo/expiration/type", expiration));
    data.insert("expiration_duration".into(), kind_at(obj, "/scheduleInfo/expiration/duration", Kind::Text));
    live(&mut data);
    Some(record(id, parse_ts(obj.field("createdDateTime")), sync_time, data))
}

pub fn conditional_access() -> FullReadExtractor {
    FullReadExtractor {
        record_type: "conditional_access_policies",
        path: CONDITIONAL_ACCESS_PATH.to_string(),
        normalize: normalize_conditional_access,
        enrich: None,
    }
}

pub fn pim_eligible_roles() -> FullReadExtractor {
    FullReadExtractor {
        record_type: "pim_eligible_roles",
        path: PIM_PATH.to_string(),
        normalize: normalize_pim,
        enrich: None,
    }
}

/// The authentication methods policy: one GET of a singleton, one record.
pub struct AuthMethodsPolicyExtractor;

#[async_trait::async_trait]
impl Extractor for AuthMethodsPolicyExtractor {
    fn record_type(&self) -> &'static str {
        "authentication_methods_policy"
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        let url = ctx.graph.resolve(AUTH_METHODS_POLICY_PATH)?;
        let policy = tokio::select! {
            v = ctx.graph.get_json(&url, false) => v?,
            _ = ctx.stop.cancelled() => return Ok(Stop::Paused),
        };
        if let Some(record) = normalize_auth_methods_policy(&view(&policy), ctx.sync_time) {
            ctx.sink.push(self.record_type(), record).await?;
            state.items += 1;
        }
        Ok(Stop::Finished)
    }
}
