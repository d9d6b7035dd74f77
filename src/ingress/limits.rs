//! Request-body admission for `/handle/*`: content type, declared and actual size limits,
//! read timeout, JSON parsing and the event-shape check (object, or array of objects).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::StatusCode;
use serde_json::Value;

/// Why a body was refused: the HTTP status and a message safe to return to the client.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl Rejection {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Rejection {
        Rejection { status, message: message.into() }
    }
}

/// `Content-Type` must be `application/json`, parameters (e.g. `charset=utf-8`) allowed.
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let unsupported = || Rejection::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json");
    let value = headers.get(CONTENT_TYPE).ok_or_else(unsupported)?;
    let value = value.to_str().map_err(|_| unsupported())?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(unsupported())
    }
}

/// A declared `Content-Length` above the limit is refused before any byte of the body is read.
pub(crate) fn check_declared_length(headers: &HeaderMap, max: usize) -> Result<(), Rejection> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(()); // chunked: enforced while reading
    };
    let len = value
        .to_str()
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "invalid Content-Length"))?;
    if len > max as u64 {
        return Err(too_large(max));
    }
    Ok(())
}

fn too_large(max: usize) -> Rejection {
    Rejection::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body larger than the limit of {max} bytes"))
}

/// Read the whole body, at most `max` bytes, within `timeout`.
pub(crate) async fn read_body(body: Incoming, max: usize, timeout: Duration) -> Result<Bytes, Rejection> {
    let collected = tokio::time::timeout(timeout, Limited::new(body, max).collect()).await;
    match collected {
        Err(_) => Err(Rejection::new(StatusCode::REQUEST_TIMEOUT, "timed out reading the request body")),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(max)),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "failed to read request body");
            Err(Rejection::new(StatusCode::BAD_REQUEST, "failed to read the request body"))
        }
        Ok(Ok(c)) => Ok(c.to_bytes()),
    }
}

/// Parse a body into events: a JSON object, or an array of JSON objects.
pub(crate) fn parse_events(body: &[u8]) -> Result<Vec<Value>, Rejection> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Rejection::new(StatusCode::BAD_REQUEST, format!("request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(_) => Ok(vec![value]),
        Value::Array(items) => {
            if let Some(i) = items.iter().position(|v| !v.is_object()) {
                return Err(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    format!("element {i} of the event array is {}, expected an event object", kind(&items[i])),
                ));
            }
            Ok(items)
        }
        other => Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            format!("request body is {}, expected an event object or an array of event objects", kind(&other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn ct(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn content_types() {
        assert!(check_content_type(&ct("application/json")).is_ok());
        assert!(check_content_type(&ct("Application/JSON; charset=utf-8")).is_ok());
        assert!(check_content_type(&ct("text/plain")).is_err());
        assert!(check_content_type(&ct("application/jsonx")).is_err());
        assert!(check_content_type(&HeaderMap::new()).is_err());
    }

    #[test]
    fn declared_length() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(check_declared_length(&h, 10).is_ok());
        assert_eq!(check_declared_length(&h, 9).map_err(|r| r.status).err(), Some(StatusCode::PAYLOAD_TOO_LARGE));
    }

    #[test]
    fn shapes() {
        assert_eq!(parse_events(br#"{"a":1}"#).map(|v| v.len()).ok(), Some(1));
        assert_eq!(parse_events(br#"[{},{}]"#).map(|v| v.len()).ok(), Some(2));
        assert_eq!(parse_events(br#"[]"#).map(|v| v.len()).ok(), Some(0));
        for bad in [&b"[{}, 1]"[..], b"\"x\"", b"null", b"{", b""] {
            assert_eq!(parse_events(bad).map_err(|r| r.status).err(), Some(StatusCode::BAD_REQUEST));
        }
    }
}
