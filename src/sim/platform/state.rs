//! Worker state behind `worker_data_url` (`.get` / `.update`), keyed by `sync_unit`: stored as the inner JSON
//! text (double-encoded on the wire), validated to be a JSON object under 1 MB.

use std::collections::HashMap;

use serde_json::Value;

/// Largest accepted state text, in bytes.
pub const MAX_STATE_BYTES: usize = 1_000_000;

#[derive(Debug, Default)]
pub struct StateStore {
    pub by_sync_unit: HashMap<String, String>,
}

/// Validate an `.update` body and return the inner state text.
pub fn parse_update_body(body: &[u8]) -> Result<String, String> {
    let outer: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let Some(text) = outer.get("state").and_then(Value::as_str) else {
        return Err("body has no string `state` (it must be the JSON text of the state)".into());
    };
    if text.len() > MAX_STATE_BYTES {
        return Err(format!("state is {} bytes, over the {MAX_STATE_BYTES}-byte limit", text.len()));
    }
    let inner: Value = serde_json::from_str(text).map_err(|e| format!("state text is not JSON: {e}"))?;
    if !inner.is_object() {
        return Err("state text is not a JSON object".into());
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_body_validation() {
        assert_eq!(parse_update_body(br#"{"state": "{\"a\":1}"}"#).unwrap(), "{\"a\":1}");
        assert!(parse_update_body(br#"{"state": {"a":1}}"#).is_err());
        assert!(parse_update_body(br#"{"state": "[1]"}"#).is_err());
        assert!(parse_update_body(br#"{"state": "nope"}"#).is_err());
        let big = format!("{{\"state\": \"{{\\\"a\\\":\\\"{}\\\"}}\"}}", "x".repeat(MAX_STATE_BYTES));
        assert!(parse_update_body(big.as_bytes()).is_err());
    }
}
