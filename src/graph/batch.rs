//! `$batch`: many GETs in envelopes of at most 20, several envelopes in flight, each item charged to its own
//! bucket (RU, or one report / conditional-access request); throttled or transient items are retried alone
//! (after the longest `Retry-After`), and the results come back in the order asked, one per URL.

use std::collections::HashMap;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::client::{classify, parse_retry_after, GraphClient};
use super::error::GraphError;
use super::limiter::{cost_of, Bucket};

/// Graph's limit of requests in one batch.
pub const MAX_BATCH: usize = 20;
/// Envelopes in flight at once per call.
const PARALLEL_ENVELOPES: usize = 4;

fn split_relative(url: &str) -> (&str, &str) {
    url.split_once('?').unwrap_or((url, ""))
}

/// One sub-response turned into the item's result; `Err(Some(wait))` means "retry this item".
fn item_result(status: u16, headers: &Value, body: Value) -> Result<Value, (GraphError, Option<Duration>)> {
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let header = |name: &str| {
        headers
            .as_object()
            .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
    };
    let retry_after = header("Retry-After").and_then(parse_retry_after);
    let code = body.pointer("/error/code").and_then(Value::as_str).unwrap_or_default().to_string();
    let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or_default().to_string();
    let err = classify(status, code, message, retry_after, false);
    let wait = match &err {
        GraphError::Throttled { retry_after } => Some(*retry_after),
        GraphError::Transient(_) => Some(Duration::ZERO),
        _ => None,
    };
    Err((err, wait))
}

impl GraphClient {
    /// GETs every relative URL (e.g. `/users/{id}/authentication/methods`) through `$batch`.
    pub async fn batch_get(&self, urls: &[String]) -> Vec<Result<Value, GraphError>> {
        // Chunks as index ranges: a closure taking a borrowed slice is not `Send` for every lifetime, which
        // callers inside `async_trait` methods need.
        // Graph charges a batch's items when the envelope arrives: a report or conditional-access item goes
        // alone, sent when its token is there (several would arrive at once, past the bucket's burst).
        let mut chunks: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for (i, url) in urls.iter().enumerate() {
            let (path, query) = split_relative(url);
            if cost_of(path, query).0 != Bucket::Identity {
                if start < i {
                    chunks.push((start, i));
                }
                chunks.push((i, i + 1));
                start = i + 1;
            } else if i + 1 - start == MAX_BATCH {
                chunks.push((start, i + 1));
                start = i + 1;
            }
        }
        if start < urls.len() {
            chunks.push((start, urls.len()));
        }
        let mut results: Vec<Option<Result<Value, GraphError>>> = (0..urls.len()).map(|_| None).collect();
        let done: Vec<Vec<(usize, Result<Value, GraphError>)>> = stream::iter(chunks)
            .map(|(start, end)| async move {
                self.batch_chunk(&urls[start..end])
                    .await
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (start + i, r))
                    .collect::<Vec<_>>()
            })
            .buffer_unordered(PARALLEL_ENVELOPES)
            .collect()
            .await;
        for (i, r) in done.into_iter().flatten() {
            results[i] = Some(r);
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(GraphError::Malformed("no batch result".into())))).collect()
    }

    async fn batch_chunk(&self, urls: &[String]) -> Vec<Result<Value, GraphError>> {
        let mut results: Vec<Option<Result<Value, GraphError>>> = (0..urls.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..urls.len()).collect();
        let mut attempt = 0;
        while !pending.is_empty() {
            let charges: Vec<(Bucket, u32)> = pending
                .iter()
                .map(|&i| {
                    let (path, query) = split_relative(&urls[i]);
                    cost_of(path, query)
                })
                .collect();
            let body = json!({"requests": pending.iter().map(|&i| json!({"id": i.to_string(), "method": "GET", "url": urls[i]})).collect::<Vec<_>>()});
            let envelope = match self.post_batch(&body, &charges).await {
                Ok(v) => v,
                Err(e) => {
                    for &i in &pending {
                        results[i] = Some(Err(e.clone()));
                    }
                    break;
                }
            };
            let mut by_id: HashMap<String, (u16, Value, Value)> = HashMap::new();
            // The responses are taken apart, not cloned: a body is a whole page of objects.
            let responses = match envelope {
                Value::Object(mut envelope) => envelope.remove("responses"),
                _ => None,
            };
            if let Some(Value::Array(responses)) = responses {
                for r in responses {
                    let Value::Object(mut r) = r else { continue };
                    let id = match r.remove("id") {
                        Some(Value::String(s)) => s,
                        Some(other) => other.to_string(),
                        None => continue,
                    };
                    let status = r.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
                    let headers = r.remove("headers").unwrap_or(Value::Null);
                    by_id.insert(id, (status, headers, r.remove("body").unwrap_or(Value::Null)));
                }
            }
            let mut retry = Vec::new();
            let mut wait = Duration::ZERO;
            let mut throttled: Vec<Bucket> = Vec::new();
            for (&i, &(bucket, _)) in pending.iter().zip(&charges) {
                match by_id.remove(&i.to_string()) {
                    None => results[i] = Some(Err(GraphError::Malformed(format!("the batch answered no item {i}")))),
                    Some((status, headers, body)) => match item_result(status, &headers, body) {
                        Ok(v) => results[i] = Some(Ok(v)),
                        Err((err, Some(w))) if attempt < self.max_retries() => {
                            if matches!(err, GraphError::Throttled { .. }) && !throttled.contains(&bucket) {
                                throttled.push(bucket);
                            }
                            wait = wait.max(w);
                            retry.push(i);
                            results[i] = Some(Err(err));
                        }
                        Err((err, _)) => results[i] = Some(Err(err)),
                    },
                }
            }
            if retry.is_empty() {
                break;
            }
            attempt += 1;
            let wait = if wait.is_zero() { self.retry_base() * (1 << attempt.min(6)) } else { wait };
            tracing::warn!(
                items = retry.len(),
                wait_ms = wait.as_millis() as u64,
                "batch items throttled or failed; retrying them"
            );
            for bucket in throttled {
                self.pause_bucket(bucket, wait);
            }
            tokio::time::sleep(wait).await;
            pending = retry;
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(GraphError::Malformed("no batch result".into())))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_responses_are_classified() {
        assert!(item_result(200, &Value::Null, json!({"value": []})).is_ok());
        let (err, wait) = item_result(429, &json!({"Retry-After": "7"}), json!({})).unwrap_err();
        assert!(matches!(err, GraphError::Throttled { .. }));
        assert_eq!(wait, Some(Duration::from_secs(7)));
        let (err, wait) =
            item_result(403, &Value::Null, json!({"error": {"code": "Authorization_RequestDenied"}})).unwrap_err();
        assert!(matches!(err, GraphError::Permission { .. }) && wait.is_none());
        let (err, _) = item_result(404, &Value::Null, json!({})).unwrap_err();
        assert!(matches!(err, GraphError::NotFound(_)));
    }
}
