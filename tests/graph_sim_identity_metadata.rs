//! What Microsoft's SDKs need from the simulator, over real TLS: MSAL's OpenID discovery, JWKS and
//! instance discovery documents, and Kiota's `delta()` function-call spelling (top level and in `$batch`).

#[path = "graph_sim_helpers.rs"]
mod helpers;

use helpers::*;
use serde_json::{json, Value};

async fn get_json(client: &reqwest::Client, url: &str, crid: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client.get(url);
    if let Some(c) = crid {
        req = req.header("client-request-id", c);
    }
    let r = req.send().await.expect("GET");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn aad(v: &Value, error: &str, code: u64) {
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"], json!([code]), "{v}");
    let desc = v["error_description"].as_str().expect("error_description");
    assert!(desc.starts_with(&format!("AADSTS{code}: ")), "{desc}");
}

#[tokio::test]
async fn openid_configuration_by_id_domain_and_common() {
    let (sim, client) = start(small(20)).await;
    let info = sim.info();
    let (a, tid) = (info.authority_host.clone(), info.tenant_id.clone());
    let host = a.trim_start_matches("https://").to_string();

    for tenant in [tid.clone(), sim.tenant_domain()] {
        let url = format!("{a}/{tenant}/v2.0/.well-known/openid-configuration");
        let (status, h, v) = get_json(&client, &url, Some("sdk-check-1")).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(h["client-request-id"], "sdk-check-1");
        assert_eq!(h["x-ms-request-id"].to_str().map(str::len).ok(), Some(36));
        assert!(h["content-type"].to_str().is_ok_and(|c| c.starts_with("application/json")));
        assert_eq!(h["cache-control"], "max-age=86400, private");
        // A domain resolves to the tenant id, as login.microsoftonline.com does.
        assert_eq!(v["token_endpoint"], format!("{a}/{tid}/oauth2/v2.0/token"));
        assert_eq!(v["authorization_endpoint"], format!("{a}/{tid}/oauth2/v2.0/authorize"));
        assert_eq!(v["device_authorization_endpoint"], format!("{a}/{tid}/oauth2/v2.0/devicecode"));
        assert_eq!(v["jwks_uri"], format!("{a}/{tid}/discovery/v2.0/keys"));
        assert_eq!(v["issuer"], format!("{a}/{tid}/v2.0"));
        assert_eq!(v["msgraph_host"], host);
        assert_eq!(v["tenant_region_scope"], "NA");
        let methods = v["token_endpoint_auth_methods_supported"].as_array().expect("methods");
        assert!(methods.contains(&json!("client_secret_post")) && methods.contains(&json!("client_secret_basic")));
        for k in ["response_modes_supported", "subject_types_supported", "scopes_supported", "claims_supported"] {
            assert!(v[k].as_array().is_some_and(|a| !a.is_empty()), "{k}");
        }
    }

    // The advertised token endpoint issues tokens (what MSAL does next).
    let (_, _, v) = get_json(&client, &format!("{a}/{tid}/v2.0/.well-known/openid-configuration"), None).await;
    let url = v["token_endpoint"].as_str().expect("token_endpoint");
    let r = client_credentials(&client, url, &info.client_id, &info.client_secret, GRAPH_SCOPE).await;
    assert_eq!(r.status(), 200);

    // The JWKS document it names exists (Graph tokens are not for clients to validate: no keys).
    let (status, _, keys) = get_json(&client, v["jwks_uri"].as_str().expect("jwks_uri"), None).await;
    assert_eq!((status, keys), (200, json!({"keys": []})));

    // Multi-tenant authorities keep their segment; the issuer is the documented template.
    let (status, _, v) = get_json(&client, &format!("{a}/common/v2.0/.well-known/openid-configuration"), None).await;
    assert_eq!(status, 200);
    assert_eq!(v["token_endpoint"], format!("{a}/common/oauth2/v2.0/token"));
    assert_eq!(v["issuer"], format!("{a}/{{tenantid}}/v2.0"));

    // The host the client reached is the one handed back (the certificate names localhost too).
    let port = host.rsplit_once(':').map(|(_, p)| p.to_string()).expect("port");
    let local = format!("https://localhost:{port}");
    let (_, _, v) = get_json(&client, &format!("{local}/{tid}/v2.0/.well-known/openid-configuration"), None).await;
    assert_eq!(v["token_endpoint"], format!("{local}/{tid}/oauth2/v2.0/token"));
}

#[tokio::test]
async fn openid_configuration_errors() {
    let (sim, client) = start(small(5)).await;
    let a = sim.info().authority_host;
    let unknown = "5f0c3a66-1c7b-4d0a-9a55-000000000001";
    let (status, h, v) =
        get_json(&client, &format!("{a}/{unknown}/v2.0/.well-known/openid-configuration"), Some("c-1")).await;
    assert_eq!(status, 400);
    assert_eq!(h["client-request-id"], "c-1");
    aad(&v, "invalid_tenant", 90002);
    let (status, _, v) =
        get_json(&client, &format!("{a}/not_a_tenant/v2.0/.well-known/openid-configuration"), None).await;
    assert_eq!(status, 400);
    aad(&v, "invalid_request", 900023);
    let (status, _, v) = get_json(&client, &format!("{a}/{unknown}/discovery/v2.0/keys"), None).await;
    assert_eq!(status, 400);
    aad(&v, "invalid_tenant", 90002);
    let tid = sim.info().tenant_id;
    let r = client.post(format!("{a}/{tid}/v2.0/.well-known/openid-configuration")).send().await.expect("POST");
    assert_eq!(r.status(), 405);
    aad(&r.json().await.expect("json"), "invalid_request", 900561);
}

#[tokio::test]
async fn instance_discovery_known_and_unknown_hosts() {
    let (sim, client) = start(small(5)).await;
    let info = sim.info();
    let (a, tid) = (info.authority_host.clone(), info.tenant_id.clone());
    let host = a.trim_start_matches("https://").to_string();
    let discover = |authorize: String| {
        let url = reqwest::Url::parse_with_params(
            &format!("{a}/common/discovery/instance"),
            &[("api-version", "1.1"), ("authorization_endpoint", authorize.as_str())],
        )
        .expect("url");
        url.to_string()
    };

    let (status, h, v) = get_json(&client, &discover(format!("{a}/{tid}/oauth2/v2.0/authorize")), Some("c-2")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(h["client-request-id"], "c-2");
    assert_eq!(v["tenant_discovery_endpoint"], format!("{a}/{tid}/v2.0/.well-known/openid-configuration"));
    assert_eq!(v["api-version"], "1.1");
    let meta = &v["metadata"][0];
    assert_eq!(meta["preferred_network"], host);
    assert_eq!(meta["preferred_cache"], host);
    assert!(meta["aliases"].as_array().is_some_and(|al| al.contains(&json!(host))));
    // The endpoint it names serves the document.
    let (status, _, _) = get_json(&client, v["tenant_discovery_endpoint"].as_str().expect("tde"), None).await;
    assert_eq!(status, 200);

    let (status, _, v) =
        get_json(&client, &discover(format!("https://login.example.org/{tid}/oauth2/v2.0/authorize")), None).await;
    assert_eq!(status, 400);
    aad(&v, "invalid_instance", 50049);
    let (status, _, v) = get_json(&client, &format!("{a}/common/discovery/instance?api-version=1.1"), None).await;
    assert_eq!(status, 400);
    aad(&v, "invalid_request", 900144);
}

#[tokio::test]
async fn delta_function_call_spelling() {
    let (sim, client) = start(small(30)).await;
    let tok = token(&client, &sim).await;
    let g = sim.info().graph_url;
    let (status, _, bare) = get(&client, &tok, &format!("{g}/v1.0/users/delta?$select=id")).await;
    assert_eq!(status, 200);
    for spelling in ["delta()", "microsoft.graph.delta()"] {
        let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/users/{spelling}?$select=id")).await;
        assert_eq!(status, 200, "{spelling}: {v}");
        assert_eq!(v["value"].as_array().map(Vec::len), bare["value"].as_array().map(Vec::len), "{spelling}");
        assert!(v.get("@odata.nextLink").is_some() || v.get("@odata.deltaLink").is_some(), "{v}");
    }
    let (status, _, v) = get(&client, &tok, &format!("{g}/v1.0/groups/delta()?$select=id")).await;
    assert_eq!(status, 200, "{v}");

    // The same spelling inside $batch (Kiota builds item URLs from the same templates).
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "/users/delta()?$select=id"}]});
    let r = client.post(format!("{g}/v1.0/$batch")).bearer_auth(&tok).json(&body).send().await.expect("batch");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["responses"][0]["status"], 200, "{v}");

    // A user id is still a user id: `()` alone is not stripped to an empty segment.
    let (status, _, _) = get(&client, &tok, &format!("{g}/v1.0/users/()")).await;
    assert_eq!(status, 404);
}
