//! Identity-platform metadata MSAL reads before its first token: OpenID discovery (v2.0), the JWKS
//! document it names, and instance discovery (`/common/discovery/instance`), in Microsoft's shapes.

use super::errors::aad_error;
use super::http::{json_response, Ctx, Resp};
use super::state::Shared;
use super::token::unknown_tenant;
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

/// What the identity platform sends on its metadata documents (they change rarely).
const METADATA_CACHE: &str = "max-age=86400, private";

/// Tenant segments accepted besides the tenant id and domain (multi-tenant authorities).
const MULTI_TENANT: [&str; 2] = ["common", "organizations"];

/// A metadata route, or None when the path is not one. `host` is the authority (`host:port`) the
/// client reached, used in every URL the documents hand out.
pub fn route(sh: &Shared, ctx: &Ctx, method: &Method, segs: &[&str], query: Option<&str>, host: &str) -> Option<Resp> {
    let kind = match segs {
        [_, "v2.0", ".well-known", "openid-configuration"] => Kind::OpenId,
        [_, "discovery", "v2.0", "keys"] => Kind::Keys,
        ["common", "discovery", "instance"] => Kind::Instance,
        _ => return None,
    };
    if *method != Method::GET {
        return Some(aad_error(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            900561,
            &format!("The endpoint only accepts GET, OPTIONS requests. Received a {method} request."),
        ));
    }
    let tenant = segs.first().copied().unwrap_or_default();
    Some(match kind {
        Kind::Instance => instance_discovery(ctx, query, host),
        Kind::OpenId | Kind::Keys => {
            let multi = MULTI_TENANT.iter().any(|m| tenant.eq_ignore_ascii_case(m));
            if let Some(err) = (!multi).then(|| unknown_tenant(sh, ctx, tenant)).flatten() {
                return Some(err);
            }
            // A domain resolves to the tenant id, as the service does; `common` stays literal.
            let segment = if multi { tenant.to_ascii_lowercase() } else { sh.tenant_id.clone() };
            let body = match kind {
                Kind::OpenId => openid_configuration(sh, host, &segment),
                _ => json!({ "keys": [] }),
            };
            ok(ctx, &body)
        }
    })
}

enum Kind {
    OpenId,
    Keys,
    Instance,
}

fn ok(ctx: &Ctx, body: &Value) -> Resp {
    json_response(ctx, StatusCode::OK, body, false, &[("cache-control", METADATA_CACHE.to_string())])
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`: the tenant-specific v2.0 document.
fn openid_configuration(sh: &Shared, host: &str, segment: &str) -> Value {
    let base = format!("https://{host}/{segment}");
    json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("https://{host}/{}/v2.0", if segment == sh.tenant_id { segment } else { "{tenantid}" }),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("https://{host}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
            "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
            "c_hash", "email",
        ],
        "kerberos_endpoint": format!("{base}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    })
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`: the simulator is the one
/// known instance; an authorize URL on any other host is `invalid_instance` (AADSTS50049).
fn instance_discovery(ctx: &Ctx, query: Option<&str>, host: &str) -> Resp {
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let api_version = get("api-version").unwrap_or_else(|| "1.1".into());
    let Some(endpoint) = get("authorization_endpoint") else {
        return aad_error(
            ctx,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'authorization_endpoint'.",
        );
    };
    let parsed = url::Url::parse(&endpoint).ok();
    let endpoint_host = parsed.as_ref().map(authority_of);
    let tenant = parsed
        .as_ref()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next().map(str::to_string)))
        .filter(|t| !t.is_empty());
    let (Some(endpoint_host), Some(tenant)) = (endpoint_host, tenant) else {
        return invalid_instance(ctx);
    };
    if !is_sim_host(&endpoint_host, host) {
        return invalid_instance(ctx);
    }
    ok(
        ctx,
        &json!({
            "tenant_discovery_endpoint": format!("https://{endpoint_host}/{tenant}/v2.0/.well-known/openid-configuration"),
            "api-version": api_version,
            "metadata": [{
                "preferred_network": host,
                "preferred_cache": host,
                "aliases": aliases(host),
            }],
        }),
    )
}

fn invalid_instance(ctx: &Ctx) -> Resp {
    aad_error(ctx, StatusCode::BAD_REQUEST, "invalid_instance", 50049, "Unknown or invalid instance.")
}

/// `host[:port]` of a URL, lower case.
fn authority_of(u: &url::Url) -> String {
    let h = u.host_str().unwrap_or_default().to_ascii_lowercase();
    match u.port() {
        Some(p) => format!("{h}:{p}"),
        None => h,
    }
}

/// The names this server answers to: the reached host and its loopback twin (the certificate has both).
fn aliases(host: &str) -> Vec<String> {
    let port = host.rsplit_once(':').map(|(_, p)| p);
    let mut v = vec![host.to_string()];
    if let Some(p) = port {
        for name in ["127.0.0.1", "localhost"] {
            let alias = format!("{name}:{p}");
            if !v.contains(&alias) {
                v.push(alias);
            }
        }
    }
    v
}

fn is_sim_host(candidate: &str, host: &str) -> bool {
    aliases(host).iter().any(|a| a.eq_ignore_ascii_case(candidate))
}

/// The `Host` header when it is a plain `name[:port]`, else the simulator's own authority.
pub fn request_host(header: Option<&str>, fallback: &str) -> String {
    let plain = |h: &str| {
        !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    };
    match header.filter(|h| plain(h)) {
        Some(h) => h.to_ascii_lowercase(),
        None => fallback.trim_start_matches("https://").trim_end_matches('/').to_string(),
    }
}
