//! Error bodies: Graph's `{"error":{code,message,innerError}}` and the identity platform's
//! AADSTS shape (`error`, `error_description` with Trace/Correlation/Timestamp, `error_codes`, …).

use super::http::{json_response, Ctx, Resp};
use hyper::StatusCode;
use serde_json::json;

/// A Graph error response with the standard innerError block and headers.
pub fn graph_error(ctx: &Ctx, status: StatusCode, code: &str, message: &str) -> Resp {
    graph_error_with(ctx, status, code, message, &[])
}

pub fn graph_error_with(ctx: &Ctx, status: StatusCode, code: &str, message: &str, extra: &[(&str, String)]) -> Resp {
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": Ctx::date(),
                "request-id": ctx.request_id,
                "client-request-id": ctx.client_request_id,
            }
        }
    });
    json_response(ctx, status, &body, true, extra)
}

pub fn not_found(ctx: &Ctx, what: &str) -> Resp {
    graph_error(
        ctx,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!("Resource '{what}' does not exist or one of its queried reference-property objects are not present."),
    )
}

pub fn bad_request(ctx: &Ctx, code: &str, message: &str) -> Resp {
    graph_error(ctx, StatusCode::BAD_REQUEST, code, message)
}

pub const WWW_AUTHENTICATE: &str = r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#;

pub fn unauthenticated(ctx: &Ctx, message: &str) -> Resp {
    graph_error_with(
        ctx,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
        &[("www-authenticate", WWW_AUTHENTICATE.to_string())],
    )
}

pub fn forbidden(ctx: &Ctx) -> Resp {
    graph_error(
        ctx,
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

/// Which endpoint-specific 403 body a family of endpoints answers when a permission is missing (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeniedKind {
    /// Users, groups, apps, SKUs, extension properties: `Authorization_RequestDenied`.
    Directory,
    /// Audit logs, sign-ins, reports: `Authentication_MSGraphPermissionMissing`.
    Reports,
    /// Conditional access: `AccessDenied`.
    ConditionalAccess,
    /// Authentication methods (and their policy): `accessDenied`.
    AuthMethods,
    /// PIM: `UnknownError` whose message is a JSON string (`PermissionScopeNotGranted`).
    Pim,
}

/// The 403 for an app whose token lacks every one of `needed` (the first is named in messages).
pub fn permission_denied(ctx: &Ctx, kind: DeniedKind, needed: &[&str]) -> Resp {
    let first = needed.first().copied().unwrap_or("Directory.Read.All");
    let (code, message) = match kind {
        DeniedKind::Directory => {
            ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.".to_string())
        }
        DeniedKind::Reports => (
            "Authentication_MSGraphPermissionMissing",
            format!("Calling principal does not have required MSGraph permissions {first}"),
        ),
        DeniedKind::ConditionalAccess => (
            "AccessDenied",
            "You cannot perform the requested operation, required scopes are missing in the token.".into(),
        ),
        DeniedKind::AuthMethods => ("accessDenied", "Request Authorization failed".to_string()),
        DeniedKind::Pim => (
            "UnknownError",
            json!({
                "errorCode": "PermissionScopeNotGranted",
                "message": format!("Authorization failed due to missing permission scope {}.", needed.join(",")),
                "instanceAnnotations": [],
            })
            .to_string(),
        ),
    };
    graph_error(ctx, StatusCode::FORBIDDEN, code, &message)
}

/// Which licence error an endpoint answers on a tenant without the licence it needs (§6.2, §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LicenceDeniedKind {
    /// Sign-ins, `userRegistrationDetails`: 403 `Authentication_RequestFromNonPremiumTenantOrB2CTenant`.
    NonPremium,
    /// PIM: 400 `AadPremiumLicenseRequired`.
    PimPremium,
    /// Lifecycle workflows [assume]: 403 `NoLicense`.
    Governance,
    /// Conditional access read [assume]: 403 `AccessDenied`.
    ConditionalAccess,
}

pub fn licence_denied(ctx: &Ctx, kind: LicenceDeniedKind) -> Resp {
    let (status, code, message) = match kind {
        LicenceDeniedKind::NonPremium => (
            StatusCode::FORBIDDEN,
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Neither tenant is B2C or tenant doesn't have premium license",
        ),
        LicenceDeniedKind::PimPremium => (
            StatusCode::BAD_REQUEST,
            "AadPremiumLicenseRequired",
            "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
        ),
        LicenceDeniedKind::Governance => (
            StatusCode::FORBIDDEN,
            "NoLicense",
            "User is not authorized to perform the operation. Reason: Tenant does not meet license requirement!",
        ),
        LicenceDeniedKind::ConditionalAccess => (
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Tenant does not have a Microsoft Entra ID P1 or P2 license required for Conditional Access.",
        ),
    };
    graph_error(ctx, status, code, message)
}

/// An identity-platform (AADSTS) error. `message` is the text before `\r\nTrace ID:`, without the
/// `AADSTS{code}: ` prefix.
pub fn aad_error(ctx: &Ctx, status: StatusCode, error: &str, code: u32, message: &str) -> Resp {
    let now = chrono::Utc::now();
    let ts = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace = &ctx.request_id;
    let corr = &ctx.client_request_id;
    let body = json!({
        "error": error,
        "error_description": format!(
            "AADSTS{code}: {message}\r\nTrace ID: {trace}\r\nCorrelation ID: {corr}\r\nTimestamp: {ts}"
        ),
        "error_codes": [code],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
    });
    json_response(ctx, status, &body, false, &[])
}
