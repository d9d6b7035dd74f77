//! Small OData helpers for the policy/report/log endpoints: `$top`, `$select`, a `$filter` subset
//! (`and`-joined `ge|gt|le|lt` on one timestamp property, `eq|ne` on others) and 100-ns timestamps.

use super::super::users::Query;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// 100-nanosecond ticks per second (timestamps keep the 7 fractional digits Graph prints).
pub const TICKS: i64 = 10_000_000;

/// `2025-03-01T21:20:02.7215374Z` (fraction) or `2025-03-01T21:20:02Z`.
pub fn fmt_ticks(ticks: i64, fraction: bool) -> String {
    let secs = ticks.div_euclid(TICKS);
    let frac = ticks.rem_euclid(TICKS);
    let base = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S");
    if fraction {
        format!("{base}.{frac:07}Z")
    } else {
        format!("{base}Z")
    }
}

/// Parse an ISO-8601 timestamp (with or without zone, fraction up to 7 digits) to ticks.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim().trim_matches('\'');
    let dt = chrono::DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&chrono::Utc))
        .ok()
        .or_else(|| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|n| n.and_utc()))?;
    let nanos = dt.timestamp_subsec_nanos() as i64;
    Some(dt.timestamp().checked_mul(TICKS)? + nanos / 100)
}

/// `$top` within `1..=max`, `default` when absent.
pub fn top(q: &Query, default: usize, max: usize) -> Result<usize, String> {
    Ok(crate::sim::graph::tokens::requested_top(q.get("$top"), max)?.unwrap_or(default))
}

/// `$select` as a list (None when absent or empty).
pub fn select(q: &Query) -> Option<Vec<String>> {
    let v: Vec<String> =
        q.get("$select")?.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect();
    (!v.is_empty()).then_some(v)
}

/// Keep only the selected properties (plus `id` and `@odata.type`).
pub fn project(v: Value, sel: Option<&[String]>) -> Value {
    let (Some(sel), Value::Object(o)) = (sel, &v) else { return v };
    let mut out = Map::new();
    for (k, val) in o {
        if k == "id" || k == "@odata.type" || sel.iter().any(|s| s.eq_ignore_ascii_case(k)) {
            out.insert(k.clone(), val.clone());
        }
    }
    Value::Object(out)
}

/// A literal on the right of `eq` / `ne`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Lit {
    Str(String),
    Bool(bool),
    Num(f64),
    Null,
}

impl Lit {
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Lit::Str(s), Value::String(x)) => s.eq_ignore_ascii_case(x),
            (Lit::Bool(b), Value::Bool(x)) => b == x,
            (Lit::Num(n), Value::Number(x)) => x.as_f64() == Some(*n),
            (Lit::Null, Value::Null) => true,
            _ => false,
        }
    }
}

/// A parsed `$filter`: a closed time range on `time_prop` and equality tests on other paths.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// `(path with '/', negated, literal)`
    pub tests: Vec<(String, bool, Lit)>,
}

impl Filter {
    /// Parse `raw`; `time_prop` is the one property accepting range operators (None: no ranges).
    pub fn parse(raw: &str, time_prop: Option<&str>) -> Result<Filter, String> {
        let mut f = Filter::default();
        let words = split_words(raw)?;
        for clause in words.split(|w| w.eq_ignore_ascii_case("and")) {
            let [path, op, value] = clause else {
                return Err(format!("Invalid filter clause: '{}'.", clause.join(" ")));
            };
            let op = op.to_ascii_lowercase();
            let is_time = time_prop.is_some_and(|t| t.eq_ignore_ascii_case(path));
            if is_time {
                let t = parse_time(value).ok_or_else(|| format!("Invalid DateTimeOffset value '{value}'."))?;
                let (lo, hi) = match op.as_str() {
                    "ge" => (Some(t), None),
                    "gt" => (Some(t + 1), None),
                    "le" => (None, Some(t)),
                    "lt" => (None, Some(t - 1)),
                    "eq" => (Some(t), Some(t)),
                    _ => return Err(format!("Unsupported operator '{op}' on {path}.")),
                };
                if let Some(lo) = lo {
                    f.from = Some(f.from.map_or(lo, |x| x.max(lo)));
                }
                if let Some(hi) = hi {
                    f.to = Some(f.to.map_or(hi, |x| x.min(hi)));
                }
                continue;
            }
            let neg = match op.as_str() {
                "eq" => false,
                "ne" => true,
                _ => return Err(format!("Unsupported filter operator '{op}' on property '{path}'.")),
            };
            if path.contains('(') || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '_') {
                return Err(format!("Unsupported filter property '{path}'."));
            }
            f.tests.push((path.to_string(), neg, parse_lit(value)?));
        }
        Ok(f)
    }

    pub fn in_range(&self, ticks: i64) -> bool {
        self.from.is_none_or(|f| ticks >= f) && self.to.is_none_or(|t| ticks <= t)
    }

    /// Whether a rendered object passes the equality tests.
    pub fn matches(&self, v: &Value) -> bool {
        self.tests.iter().all(|(path, neg, lit)| {
            let ptr = format!("/{path}");
            let hit = lit.matches(v.pointer(&ptr).unwrap_or(&Value::Null));
            hit != *neg
        })
    }
}

fn parse_lit(v: &str) -> Result<Lit, String> {
    if let Some(s) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Ok(Lit::Str(s.replace("''", "'")));
    }
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(Lit::Bool(true)),
        "false" => Ok(Lit::Bool(false)),
        "null" => Ok(Lit::Null),
        _ => v.parse::<f64>().map(Lit::Num).or_else(|_| {
            // GUIDs are written bare in some filters (`userId eq 1aec...`).
            if v.chars().all(|c| c.is_ascii_hexdigit() || c == '-') && v.len() == 36 {
                Ok(Lit::Str(v.to_string()))
            } else {
                Err(format!("Invalid literal '{v}' in filter."))
            }
        }),
    }
}

/// Split on whitespace outside single quotes.
fn split_words(raw: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' if quoted && chars.peek() == Some(&'\'') => {
                cur.push_str("''");
                chars.next();
            }
            '\'' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err("Unterminated string literal in filter.".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn time_roundtrip_and_filters() {
        let t = parse_time("2025-03-01T21:20:02.7215374Z").unwrap();
        assert_eq!(fmt_ticks(t, true), "2025-03-01T21:20:02.7215374Z");
        assert_eq!(parse_time("2025-03-01T00:00:00"), parse_time("2025-03-01T00:00:00Z"));
        let f = Filter::parse(
            "activityDateTime ge 2025-03-01T00:00:00Z and activityDateTime le 2025-03-02T00:00:00Z and category eq 'User''s'",
            Some("activityDateTime"),
        )
        .unwrap();
        assert!(f.in_range(parse_time("2025-03-01T12:00:00Z").unwrap()));
        assert!(!f.in_range(parse_time("2025-03-02T00:00:00.0000001Z").unwrap()));
        assert!(f.matches(&json!({"category": "user's"})));
        assert!(!f.matches(&json!({"category": "Other"})));
        let f = Filter::parse("initiatedBy/user/id ne null and isAdmin eq true", None).unwrap();
        assert!(f.matches(&json!({"initiatedBy": {"user": {"id": "x"}}, "isAdmin": true})));
        assert!(Filter::parse("startswith(a,'b')", None).is_err());
        assert!(Filter::parse("createdDateTime ge nope", Some("createdDateTime")).is_err());
        assert!(Filter::parse("a eq 'x", None).is_err());
    }
}
