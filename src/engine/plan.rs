//! The plan of a sync, before any data request: per record type available or skipped (a permission missing
//! from the token's `roles`, a licence from `subscribedSkus` or a `$top=1` probe); skipped types cost nothing.

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::airsync::state::{ConnectorState, Status};
use crate::extract::window::OVERLAP;
use crate::graph::{GraphClient, GraphError};
use crate::schema::{Licence, RecordType};

/// Permissions that let the worker read `subscribedSkus`.
pub const SKU_READ: &[&str] =
    &["Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
pub const SKUS_PATH: &str = "/v1.0/subscribedSkus?$select=skuId,skuPartNumber,capabilityStatus,servicePlans";
/// The application permissions the product documentation tells admins to grant, in its order.
pub const DOCUMENTED_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "Group.Read.All",
    "GroupMember.Read.All",
    "RoleManagement.Read.Directory",
    "Directory.Read.All",
    "Application.Read.All",
    "Device.Read.All",
    "OrgContact.Read.All",
    "UserAuthenticationMethod.Read.All",
    "Policy.Read.All",
    "Organization.Read.All",
    "AuditLog.Read.All",
    "RoleEligibilitySchedule.Read.Directory",
    "LifecycleWorkflows.Read.All",
];
const AUDIT_READ: &[&str] = &["AuditLog.Read.All"];
/// Record types read in time windows (their first window starts at the tenant's retention limit).
pub const WINDOW_TYPES: &[&str] = &["directory_audit_logs", "sign_in_logs"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    Permission,
    Licence,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypePlan {
    pub record_type: &'static str,
    /// None: available.
    pub skip: Option<SkipKind>,
    /// Why it is skipped and what to do (the exact permission to grant, or the licence needed).
    pub reason: Option<String>,
}

/// Where the tenant's licence was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceSource {
    SubscribedSkus,
    Probes,
    /// Not needed by any permitted record type, or nothing could tell.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Plan {
    /// Application permissions from the token's `roles` claim (None: the token could not be read).
    pub roles: Option<Vec<String>>,
    pub licence: Option<Licence>,
    pub licence_source: LicenceSource,
    pub types: Vec<TypePlan>,
}

/// The `roles` claim of a JWT access token; None when the token is not a readable JWT.
pub fn token_roles(token: &str) -> Option<Vec<String>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.as_object()?;
    Some(
        claims
            .get("roles")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
    )
}

/// Whether the roles (None = unknown, assumed granted) include one of `any_of` (empty = none needed).
pub fn has_any(roles: Option<&[String]>, any_of: &[&str]) -> bool {
    any_of.is_empty() || roles.is_none_or(|r| r.iter().any(|g| any_of.contains(&g.as_str())))
}

/// The permission to tell an admin to grant: the first of the list the product documentation names, else
/// the first of the list.
pub fn recommended(any_of: &[&str]) -> String {
    any_of
        .iter()
        .find(|p| DOCUMENTED_PERMISSIONS.contains(p))
        .or(any_of.first())
        .map_or(String::new(), |p| p.to_string())
}

fn permission_reason(any_of: &[&str], purpose: &str) -> String {
    let others: Vec<&str> = any_of.iter().copied().filter(|p| *p != recommended(any_of)).collect();
    let alternatives = match others.len() {
        0 => String::new(),
        1 => format!(" (or {})", others[0]),
        _ => format!(" (or one of {})", others.join(", ")),
    };
    format!(
        "Permission denied: grant the Microsoft Graph application permission {}{alternatives}{purpose} and admin consent",
        recommended(any_of)
    )
}

pub fn licence_name(l: Licence) -> &'static str {
    match l {
        Licence::Free => "Microsoft Entra ID Free",
        Licence::P1 => "Microsoft Entra ID P1",
        Licence::P2 => "Microsoft Entra ID P2",
        Licence::Governance => "Microsoft Entra ID Governance",
    }
}

