//! Identity platform: `POST /{tenant}/oauth2/v2.0/token` (client credentials) with AADSTS errors,
//! and the JWT-shaped bearer tokens it issues (MAC-signed; carry tid, appid, roles, exp).

use super::errors::aad_error;
use super::http::{json_response, Ctx, Resp};
use super::state::Shared;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const TOKEN_LIFETIME: i64 = 3599;

/// Every application permission the default app is granted.
pub const ALL_ROLES: [&str; 14] = [
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

/// The claims of an access token issued by the simulator.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: String,
    pub appid: String,
    pub roles: Vec<String>,
    pub oid: String,
    pub idtyp: String,
    pub ver: String,
    pub uti: String,
}

impl Claims {
    pub fn has_any(&self, roles: &[&str]) -> bool {
        self.roles.iter().any(|r| roles.contains(&r.as_str()))
    }
}

const JWT_HEADER: &str = r#"{"typ":"JWT","alg":"HS256","kid":"graph-sim"}"#;

pub fn mint(sh: &Shared, claims: &Claims) -> String {
    let head = URL_SAFE_NO_PAD.encode(JWT_HEADER);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{head}.{body}");
    let sig = URL_SAFE_NO_PAD.encode(sh.sealer.mac(signed.as_bytes()));
    format!("{signed}.{sig}")
}

/// Why a bearer token was refused (the Graph 401 message).
pub fn verify(sh: &Shared, token: &str) -> Result<Claims, &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("CompactToken parsing failed with error code: 80049217");
    }
    let sig = URL_SAFE_NO_PAD.decode(parts[2]).map_err(|_| "CompactToken parsing failed with error code: 80049217")?;
    let signed = format!("{}.{}", parts[0], parts[1]);
    if sig != sh.sealer.mac(signed.as_bytes()) {
        return Err("Access token validation failure. Invalid signature.");
    }
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).map_err(|_| "Access token validation failure.")?;
    let c: Claims = serde_json::from_slice(&payload).map_err(|_| "Access token validation failure.")?;
    let now = sh.now();
    if c.exp < now || c.nbf > now + 300 {
        return Err("Access token has expired or is not yet valid.");
    }
    if c.tid != sh.tenant_id {
        return Err("Access token validation failure. Invalid audience.");
    }
    Ok(c)
}

/// The AADSTS error for a tenant segment that is neither the tenant id nor its domain (None when it is one).
pub fn unknown_tenant(sh: &Shared, ctx: &Ctx, tenant: &str) -> Option<Resp> {
    if tenant.eq_ignore_ascii_case(&sh.tenant_id) || tenant.eq_ignore_ascii_case(&sh.domain) {
        return None;
    }
    let plausible = tenant.len() <= 256
        && !tenant.is_empty()
        && tenant.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !plausible || (!tenant.contains('.') && super::gen::parse_guid(tenant).is_none()) {
        return Some(aad_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900023,
            &format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
            ),
        ));
    }
    Some(aad_error(
        ctx,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90002,
        &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
    ))
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub fn token_endpoint(sh: &Shared, ctx: &Ctx, tenant: &str, authorization: Option<&str>, body: &[u8]) -> Resp {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let bad = |status, error, code, msg: String| aad_error(ctx, status, error, code, &msg);

    if let Some(r) = unknown_tenant(sh, ctx, tenant) {
        return r;
    }

    // HTTP Basic credentials (RFC 6749 §2.3.1: form-urlencoded id and secret).
    let mut basic: Option<(String, String)> = None;
    if let Some(h) = authorization {
        if let Some(b64) = h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic ")) {
            let decoded = STANDARD.decode(b64.trim()).ok().and_then(|v| String::from_utf8(v).ok());
            match decoded.as_deref().and_then(|s| s.split_once(':')) {
                Some((id, secret)) => {
                    let dec = |s: &str| {
                        url::form_urlencoded::parse(format!("x={s}").as_bytes())
                            .next()
                            .map(|(_, v)| v.into_owned())
                            .unwrap_or_default()
                    };
                    basic = Some((dec(id), dec(secret)));
                }
                None => {
                    return bad(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        7000216,
                        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.".into(),
                    )
                }
            }
        }
    }

    match get("grant_type").as_deref() {
        None => {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.".into(),
            )
        }
        Some("client_credentials") => {}
        Some(other) => {
            return bad(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{other}'."),
            )
        }
    }

    let client_id = get("client_id").or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let Some(client_id) = client_id else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        );
    };
    let app = sh.apps.read().ok().and_then(|a| a.get(&client_id).cloned());
    let Some(app) = app else {
        return bad(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
        );
    };

    let scope = get("scope").unwrap_or_default();
    if scope.trim() != GRAPH_SCOPE {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
        );
    }

    let secret = get("client_secret").or_else(|| basic.as_ref().map(|b| b.1.clone()));
    let Some(secret) = secret else {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        );
    };
    let matches: bool = subtle_eq(secret.as_bytes(), app.client_secret.as_bytes());
    if !matches {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
        );
    }
    if app.secret_expired {
        return bad(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000222,
            format!("The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."),
        );
    }

    let now = sh.now();
    let claims = Claims {
        aud: "https://graph.microsoft.com".into(),
        iss: format!("https://sts.windows.net/{}/", sh.tenant_id),
        iat: now,
        nbf: now,
        exp: now + TOKEN_LIFETIME,
        tid: sh.tenant_id.clone(),
        appid: client_id.clone(),
        roles: app.roles.clone(),
        oid: uuid::Uuid::new_v4().to_string(),
        idtyp: "app".into(),
        ver: "1.0".into(),
        uti: ctx.request_id.clone(),
    };
    let body = json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "ext_expires_in": TOKEN_LIFETIME,
        "access_token": mint(sh, &claims),
    });
    json_response(ctx, StatusCode::OK, &body, false, &[])
}

fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
