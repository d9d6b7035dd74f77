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
