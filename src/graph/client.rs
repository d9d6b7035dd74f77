//! Sending Graph requests: bearer token, `client-request-id`, per-request timeout, classification of every
//! answer into `GraphError`, retries (Retry-After, integer or decimal, else jittered exponential backoff),
//! and the rule that links are followed only on the configured Graph host.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::Value;
use url::Url;

use super::auth::TokenSource;
use super::error::GraphError;
use super::limiter::{cost_of, TenantLimiter};
use super::pager::Page;

pub struct GraphClient {
    http: reqwest::Client,
    root: Url,
    tokens: TokenSource,
    limiter: std::sync::Arc<TenantLimiter>,
    max_retries: usize,
    retry_base: Duration,
    requests: AtomicU64,
    /// Requests, RU and 429s per Graph resource (the first path segment), for metrics and reports.
    usage: std::sync::Mutex<std::collections::BTreeMap<String, ResourceUsage>>,
}

/// What the worker spent on one Graph resource.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct ResourceUsage {
    pub requests: u64,
    pub ru: u64,
    pub throttled: u64,
}

/// The resource a path belongs to: `users`, `groups`, `auditLogs`, `$batch`…
fn resource_of(path: &str) -> String {
    path.trim_start_matches("/v1.0")
        .trim_start_matches("/beta")
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("other")
        .to_string()
}

/// `Retry-After` as Graph sends it: integer or decimal seconds.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

impl GraphClient {
    pub fn new(
        http: reqwest::Client,
        graph_url: &str,
        tokens: TokenSource,
        limiter: std::sync::Arc<TenantLimiter>,
        max_retries: usize,
        retry_base: Duration,
    ) -> Result<GraphClient, GraphError> {
        let root = Url::parse(graph_url.trim_end_matches('/'))
            .map_err(|e| GraphError::Refused(format!("ENTRA_GRAPH_URL {graph_url:?} ({e})")))?;
        Ok(GraphClient {
            http,
            root,
            tokens,
            limiter,
            max_retries,
            retry_base,
            requests: AtomicU64::new(0),
            usage: Default::default(),
        })
    }

    pub fn tokens(&self) -> &TokenSource {
        &self.tokens
    }

