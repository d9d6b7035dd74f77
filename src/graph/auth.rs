//! The client-credentials token, through azure_identity's `ClientSecretCredential` pointed at
//! `ENTRA_AUTHORITY_HOST` and using our HTTP client (so `ENTRA_EXTRA_CA_PEM` is trusted). Tokens are cached
//! by the credential; failures become `AuthFailure`s that name the problem and never carry a secret.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, Transport};
use azure_identity::{ClientSecretCredential, ClientSecretCredentialOptions};

use super::error::{classify_token_error, AuthFailure, GraphError};

pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Produces bearer tokens for Graph.
/// Builds a credential afresh.
type Rebuild = dyn Fn() -> Result<Arc<dyn TokenCredential>, GraphError> + Send + Sync;

#[derive(Clone)]
pub struct TokenSource {
    credential: Arc<std::sync::RwLock<Arc<dyn TokenCredential>>>,
    /// Builds a fresh credential (with an empty token cache) when Graph refuses a cached token.
    rebuild: Option<Arc<Rebuild>>,
    secret: String,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSource")
    }
}

impl TokenSource {
    pub fn client_secret(
        authority_host: &str,
        http: reqwest::Client,
        tenant: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<TokenSource, GraphError> {
        let (authority, tenant, client_id, secret) = (
            authority_host.trim_end_matches('/').to_string(),
            tenant.trim().to_string(),
            client_id.to_string(),
            client_secret.to_string(),
        );
        let build = {
            let secret = secret.clone();
            move || -> Result<Arc<dyn TokenCredential>, GraphError> {
                let mut cloud = CustomConfiguration::default();
                cloud.authority_host = authority.clone();
                let client_options = ClientOptions {
                    transport: Some(Transport::new(Arc::new(http.clone()))),
                    cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
                    ..Default::default()
                };
                let options = ClientSecretCredentialOptions { client_options };
                let credential =
                    ClientSecretCredential::new(&tenant, client_id.clone(), Secret::new(secret.clone()), Some(options))
                        .map_err(|e| {
                            let text = e.to_string();
                            GraphError::Auth(AuthFailure {
                                code: None,
                                summary: if text.contains("tenant") {
                                    "the Tenant ID is not valid"
                                } else {
                                    "the credential could not be created"
                                },
                                advice: "Verify Tenant ID, Client ID and Client Secret in the connection.",
                            })
                        })?;
                Ok(credential)
            }
        };
        let credential = build()?;
        Ok(TokenSource {
            credential: Arc::new(std::sync::RwLock::new(credential)),
            rebuild: Some(Arc::new(build)),
            secret,
        })
    }

    /// Drops the cached token (Graph refused it: revoked, or expired early); the next call fetches anew.
    pub fn invalidate(&self) {
        if let Some(rebuild) = &self.rebuild {
            if let Ok(fresh) = rebuild() {
                *self.credential.write().unwrap_or_else(|p| p.into_inner()) = fresh;
            }
        }
    }

    /// A token source that answers from an existing credential (tests may fake it).
    pub fn from_credential(credential: Arc<dyn TokenCredential>) -> TokenSource {
        TokenSource { credential: Arc::new(std::sync::RwLock::new(credential)), rebuild: None, secret: String::new() }
    }

    /// A bearer token (cached by the credential until shortly before it expires).
    pub async fn token(&self) -> Result<String, GraphError> {
        let credential = self.credential.read().unwrap_or_else(|p| p.into_inner()).clone();
        match credential.get_token(&[GRAPH_SCOPE], None).await {
            Ok(token) => Ok(token.token.secret().to_string()),
            Err(e) => {
                let mut text = format!("{e:?} {e}");
                if !self.secret.is_empty() {
                    text = text.replace(&self.secret, "[redacted]");
                }
                let failure = classify_token_error(&text);
                tracing::warn!(code = ?failure.code, "token request failed");
                Err(GraphError::Auth(failure))
            }
        }
    }
}

/// The application permissions granted to the app, read from the access token's `roles` claim.
pub fn token_roles(token: &str) -> Vec<String> {
    use base64::Engine;
    let Some(payload) = token.split('.').nth(1) else {
        return Vec::new();
    };
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')) else {
        return Vec::new();
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    claims
        .get("roles")
        .and_then(|r| r.as_array())
        .map(|roles| roles.iter().filter_map(|r| r.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}
