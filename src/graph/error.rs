//! Graph errors, classified so that every one maps to a definite answer: auth (with the AADSTS code),
//! permission, licence, not found, delta expired, throttled, transient, malformed, refused.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    #[error("{0}")]
    Auth(AuthFailure),
    #[error(
        "Permission denied ({code}): {message} Grant the application permission in the Azure portal and admin consent."
    )]
    Permission { code: String, message: String },
    #[error("not licensed ({code}): {message}")]
    Licence { code: String, message: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("the delta token expired or was refused ({0}); the round restarts")]
    DeltaExpired(String),
    #[error("Rate limit exceeded: Microsoft Graph throttled the requests; retrying in {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
    #[error("Microsoft Graph is unavailable: {0}")]
    Transient(String),
    #[error("Microsoft Graph sent a malformed response: {0}")]
    Malformed(String),
    #[error("refused to follow {0}: it is not on the configured Graph host")]
    Refused(String),
    #[error("Microsoft Graph rejected the request (HTTP {status}, {code}): {message}")]
    Rejected { status: u16, code: String, message: String },
}

/// A token failure, with the advice the product documentation gives for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    pub code: Option<String>,
    pub summary: &'static str,
    pub advice: &'static str,
}

impl std::fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "Authentication failed ({code}): {}. {}", self.summary, self.advice),
            None => write!(f, "Authentication failed: {}. {}", self.summary, self.advice),
        }
    }
}

/// Classifies a token error by the AADSTS code found anywhere in its text (azure_identity 1.0 cannot
/// deserialize real AADSTS bodies, so the code may only appear inside a serde message).
pub fn classify_token_error(text: &str) -> AuthFailure {
    let code = find_aadsts(text);
    let (summary, advice) = match code.as_deref() {
        Some("AADSTS7000215") => (
            "Invalid credentials: the client secret is wrong",
            "Verify the Client Secret is the secret's Value (not its ID), copied with no extra spaces.",
        ),
        Some("AADSTS7000222") => (
            "the client secret has expired",
            "Create a new client secret in the Azure portal and update the connection in DevRev.",
        ),
        Some("AADSTS90002") | Some("AADSTS900023") => {
            ("the tenant was not found", "Verify the Tenant ID (Directory ID) or domain name in the connection.")
        }
        Some("AADSTS700016") => (
            "the application (client) was not found in the tenant",
            "Verify the Client ID is the Application (client) ID of an app registered in this tenant.",
        ),
        Some("AADSTS70011") => ("the requested scope is invalid", "This is a connector error; contact DevRev support."),
        Some("AADSTS65001") | Some("AADSTS7000218") => {
            ("admin consent is missing", "Grant admin consent for the app's API permissions in the Azure portal.")
        }
        Some(_) => (
            "the identity platform refused the credentials",
            "Verify Tenant ID, Client ID and Client Secret, and that admin consent was granted.",
        ),
        None => (
            "no token could be obtained from the identity platform",
            "Verify Tenant ID, Client ID and Client Secret, and that the identity platform is reachable.",
        ),
    };
    AuthFailure { code, summary, advice }
}

fn find_aadsts(text: &str) -> Option<String> {
    let start = text.find("AADSTS")?;
    let digits: String = text[start + 6..].chars().take_while(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_found_inside_serde_noise() {
        let text = r#"failed to deserialize: {"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}"#;
        let f = classify_token_error(text);
        assert_eq!(f.code.as_deref(), Some("AADSTS7000215"));
        assert!(f.to_string().contains("Invalid credentials"));
        assert_eq!(classify_token_error("AADSTS90002: Tenant 'x' not found").summary, "the tenant was not found");
        assert_eq!(classify_token_error("connection refused").code, None);
    }
}