    /// Requests, RU and 429s per resource so far.
    pub fn usage(&self) -> std::collections::BTreeMap<String, ResourceUsage> {
        self.usage.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn count(&self, path: &str, ru: u64, throttled: bool) {
        let mut usage = self.usage.lock().unwrap_or_else(|p| p.into_inner());
        let entry = usage.entry(resource_of(path)).or_default();
        entry.requests += 1;
        entry.ru += ru;
        entry.throttled += u64::from(throttled);
    }

    /// Requests sent so far (including retries).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Resolves a path (`/v1.0/users/delta?...`) against the root, or checks that an absolute link stays
    /// on the configured Graph origin (scheme, host and port).
    pub fn resolve(&self, path_or_link: &str) -> Result<Url, GraphError> {
        if path_or_link.starts_with('/') {
            let mut url = self.root.clone();
            let (path, query) = path_or_link.split_once('?').unwrap_or((path_or_link, ""));
            let base = self.root.path().trim_end_matches('/');
            url.set_path(&format!("{base}{path}"));
            url.set_query((!query.is_empty()).then_some(query));
            return Ok(url);
        }
        let url = Url::parse(path_or_link).map_err(|_| GraphError::Refused(redact_query(path_or_link)))?;
        if url.scheme() != self.root.scheme()
            || url.host_str() != self.root.host_str()
            || url.port_or_known_default() != self.root.port_or_known_default()
        {
            return Err(GraphError::Refused(format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"))));
        }
        Ok(url)
    }

    /// GET one page (a collection response) with retries; `is_link` marks a nextLink/deltaLink, on which
    /// 400/410 mean the round must restart.
    pub async fn get_page(&self, path_or_link: &str, is_link: bool) -> Result<Page, GraphError> {
        let url = self.resolve(path_or_link)?;
        self.request(Call { url: &url, body: None, is_link, parse: parse_page }).await
    }

    /// Every item of a collection answer already read (a `$batch` item's body, a POSTed action's answer),
    /// following its `nextLink`s.
    pub async fn all_items(&self, first: &Value) -> Result<Vec<Value>, GraphError> {
        let mut page = Page::from_value(first)?;
        let mut items = page.owned_items();
        while let Some(link) = page.next_link.take() {
            page = self.get_page(&link, true).await?;
            items.extend(page.owned_items());
        }
        Ok(items)
    }

    /// GET a JSON body with retries.
    pub async fn get_json(&self, url: &Url, is_link: bool) -> Result<Value, GraphError> {
        self.request(Call { url, body: None, is_link, parse: parse_json }).await
    }

    /// POST a JSON body to a read-only action (e.g. `/v1.0/directoryObjects/getAvailableExtensionProperties`)
    /// and read the JSON answer, with the same limiter, classification and retries as a GET.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<Value, GraphError> {
        let url = self.resolve(path)?;
        self.request(Call { url: &url, body: Some(body), is_link: false, parse: parse_json }).await
    }

    /// One request with retries; a 2xx body that `call.parse` refuses is read again (bounded).
    async fn request<T>(&self, call: Call<'_, T>) -> Result<T, GraphError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry_base)
            .with_max_delay(Duration::from_secs(60))
            .with_max_times(self.max_retries)
            .with_jitter();
        let (bucket, _) = cost_of(call.url.path(), call.url.query().unwrap_or(""));
        let mut last_wait = Duration::ZERO;
        let result = (|| self.send_once(call))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            // A 2xx body that does not parse is most often a transfer cut short: read it again (bounded).
            .when(|e| matches!(e, GraphError::Throttled { .. } | GraphError::Transient(_) | GraphError::Malformed(_)))
            // `dur` is None once the retries are spent: keep it so (a throttled request becomes DELAYED).
            .adjust(|e, dur| match e {
                GraphError::Throttled { retry_after } if !retry_after.is_zero() => dur.map(|_| *retry_after),
                _ => dur,
            })
            .notify(|e, dur| {
                last_wait = dur;
                if matches!(e, GraphError::Throttled { .. }) {
                    // Everyone drawing from this bucket waits, not just this request.
                    self.limiter.pause(bucket, dur);
                }
                tracing::warn!(error = %e, retry_in_ms = dur.as_millis() as u64, "Graph request failed; retrying");
            })
            .await;
        match result {
            Err(GraphError::Throttled { retry_after }) => {
                Err(GraphError::Throttled { retry_after: retry_after.max(last_wait).max(Duration::from_secs(1)) })
            }
            other => other,
        }
    }

    pub(crate) fn max_retries(&self) -> usize {
        self.max_retries
    }

    pub(crate) fn retry_base(&self) -> Duration {
        self.retry_base
    }

    pub(crate) fn pause_bucket(&self, bucket: super::limiter::Bucket, wait: Duration) {
        self.limiter.pause(bucket, wait);
    }

    /// POSTs one `$batch` envelope, charging each item to its bucket (`charges`); the envelope itself is
    /// retried on throttling and transient failures like any request.
    pub(crate) async fn post_batch(
        &self,
        body: &Value,
        charges: &[(super::limiter::Bucket, u32)],
    ) -> Result<Value, GraphError> {
        let cost: u32 = charges.iter().filter(|(b, _)| *b == super::limiter::Bucket::Identity).map(|(_, c)| *c).sum();
        let url = self.resolve("/v1.0/$batch")?;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry_base)
            .with_max_times(self.max_retries)
            .with_jitter();
        let attempt = || async {
            let token = self.tokens.token().await?;
            self.limiter.acquire_all(charges).await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = self
                .http
                .post(url.clone())
                .bearer_auth(token)
                .json(body)
                .timeout(Duration::from_secs(100))
                .send()
                .await
                .map_err(|e| GraphError::Transient(e.without_url().to_string()))?;
            let status = response.status().as_u16();
            self.count("/$batch", cost as u64, status == 429);
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let bytes = response.bytes().await.map_err(|e| GraphError::Transient(e.without_url().to_string()))?;
            if status == 200 {
                return serde_json::from_slice(&bytes)
                    .map_err(|e| GraphError::Malformed(format!("$batch envelope: {e}")));
            }
            let (code, message) = error_code(&bytes);
            Err(classify(status, code, message, retry_after, false))
        };
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            // A 2xx body that does not parse is most often a transfer cut short: read it again (bounded).
            .when(|e| matches!(e, GraphError::Throttled { .. } | GraphError::Transient(_) | GraphError::Malformed(_)))
            // `dur` is None once the retries are spent: keep it so (a throttled request becomes DELAYED).
            .adjust(|e, dur| match e {
                GraphError::Throttled { retry_after } if !retry_after.is_zero() => dur.map(|_| *retry_after),
                _ => dur,
            })
            .await
    }

    /// One request; a 401 (a token Graph no longer accepts) is retried once with a fresh token.
    async fn send_once<T>(&self, call: Call<'_, T>) -> Result<T, GraphError> {
        match self.send_with_token(call).await {
            Err(GraphError::Auth(failure)) if failure.code.as_deref() == Some("InvalidAuthenticationToken") => {
                tracing::warn!("Microsoft Graph refused the cached access token; fetching a new one");
                self.tokens.invalidate();
                self.send_with_token(call).await
            }
            other => other,
        }
    }

    async fn send_with_token<T>(&self, call: Call<'_, T>) -> Result<T, GraphError> {
        let Call { url, body, is_link, parse } = call;
        let token = self.tokens.token().await?;
        let (bucket, cost) = cost_of(url.path(), url.query().unwrap_or(""));
        self.limiter.acquire(bucket, cost).await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let request = match body {
            Some(body) => self.http.post(url.clone()).json(body),
            None => self.http.get(url.clone()),
        };
        let response = request
            .bearer_auth(token)
            .header("client-request-id", &client_request_id)
            .header("Accept", "application/json")
            .timeout(Duration::from_secs(100))
            .send()
            .await
            .map_err(|e| GraphError::Transient(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let charged = response
            .headers()
            .get("x-ms-resource-unit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(cost as u64);
        self.count(url.path(), charged, status == 429);
        let request_id = response.headers().get("request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        tracing::debug!(status, %request_id, %client_request_id, path = url.path(), "Graph response");
        let body = response
            .bytes()
            .await
            .map_err(|e| GraphError::Transient(format!("body read failed: {}", e.without_url())))?;
        if (200..300).contains(&status) {
            return parse(body).map_err(|e| match e {
                GraphError::Malformed(why) => GraphError::Malformed(format!("{why} (request-id {request_id})")),
                other => other,
            });
        }
        let (code, message) = error_code(&body);
        tracing::warn!(status, %code, %request_id, path = url.path(), "Graph request refused");
        Err(classify(status, code, message, retry_after, is_link))
    }
}

/// Reads a 2xx body into what the caller asked for.
type ParseBody<T> = fn(bytes::Bytes) -> Result<T, GraphError>;

/// One Graph request as sent (and sent again on a retry): where, what to POST (None: a GET), whether the
/// URL is a nextLink/deltaLink (400/410 then mean the round must restart), and how to read the answer.
struct Call<'a, T> {
    url: &'a Url,
    body: Option<&'a Value>,
    is_link: bool,
    parse: ParseBody<T>,
}

impl<T> Clone for Call<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Call<'_, T> {}

fn parse_json(body: bytes::Bytes) -> Result<Value, GraphError> {
    serde_json::from_slice(&body).map_err(|e| GraphError::Malformed(e.to_string()))
}

/// A collection page, borrowing from the body (taken over without a copy when it is one buffer).
fn parse_page(body: bytes::Bytes) -> Result<Page, GraphError> {
    let text = String::from_utf8(Vec::from(body)).map_err(|e| GraphError::Malformed(e.to_string()))?;
    Page::from_body(text)
}

fn error_code(body: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let code = v.pointer("/error/code").and_then(Value::as_str).unwrap_or("").to_string();
    let message = v.pointer("/error/message").and_then(Value::as_str).unwrap_or("").to_string();
    (code, message)
}

const LICENCE_CODES: &[&str] =
    &["Authentication_RequestFromNonPremiumTenantOrB2CTenant", "AadPremiumLicenseRequired", "NoLicense"];

pub(crate) fn classify(
    status: u16,
    code: String,
    message: String,
    retry_after: Option<Duration>,
    is_link: bool,
) -> GraphError {
    let lower = code.to_ascii_lowercase();
    match status {
        429 => GraphError::Throttled { retry_after: retry_after.unwrap_or(Duration::ZERO) },
        503 | 504 if retry_after.is_some() => {
            GraphError::Throttled { retry_after: retry_after.unwrap_or(Duration::ZERO) }
        }
        500..=599 => GraphError::Transient(format!("HTTP {status} {code}")),
        410 => GraphError::DeltaExpired(if code.is_empty() { "410 Gone".into() } else { code }),
        400 if lower == "syncstatenotfound" || lower == "resyncrequired" || is_link => GraphError::DeltaExpired(code),
        401 => GraphError::Auth(super::error::AuthFailure {
            code: Some(code),
            summary: "Microsoft Graph refused the access token",
            advice: "Verify the app registration and that admin consent was granted.",
        }),
        _ if LICENCE_CODES.iter().any(|c| c.eq_ignore_ascii_case(&code))
            || message.contains("AadPremiumLicenseRequired") =>
        {
            GraphError::Licence { code, message }
        }
        403 => GraphError::Permission { code, message },
        404 => GraphError::NotFound(format!("{code}: {message}")),
        _ => GraphError::Rejected { status, code, message },
    }
}

/// A link for logs and errors, without its opaque tokens.
pub fn redact_query(link: &str) -> String {
    link.split('?').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_integer_and_decimal() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn classification_of_answers() {
        assert!(matches!(classify(429, "".into(), "".into(), None, false), GraphError::Throttled { .. }));
        assert!(matches!(
            classify(400, "syncStateNotFound".into(), "".into(), None, false),
            GraphError::DeltaExpired(_)
        ));
        assert!(matches!(
            classify(400, "Request_BadRequest".into(), "".into(), None, true),
            GraphError::DeltaExpired(_)
        ));
        assert!(matches!(
            classify(400, "Request_BadRequest".into(), "".into(), None, false),
            GraphError::Rejected { .. }
        ));
        assert!(matches!(
            classify(403, "Authorization_RequestDenied".into(), "".into(), None, false),
            GraphError::Permission { .. }
        ));
        assert!(matches!(
            classify(403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant".into(), "".into(), None, false),
            GraphError::Licence { .. }
        ));
        assert!(matches!(classify(502, "".into(), "".into(), None, false), GraphError::Transient(_)));
    }

    #[test]
    fn links_stay_on_the_graph_origin() {
        let tokens = TokenSource::from_credential(std::sync::Arc::new(NoCred));
        let limiter = std::sync::Arc::new(TenantLimiter::new(8000));
        let c =
            GraphClient::new(reqwest::Client::new(), "https://graph.example:8443", tokens, limiter, 1, Duration::ZERO)
                .unwrap();
        assert!(c.resolve("https://graph.example:8443/v1.0/users?$skiptoken=x").is_ok());
        assert!(c.resolve("https://evil.example:8443/v1.0/users").is_err());
        assert!(c.resolve("http://graph.example:8443/v1.0/users").is_err());
        assert!(c.resolve("https://graph.example/v1.0/users").is_err());
        assert_eq!(
            c.resolve("/v1.0/users/delta?$select=id").unwrap().as_str(),
            "https://graph.example:8443/v1.0/users/delta?$select=id"
        );
    }

    #[derive(Debug)]
    struct NoCred;
    #[async_trait::async_trait]
    impl azure_core::credentials::TokenCredential for NoCred {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<azure_core::credentials::TokenRequestOptions<'_>>,
        ) -> azure_core::Result<azure_core::credentials::AccessToken> {
            Err(azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, "none"))
        }
    }
}
