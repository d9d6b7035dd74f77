//! Outbound HTTP: the one reqwest client (TLS roots incl. `ENTRA_EXTRA_CA_PEM`) and the host policy that
//! decides which URLs the worker may call at all (`AIRSYNC_ALLOWED_HOSTS`, https unless a host is listed).

use std::path::Path;
use std::time::Duration;

use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot read the extra CA bundle {path}: {source}")]
    CaRead { path: String, source: std::io::Error },
    #[error("the extra CA bundle {path} holds no usable PEM certificate: {reason}")]
    CaParse { path: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// Builds the shared HTTP client. Extra roots are added to the platform's roots, never replace them.
pub fn build_client(extra_ca_pem: Option<&Path>, timeout: Option<Duration>) -> Result<reqwest::Client, NetError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("entra-airsync/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60));
    if let Some(t) = timeout {
        builder = builder.timeout(t);
    }
    if let Some(path) = extra_ca_pem {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| NetError::CaRead { path: shown.clone(), source })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| NetError::CaParse { path: shown.clone(), reason: e.to_string() })?;
        if certs.is_empty() {
            return Err(NetError::CaParse { path: shown, reason: "no certificate found".into() });
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| NetError::Build(e.to_string()))
}

/// Which hosts the worker may call on the DevRev side. Entries are exact hosts (`127.0.0.1`,
/// `api.devrev.ai`) or wildcards (`*.devrev.ai`); plain `http` is allowed only for exact entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPolicy {
    exact: Vec<String>,
    suffixes: Vec<String>,
}

impl HostPolicy {
    /// Parses a comma-separated list such as `*.devrev.ai,127.0.0.1`.
    pub fn parse(list: &str) -> HostPolicy {
        let mut policy = HostPolicy { exact: Vec::new(), suffixes: Vec::new() };
        for entry in list.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()) {
            match entry.strip_prefix("*.") {
                Some(suffix) => policy.suffixes.push(format!(".{suffix}")),
                None => policy.exact.push(entry),
            }
        }
        policy
    }

    /// Checks a URL against the policy and returns it parsed, or says why it is refused.
    pub fn check(&self, raw: &str) -> Result<Url, String> {
        let url = Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
        let host = url.host_str().map(|h| h.trim_matches(|c| c == '[' || c == ']').to_ascii_lowercase());
        let Some(host) = host else {
            return Err("URL has no host".into());
        };
        let exact = self.exact.contains(&host);
        let wildcard = self.suffixes.iter().any(|s| host.ends_with(s.as_str()));
        match url.scheme() {
            "https" if exact || wildcard => Ok(url),
            "http" if exact => Ok(url),
            "http" if wildcard => Err(format!("plain http to {host} is refused; list the host explicitly to allow it")),
            "https" | "http" => Err(format!("host {host} is not in AIRSYNC_ALLOWED_HOSTS")),
            other => Err(format!("scheme {other} is not allowed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_allows_https_subdomains_only() {
        let p = HostPolicy::parse("*.devrev.ai");
        assert!(p.check("https://api.devrev.ai/internal/x").is_ok());
        assert!(p.check("https://devrev.ai.evil.com/").is_err());
        assert!(p.check("http://api.devrev.ai/").is_err());
        assert!(p.check("https://127.0.0.1:8080/").is_err());
        assert!(p.check("file:///etc/passwd").is_err());
    }

    #[test]
    fn exact_host_allows_plain_http_loopback() {
        let p = HostPolicy::parse("*.devrev.ai, 127.0.0.1");
        assert!(p.check("http://127.0.0.1:4000/internal/airdrop.external-worker.get").is_ok());
        assert!(p.check("http://localhost:4000/").is_err());
    }
}
