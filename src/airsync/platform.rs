//! Every call the worker makes to the DevRev platform for one invocation: state get/update, artifact
//! upload (upload-url → multipart POST → confirm), initial-domain-mapping install, and the one callback.
//! All of them follow the protocol's retry policy (§4.5): 5 retries, 2/4/8/16/32 s with jitter, on 5xx,
//! network errors, timeouts, and 429 with a numeric `Retry-After`.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{json, Value};

use super::event::Event;
use crate::config::Config;

/// Reported as `X-DevRev-Client-Version` and `adaas_library_version`: the protocol level implemented.
pub const PROTOCOL_LIBRARY_VERSION: &str = "1.20.0";

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("the platform URL for {route} is refused: {reason}")]
    Refused { route: &'static str, reason: String },
    #[error("{route} failed with HTTP {status}: {body}")]
    Status { route: &'static str, status: u16, body: String, retry_after: Option<u64> },
    #[error("{route} failed: {message}")]
    Network { route: &'static str, message: String },
    #[error("{route} answered something unexpected: {message}")]
    BadResponse { route: &'static str, message: String },
}

impl PlatformError {
    fn retryable(&self) -> bool {
        match self {
            PlatformError::Status { status, retry_after, .. } => {
                *status >= 500 || (*status == 429 && retry_after.is_some())
            }
            PlatformError::Network { .. } => true,
            _ => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PlatformError::Status { retry_after: Some(s), .. } => Some(Duration::from_secs(*s)),
            _ => None,
        }
    }
}

/// The platform side of one invocation, with every URL checked against the host policy up front.
#[derive(Clone)]
pub struct Platform {
    http: reqwest::Client,
    token: String,
    devrev: String,
    callback_url: String,
    worker_data_url: String,
    request_id: String,
    request_id_adaas: String,
    sync_unit_id: String,
    snap_in_slug: String,
    snap_in_version_id: String,
    retry_base: Duration,
    timeout: Duration,
    /// `AIRSYNC_ALLOWED_HOSTS`, also applied to the upload URLs the platform hands out.
    policy: crate::net::HostPolicy,
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... {} more characters", &text[..end], text.len() - end)
}

impl Platform {
    /// Builds the client for one event. Only the callback URL must be valid here (without it nothing can
    /// be answered); the other URLs are checked when first used so that their refusal can be answered.
    pub fn new(cfg: &Config, http: reqwest::Client, event: &Event) -> Result<Platform, PlatformError> {
        let callback_url = event.callback_url();
        cfg.allowed_hosts
            .check(&callback_url)
            .map_err(|reason| PlatformError::Refused { route: "callback", reason })?;
        let sync_unit_id = {
            let id = event.context_str("sync_unit_id");
            if id.is_empty() {
                event.context_str("sync_unit")
            } else {
                id
            }
        };
        let request_id_adaas = {
            let id = event.context_str("request_id_adaas");
            if id.is_empty() {
                event.context_str("uuid")
            } else {
                id
            }
        };
        Ok(Platform {
            http,
            token: event.service_account_token.clone(),
            devrev: event.devrev_endpoint.clone(),
            callback_url,
            worker_data_url: event.context_str("worker_data_url"),
            request_id: event.context_str("request_id"),
            request_id_adaas,
            sync_unit_id,
            snap_in_slug: event.context_str("snap_in_slug"),
            snap_in_version_id: event.snap_in_version_id.clone(),
            retry_base: cfg.platform_retry_base,
            timeout: cfg.platform_timeout,
            policy: cfg.allowed_hosts.clone(),
        })
    }

    fn checked(&self, cfg: &Config, route: &'static str, url: &str) -> Result<(), PlatformError> {
        cfg.allowed_hosts.check(url).map(|_| ()).map_err(|reason| PlatformError::Refused { route, reason })
    }

    /// Verifies the URLs a stateful phase will use, so that a refusal is answered before any work.
    pub fn check_urls(&self, cfg: &Config) -> Result<(), PlatformError> {
        self.checked(cfg, "devrev_endpoint", &self.devrev)?;
        if !self.worker_data_url.is_empty() {
            self.checked(cfg, "worker_data_url", &self.worker_data_url)?;
        }
        Ok(())
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_min_delay(self.retry_base)
            .with_factor(2.0)
            .with_max_delay(self.retry_base * 16)
            .with_max_times(5)
            .with_jitter()
    }

    /// Sends a request built by `build` under the retry policy and returns the successful response.
    async fn send<F>(&self, route: &'static str, build: F) -> Result<reqwest::Response, PlatformError>
    where
        F: Fn() -> reqwest::RequestBuilder,
    {
        let attempt = || async {
            let response = build()
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| PlatformError::Network { route, message: e.without_url().to_string() })?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let body = response.text().await.unwrap_or_default();
            Err(PlatformError::Status { route, status: status.as_u16(), body: truncate(&body, 500), retry_after })
        };
        attempt
            .retry(self.backoff())
            .sleep(tokio::time::sleep)
            .when(PlatformError::retryable)
            .adjust(|err, dur| match err.retry_after() {
                Some(wait) => Some(wait),
                None => dur,
            })
            .notify(
                |err, dur| tracing::warn!(%err, retry_in_ms = dur.as_millis() as u64, "platform call failed; retrying"),
            )
            .await
    }

    fn state_query(&self) -> [(&'static str, &str); 2] {
        [("sync_unit", self.sync_unit_id.as_str()), ("request_id", self.request_id_adaas.as_str())]
    }

    /// Reads the state text; `None` when the platform has none yet (404).
    pub async fn get_state(&self) -> Result<Option<String>, PlatformError> {
        let url = format!("{}.get", self.worker_data_url);
        let result = self
            .send("state.get", || self.http.get(&url).query(&self.state_query()).header("Authorization", &self.token))
            .await;
        let response = match result {
            Err(PlatformError::Status { status: 404, .. }) => return Ok(None),
            other => other?,
        };
        let body: Value = response
            .json()
            .await
            .map_err(|e| PlatformError::BadResponse { route: "state.get", message: e.without_url().to_string() })?;
        match body.get("state").and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => Ok(Some(text.to_string())),
            _ => {
                Err(PlatformError::BadResponse { route: "state.get", message: "no state found in the response".into() })
            }
        }
    }

    /// Writes the whole state text (double-encoded, as the protocol requires).
    pub async fn put_state(&self, text: &str) -> Result<(), PlatformError> {
        let url = format!("{}.update", self.worker_data_url);
        let body = json!({ "state": text });
        self.send("state.update", || {
            self.http.post(&url).query(&self.state_query()).header("Authorization", &self.token).json(&body)
        })
        .await
        .map(|_| ())
    }

    /// Uploads one artifact through the three calls and returns its id. `confirm` is false only for
    /// external sync units (the sync does not exist yet when they are extracted).
    pub async fn upload_artifact(
        &self,
        file_name: &str,
        bytes: bytes::Bytes,
        confirm: bool,
    ) -> Result<String, PlatformError> {
        let bearer = format!("Bearer {}", self.token);
        let url = format!("{}/internal/airdrop.artifacts.upload-url", self.devrev);
        let query =
            [("request_id", self.request_id.as_str()), ("file_type", "application/x-gzip"), ("file_name", file_name)];
        let response =
            self.send("upload-url", || self.http.get(&url).query(&query).header("Authorization", &bearer)).await?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| PlatformError::BadResponse { route: "upload-url", message: e.without_url().to_string() })?;
        let bad = |message: &str| PlatformError::BadResponse { route: "upload-url", message: message.to_string() };
        let artifact_id =
            body.get("artifact_id").and_then(Value::as_str).ok_or_else(|| bad("no artifact_id"))?.to_string();
        let upload_url =
            body.get("upload_url").and_then(Value::as_str).ok_or_else(|| bad("no upload_url"))?.to_string();
        self.policy.check(&upload_url).map_err(|reason| PlatformError::Refused { route: "upload", reason })?;
        let fields = form_fields(body.get("form_data"));
        let form = || {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in &fields {
                form = form.text(k.clone(), v.clone());
            }
            let part = || {
                reqwest::multipart::Part::stream_with_length(reqwest::Body::from(bytes.clone()), bytes.len() as u64)
                    .file_name(file_name.to_string())
            };
            let part = part().mime_str("application/x-gzip").unwrap_or_else(|_| part());
            form.part("file", part)
        };
        self.send("upload", || self.http.post(&upload_url).multipart(form())).await?;
        if confirm {
            let url = format!("{}/internal/airdrop.artifacts.confirm-upload", self.devrev);
            let body = json!({ "request_id": self.request_id, "artifact_id": artifact_id });
            self.send("confirm", || self.http.post(&url).header("Authorization", &bearer).json(&body)).await?;
        }
        Ok(artifact_id)
    }

    /// Installs the initial domain mapping (protocol §8.4): look up the slugs, then install.
    pub async fn install_idm(&self, snap_in_id: &str, idm: &Value) -> Result<(), PlatformError> {
        let url = format!("{}/internal/snap-ins.get", self.devrev);
        let response = self
            .send("snap-ins.get", || {
                self.http.get(&url).query(&[("id", snap_in_id)]).header("Authorization", &self.token)
            })
            .await?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| PlatformError::BadResponse { route: "snap-ins.get", message: e.without_url().to_string() })?;
        let import_slug = body.pointer("/snap_in/imports/0/name").and_then(Value::as_str);
        let snap_in_slug = body.pointer("/snap_in/snap_in_version/slug").and_then(Value::as_str);
        let (Some(import_slug), Some(snap_in_slug)) = (import_slug, snap_in_slug) else {
            return Err(PlatformError::BadResponse {
                route: "snap-ins.get",
                message: "the snap-in has no import name or version slug".into(),
            });
        };
        let mut install =
            json!({ "external_system_type": "ADaaS", "import_slug": import_slug, "snap_in_slug": snap_in_slug });
        if let (Some(target), Some(extra)) =
            (install.as_object_mut(), idm.get("additional_mappings").and_then(Value::as_object))
        {
            for (k, v) in extra {
                target.insert(k.clone(), v.clone());
            }
        }
        let url = format!("{}/internal/airdrop.recipe.initial-domain-mappings.install", self.devrev);
        self.send("idm.install", || self.http.post(&url).header("Authorization", &self.token).json(&install))
            .await
            .map(|_| ())
    }

    /// Posts the answer to `callback_url` with the protocol's headers.
    pub async fn emit(&self, body: &Value) -> Result<(), PlatformError> {
        self.send("callback", || {
            self.http
                .post(&self.callback_url)
                .header("Authorization", &self.token)
                .header("Accept", "application/json, text/plain, */*")
                .header("X-DevRev-Client-Platform", &self.snap_in_slug)
                .header("X-DevRev-Client-Id", &self.snap_in_version_id)
                .header("X-DevRev-Client-Version", PROTOCOL_LIBRARY_VERSION)
                .json(body)
        })
        .await
        .map(|_| ())
    }
}

/// `form_data` is an object in practice, sometimes `[]` or an array of `{key, value}` (protocol §5.3).
fn form_fields(form: Option<&Value>) -> Vec<(String, String)> {
    let as_text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match form {
        Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), as_text(v))).collect(),
        Some(Value::Array(items)) => {
            items.iter().filter_map(|i| Some((i.get("key")?.as_str()?.to_string(), as_text(i.get("value")?)))).collect()
        }
        _ => Vec::new(),
    }
}