/// The skip reason for a record type the tenant's licence does not cover (product documentation wording).
pub fn licence_reason(needed: Licence, have: Option<Licence>) -> String {
    let have = have.map_or(String::new(), |h| format!(" (the tenant has {})", licence_name(h)));
    match needed {
        Licence::P2 => format!("Not licensed: requires Azure AD Premium P2 license (Microsoft Entra ID P2) or Entra ID Governance{have}; this entity is skipped (expected behavior)"),
        Licence::Governance => format!("Not licensed: requires Entra ID Governance license{have}; this entity is skipped automatically"),
        _ => format!("Not licensed: requires Microsoft Entra ID P1 or P2{have}; this entity is skipped"),
    }
}

/// The highest Entra ID licence among the enabled SKUs' service plans.
pub fn licence_of_skus(skus: &[Value]) -> Licence {
    let mut best = Licence::Free;
    for sku in skus {
        let status = sku.get("capabilityStatus").and_then(Value::as_str).unwrap_or("Enabled");
        if !matches!(status, "Enabled" | "Warning") {
            continue;
        }
        let mut names: Vec<String> = Vec::new();
        if let Some(n) = sku.get("skuPartNumber").and_then(Value::as_str) {
            names.push(n.to_ascii_uppercase());
        }
        for plan in sku.get("servicePlans").and_then(Value::as_array).into_iter().flatten() {
            if plan.get("provisioningStatus").and_then(Value::as_str) == Some("Disabled") {
                continue;
            }
            if let Some(n) = plan.get("servicePlanName").and_then(Value::as_str) {
                names.push(n.to_ascii_uppercase());
            }
        }
        for n in names {
            let l = if n.contains("GOVERNANCE") || n.contains("ENTRA_SUITE") {
                Licence::Governance
            } else if n.contains("AAD_PREMIUM_P2") {
                Licence::P2
            } else if n.contains("AAD_PREMIUM") {
                Licence::P1
            } else {
                Licence::Free
            };
            best = best.max(l);
        }
    }
    best
}

/// The `$top=1` request that tells whether a licence-gated record type can be read.
pub fn probe_path(record_type: &str) -> Option<&'static str> {
    Some(match record_type {
        "user_registration_details" => "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=1",
        "conditional_access_policies" => "/v1.0/identity/conditionalAccess/policies?$top=1",
        "pim_eligible_roles" => "/v1.0/roleManagement/directory/roleEligibilitySchedules?$top=1",
        "lifecycle_workflows" => "/v1.0/identityGovernance/lifecycleWorkflows/workflows?$top=1",
        "sign_in_logs" => "/v1.0/auditLogs/signIns?$top=1",
        _ => return None,
    })
}

/// Extra permissions a record type needs in an incremental sync (finding the users whose methods changed).
fn incremental_needs(record_type: &str) -> Option<(&'static [&'static str], &'static str)> {
    match record_type {
        "authentication_methods" => Some((AUDIT_READ, " (incremental syncs find changed users in the audit log)")),
        _ => None,
    }
}

/// A note for a permitted record type whose incremental syncs need a permission the app lacks.
pub fn incremental_note(record_type: &str, roles: Option<&[String]>) -> Option<String> {
    let (extra, purpose) = incremental_needs(record_type)?;
    (!has_any(roles, extra)).then(|| permission_reason(extra, purpose))
}

/// How long the tenant keeps audit and sign-in logs.
pub fn retention(licence: Option<Licence>) -> Duration {
    match licence {
        Some(Licence::Free) => Duration::days(7),
        _ => Duration::days(30),
    }
}

