//! Artifact storage of the emulator (upload-url → multipart upload → confirm → download) and the checks on
//! uploaded bytes: gzip, JSONL, and the normalized-item shape of record-type lines (§5, §8.1).

use std::io::Read;

use serde_json::Value;

use super::line::{digest, is_special_item_type, Line};
use super::record::Shapes;
use super::spool::Body;

/// One artifact slot, created by `upload-url`.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub n: u64,
    pub id: String,
    pub request_id: String,
    pub file_name: String,
    pub file_type: String,
    pub item_type: String,
    /// form_data fields the upload must carry, in order.
    pub form_data: Vec<(String, String)>,
    /// The uploaded bytes (none until uploaded).
    pub bytes: Option<Body>,
    /// Lines in the file (when the upload was a valid `*.jsonl.gz`).
    pub line_count: Option<usize>,
    /// Its lines digested for the loader (for the file's item type), until the loader takes them.
    pub lines: Option<Vec<Line>>,
    pub confirmed: bool,
    /// Listed in an answer already (a second listing is a violation and is not applied again).
    pub listed: bool,
    /// Applied to the record store by the driver's loader.
    pub applied: bool,
}

#[derive(Debug, Default)]
pub struct ArtifactStore {
    pub items: Vec<Artifact>,
}

pub const ARTIFACT_PREFIX: &str = "don:core:dvrv-us-1:devo/sim:artifact/";

/// `item_type` from a file name `{item_type}.jsonl.gz` (else the name up to the first dot).
pub fn item_type_of(file_name: &str) -> String {
    file_name
        .strip_suffix(".jsonl.gz")
        .or_else(|| file_name.strip_suffix(".jsonl"))
        .unwrap_or_else(|| file_name.split('.').next().unwrap_or(file_name))
        .to_string()
}

impl ArtifactStore {
    pub fn create(&mut self, request_id: &str, file_name: &str, file_type: &str) -> Artifact {
        let n = self.items.len() as u64 + 1;
        let id = format!("{ARTIFACT_PREFIX}{n}");
        let form_data = vec![
            ("key".to_string(), format!("artifacts/{n}/{file_name}")),
            ("policy".to_string(), format!("sim-policy-{}", uuid::Uuid::new_v4().simple())),
            ("x-amz-signature".to_string(), format!("{:x}", rand::random::<u128>())),
        ];
        let art = Artifact {
            n,
            id,
            request_id: request_id.to_string(),
            file_name: file_name.to_string(),
            file_type: file_type.to_string(),
            item_type: item_type_of(file_name),
            form_data,
            bytes: None,
            line_count: None,
            lines: None,
            confirmed: false,
            listed: false,
            applied: false,
        };
        self.items.push(art.clone());
        art
    }

    pub fn by_n(&mut self, n: u64) -> Option<&mut Artifact> {
        self.items.iter_mut().find(|a| a.n == n)
    }

    pub fn by_id(&mut self, id: &str) -> Option<&mut Artifact> {
        self.items.iter_mut().find(|a| a.id == id)
    }
}

/// Gunzip and split into JSON lines (empty/whitespace lines skipped, as readers do).
pub fn parse_jsonl_gz(bytes: &[u8]) -> Result<Vec<Value>, String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| format!("not valid gzip of UTF-8 text: {e}"))?;
    parse_jsonl(&text)
}

/// Digest parsed lines of an artifact of `item_type` for the loader.
pub fn digest_lines(item_type: &str, lines: Vec<Value>) -> Vec<Line> {
    let mut shapes = Shapes::default();
    lines.into_iter().map(|l| digest(item_type, l, &mut shapes)).collect()
}

/// Split JSONL text into values.
pub fn parse_jsonl(text: &str) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for (i, l) in text.split('\n').enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(l).map_err(|e| format!("line {}: not JSON: {e}", i + 1))?;
        out.push(v);
    }
    Ok(out)
}

fn is_rfc3339(v: Option<&Value>) -> bool {
    v.and_then(Value::as_str).is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// Check one line of an artifact of `item_type`; returns problems (empty = fine).
pub fn check_line(item_type: &str, line: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !line.is_object() {
        problems.push("line is not a JSON object".to_string());
        return problems;
    }
    if is_special_item_type(item_type) {
        if item_type == "external_sync_units" {
            if !line.get("id").is_some_and(Value::is_string) {
                problems.push("external sync unit without a string id".into());
            }
            if !line.get("name").is_some_and(Value::is_string) {
                problems.push("external sync unit without a string name".into());
            }
        }
        return problems;
    }
    match line.get("id") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => problems.push("`id` missing or not a non-empty string".into()),
    }
    if !is_rfc3339(line.get("created_date")) {
        problems.push(format!("`created_date` not RFC3339: {}", line.get("created_date").unwrap_or(&Value::Null)));
    }
    if !is_rfc3339(line.get("modified_date")) {
        problems.push(format!("`modified_date` not RFC3339: {}", line.get("modified_date").unwrap_or(&Value::Null)));
    }
    if !line.get("data").is_some_and(Value::is_object) {
        problems.push("`data` missing or not an object".into());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use serde_json::json;
    use std::io::Write;

    fn gz(s: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(s.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn jsonl_gz_parsing() {
        let v = parse_jsonl_gz(&gz("{\"a\":1}\n\n{\"b\":2}")).unwrap();
        assert_eq!(v.len(), 2);
        assert!(parse_jsonl_gz(b"plain").is_err());
        assert!(parse_jsonl_gz(&gz("{\"a\":1}\nnope")).is_err());
    }

    #[test]
    fn line_checks() {
        let good = json!({"id": "1", "created_date": "2024-01-01T00:00:00Z", "modified_date": "2024-01-01T00:00:00.000+01:00", "data": {}});
        assert!(check_line("users", &good).is_empty());
        let bad = json!({"id": 1, "created_date": "yesterday", "data": []});
        assert_eq!(check_line("users", &bad).len(), 4);
        assert!(check_line("external_domain_metadata", &json!({"x": 1})).is_empty());
        assert_eq!(item_type_of("users.jsonl.gz"), "users");
    }
}