/// Error messages travel inside the event; the protocol caps them at 10,000 characters.
pub fn truncate_message(message: &str) -> String {
    truncate(message, 10_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_data_in_every_shape() {
        assert_eq!(
            form_fields(Some(&json!({"key": "a", "n": 1}))),
            vec![("key".into(), "a".into()), ("n".into(), "1".into())]
        );
        assert!(form_fields(Some(&json!([]))).is_empty());
        assert_eq!(form_fields(Some(&json!([{"key": "policy", "value": "p"}]))), vec![("policy".into(), "p".into())]);
    }

    #[test]
    fn long_messages_are_truncated_with_a_count() {
        let long = "é".repeat(6000);
        let t = truncate_message(&long);
        assert!(t.len() < 10_100 && t.ends_with("more characters"));
    }
}

#[cfg(test)]
mod upload_policy_tests {
    use super::*;
    use crate::airsync::event::Event;
    use crate::net::HostPolicy;

    #[tokio::test]
    async fn an_upload_url_outside_the_allowed_hosts_is_refused_before_any_bytes_leave() {
        // A tiny platform that hands out an upload URL on a foreign host.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            if let Ok((mut sock, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = vec![0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let body = r#"{"artifact_id":"a/1","upload_url":"https://bucket.attacker.example/","form_data":{}}"#;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(reply.as_bytes()).await;
            }
        });
        let event = Event::parse(&serde_json::json!({
            "context": {"secrets": {"service_account_token": "t"}},
            "execution_metadata": {"devrev_endpoint": format!("http://127.0.0.1:{port}")},
            "payload": {"event_type": "START_EXTRACTING_DATA", "event_context": {"callback_url": format!("http://127.0.0.1:{port}/cb")}}
        }))
        .unwrap();
        let cfg = Config { allowed_hosts: HostPolicy::parse("127.0.0.1"), ..Config::default() };
        let platform = Platform::new(&cfg, reqwest::Client::new(), &event).unwrap();
        let err = platform.upload_artifact("users.jsonl.gz", bytes::Bytes::from_static(b"x"), true).await.unwrap_err();
        assert!(matches!(err, PlatformError::Refused { route: "upload", .. }), "{err}");
    }
}