/// Makes the plan. `state` tells which types continue incrementally (have a watermark). Sends at most one
/// `subscribedSkus` request, or one probe per permitted licence-gated type when SKUs cannot be read.
pub async fn make(
    graph: &GraphClient,
    types: &[&'static RecordType],
    state: &ConnectorState,
) -> Result<Plan, GraphError> {
    let token = graph.tokens().token().await?;
    let roles = token_roles(&token);
    let r = roles.as_deref();
    let mut plans: Vec<TypePlan> = types
        .iter()
        .map(|rt| {
            let incremental = state.types.get(rt.key).is_some_and(|s| s.watermark.is_some());
            let reason = if !has_any(r, rt.permissions) {
                Some(permission_reason(rt.permissions, ""))
            } else {
                match incremental_needs(rt.key) {
                    Some((extra, purpose)) if incremental && !has_any(r, extra) => {
                        Some(permission_reason(extra, purpose))
                    }
                    _ => None,
                }
            };
            TypePlan { record_type: rt.key, skip: reason.as_ref().map(|_| SkipKind::Permission), reason }
        })
        .collect();
    let permitted = |key: &str, plans: &[TypePlan]| plans.iter().any(|p| p.record_type == key && p.skip.is_none());
    let gated: Vec<&'static RecordType> =
        types.iter().copied().filter(|rt| rt.licence > Licence::Free && permitted(rt.key, &plans)).collect();
    let windows = WINDOW_TYPES.iter().any(|k| permitted(k, &plans));
    if gated.is_empty() && !windows {
        return Ok(Plan { roles, licence: None, licence_source: LicenceSource::Unknown, types: plans });
    }
    let (licence, source) = match read_skus(graph, r).await? {
        Some(l) => (Some(l), LicenceSource::SubscribedSkus),
        None => probe(graph, &gated, &mut plans).await?,
    };
    if source == LicenceSource::SubscribedSkus {
        for rt in &gated {
            if licence.is_some_and(|l| l < rt.licence) {
                if let Some(p) = plans.iter_mut().find(|p| p.record_type == rt.key) {
                    p.skip = Some(SkipKind::Licence);
                    p.reason = Some(licence_reason(rt.licence, licence));
                }
            }
        }
    }
    Ok(Plan { roles, licence, licence_source: source, types: plans })
}

/// The licence from `subscribedSkus`, or None when the app may not (or cannot) read it.
async fn read_skus(graph: &GraphClient, roles: Option<&[String]>) -> Result<Option<Licence>, GraphError> {
    if !has_any(roles, SKU_READ) {
        return Ok(None);
    }
    match graph.get_page(SKUS_PATH, false).await {
        Ok(page) => Ok(Some(licence_of_skus(&page.owned_items()))),
        Err(e @ GraphError::Auth(_)) => Err(e),
        Err(e) => {
            tracing::warn!(error = %e, "subscribedSkus could not be read; probing the licensed endpoints instead");
            Ok(None)
        }
    }
}

/// One `$top=1` probe per gated type; the licence is the highest one a probe proved (Free when a P1 probe
/// was refused for the licence and nothing else was proved).
async fn probe(
    graph: &GraphClient,
    gated: &[&'static RecordType],
    plans: &mut [TypePlan],
) -> Result<(Option<Licence>, LicenceSource), GraphError> {
    let mut proved: Option<Licence> = None;
    let mut refused_p1 = false;
    for rt in gated {
        let Some(path) = probe_path(rt.key) else { continue };
        let url = graph.resolve(path)?;
        let (skip, reason) = match graph.get_json(&url, false).await {
            Ok(_) => {
                proved = proved.max(Some(rt.licence));
                (None, None)
            }
            Err(GraphError::Licence { .. }) => {
                refused_p1 |= rt.licence == Licence::P1;
                (Some(SkipKind::Licence), Some(licence_reason(rt.licence, None)))
            }
            Err(GraphError::Permission { code, .. }) => {
                (Some(SkipKind::Permission), Some(format!("{} ({code})", permission_reason(rt.permissions, ""))))
            }
            Err(e @ GraphError::Auth(_)) => return Err(e),
            Err(e) => {
                tracing::warn!(record_type = rt.key, error = %e, "licence probe inconclusive; the record type will be tried");
                (None, None)
            }
        };
        if let Some(p) = plans.iter_mut().find(|p| p.record_type == rt.key) {
            p.skip = skip;
            p.reason = reason;
        }
    }
    let licence = proved.or(refused_p1.then_some(Licence::Free));
    Ok((licence, if licence.is_some() { LicenceSource::Probes } else { LicenceSource::Unknown }))
}

/// Applies a plan at the start of a sync: skipped types are marked (with a warning) and will cost nothing;
/// window types without a watermark start at the tenant's retention limit.
pub fn apply(plan: &Plan, state: &mut ConnectorState, sync_time: DateTime<Utc>) {
    for p in &plan.types {
        let st = state.types.entry(p.record_type.to_string()).or_default();
        if let (Some(_), Some(reason)) = (p.skip, &p.reason) {
            tracing::warn!(record_type = p.record_type, %reason, "record type skipped");
            st.status = Status::Skipped;
            st.reason = Some(reason.clone());
            st.next_link = None;
        } else if WINDOW_TYPES.contains(&p.record_type) && st.watermark.is_none() {
            st.watermark = Some(sync_time - retention(plan.licence) + OVERLAP);
        }
    }
}

/// Starts a sync: prepares the cursors (`start_sync`), makes the plan and applies it.
pub async fn start(
    graph: &GraphClient,
    state: &mut ConnectorState,
    extractors: &[Box<dyn crate::extract::Extractor>],
    mode: &str,
    now: DateTime<Utc>,
) -> Result<Plan, GraphError> {
    super::start_sync(state, extractors, mode, now);
    prepare(graph, state, extractors, now).await
}

/// Makes the plan for a started sync and applies it (skips, first windows).
pub async fn prepare(
    graph: &GraphClient,
    state: &mut ConnectorState,
    extractors: &[Box<dyn crate::extract::Extractor>],
    now: DateTime<Utc>,
) -> Result<Plan, GraphError> {
    let types: Vec<&'static RecordType> =
        extractors.iter().filter_map(|ex| crate::schema::record_type(ex.record_type())).collect();
    let plan = make(graph, &types, state).await?;
    tracing::info!(licence = ?plan.licence, source = ?plan.licence_source, "plan made");
    apply(&plan, state, now);
    Ok(plan)
}

/// A skip reason's kind, from its wording (plan and engine both start reasons this way).
pub fn skip_kind(reason: &str) -> Option<SkipKind> {
    let r = reason.to_ascii_lowercase();
    if r.starts_with("permission") {
        Some(SkipKind::Permission)
    } else if r.starts_with("not licensed") {
        Some(SkipKind::Licence)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skus_give_the_highest_licence() {
        let p1 = json!({"skuPartNumber": "ENTERPRISEPACK", "capabilityStatus": "Enabled",
                        "servicePlans": [{"servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success"}]});
        let p2 = json!({"skuPartNumber": "EMSPREMIUM", "capabilityStatus": "Enabled",
                        "servicePlans": [{"servicePlanName": "AAD_PREMIUM_P2", "provisioningStatus": "Success"}]});
        let gov = json!({"skuPartNumber": "Microsoft_Entra_ID_Governance", "capabilityStatus": "Enabled", "servicePlans": []});
        let suspended = json!({"skuPartNumber": "X", "capabilityStatus": "Suspended",
                               "servicePlans": [{"servicePlanName": "AAD_PREMIUM_P2"}]});
        assert_eq!(licence_of_skus(&[]), Licence::Free);
        assert_eq!(licence_of_skus(std::slice::from_ref(&p1)), Licence::P1);
        assert_eq!(licence_of_skus(&[p1, p2.clone()]), Licence::P2);
        assert_eq!(licence_of_skus(&[p2, gov]), Licence::Governance);
        assert_eq!(licence_of_skus(&[suspended]), Licence::Free);
    }

    #[test]
    fn roles_come_from_the_token_and_reasons_name_the_permission() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"roles":["User.Read.All"]}"#);
        assert_eq!(token_roles(&format!("h.{payload}.s")), Some(vec!["User.Read.All".to_string()]));
        let none = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"aud":"x"}"#);
        assert_eq!(token_roles(&format!("h.{none}.s")), Some(vec![]));
        assert_eq!(token_roles("opaque"), None);
        assert!(has_any(None, &["X"]));
        assert!(!has_any(Some(&[]), &["X"]));
        assert_eq!(recommended(&["Policy.Read.AuthenticationMethod", "Policy.Read.All"]), "Policy.Read.All");
        let reason =
            permission_reason(&["RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory"], "");
        assert!(reason.starts_with("Permission denied: grant the Microsoft Graph application permission RoleEligibilitySchedule.Read.Directory (or RoleManagement.Read.Directory)"), "{reason}");
        assert_eq!(skip_kind(&reason), Some(SkipKind::Permission));
        assert_eq!(skip_kind(&licence_reason(Licence::P2, Some(Licence::Free))), Some(SkipKind::Licence));
        assert!(licence_reason(Licence::P2, None).contains("Premium P2"));
        assert_eq!(retention(Some(Licence::Free)), Duration::days(7));
        assert_eq!(retention(Some(Licence::P1)), Duration::days(30));
    }
}
