//! The extraction window (protocol §2.8): resolve `extraction_start_time` / `extraction_end_time` at the
//! metadata phase into `extract_from` / `extract_to`, reuse them for the rest of the run, and widen the
//! `workersOldest` / `workersNewest` bounds only when the run ends (`ATTACHMENT_EXTRACTION_DONE`).

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value};

use super::state::WorkerState;

pub const UNBOUNDED: &str = "1970-01-01T00:00:00.000Z";

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// `168h`, `15m`, `1.5s`… (no `d` unit, as in the SDK).
fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit {
        "ns" => n / 1e6,
        "us" | "µs" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => return None,
    };
    Some(Duration::milliseconds(ms as i64))
}

fn resolve(tv: &Value, state: &WorkerState, now: DateTime<Utc>) -> Result<Option<String>, String> {
    let Some(kind) = tv.get("type").and_then(Value::as_str) else {
        return Ok(None);
    };
    let value = tv.get("value").and_then(Value::as_str).unwrap_or_default();
    let newest = || {
        let n = state.sdk_str("workersNewest");
        let n = if n.is_empty() { state.sdk_str("lastSuccessfulSyncStarted") } else { n };
        parse_time(&n).ok_or_else(|| "workers_newest is not known yet (no earlier successful sync)".to_string())
    };
    let oldest = || parse_time(&state.sdk_str("workersOldest"));
    let window = || parse_duration(value).ok_or_else(|| format!("invalid window duration {value:?}"));
    Ok(Some(match kind {
        "absolute_time" => iso(parse_time(value).ok_or_else(|| format!("invalid absolute_time {value:?}"))?),
        "current_time" => iso(now),
        "unbounded" => UNBOUNDED.to_string(),
        "workers_oldest" => oldest().map(iso).unwrap_or_else(|| UNBOUNDED.to_string()),
        "workers_newest" => iso(newest()?),
        "workers_oldest_minus_window" => match oldest() {
            Some(t) => iso(t - window()?),
            None => UNBOUNDED.to_string(),
        },
        "workers_newest_plus_window" => iso(newest()? + window()?),
        other => return Err(format!("unknown time value type {other:?}")),
    }))
}

/// Applies the window rules for one stateful event; writes `extract_from` / `extract_to` into the
/// echoed event context. An inverted window is an error of the platform.
pub fn apply(
    ctx: &mut Map<String, Value>,
    state: &mut WorkerState,
    is_metadata_start: bool,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let pairs = [
        ("extraction_start_time", "extract_from", "pendingWorkersOldest"),
        ("extraction_end_time", "extract_to", "pendingWorkersNewest"),
    ];
    for (time_key, ctx_key, pending_key) in pairs {
        if is_metadata_start {
            if let Some(tv) = ctx.get(time_key).cloned() {
                if let Some(resolved) = resolve(&tv, state, now)? {
                    ctx.insert(ctx_key.into(), Value::String(resolved.clone()));
                    state.set_sdk_str(pending_key, &resolved);
                }
            }
        } else {
            let pending = state.sdk_str(pending_key);
            if !pending.is_empty() {
                ctx.insert(ctx_key.into(), Value::String(pending));
            }
        }
    }
    let from = ctx.get("extract_from").and_then(Value::as_str).and_then(parse_time);
    let to = ctx.get("extract_to").and_then(Value::as_str).and_then(parse_time);
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(format!(
                "Invalid extraction window: extract_from {} is not before extract_to {}. This indicates an error in the platform.",
                iso(f),
                iso(t)
            ));
        }
    }
    Ok(())
}

/// End-of-run bookkeeping at `ATTACHMENT_EXTRACTION_DONE`: widen the bounds, promote the sync start.
pub fn complete_run(ctx: &Map<String, Value>, state: &mut WorkerState) {
    let widen = |current: String, candidate: Option<&str>, older: bool| -> String {
        match (parse_time(&current), candidate.and_then(parse_time)) {
            (None, Some(c)) => iso(c),
            (Some(cur), Some(c)) if (older && c < cur) || (!older && c > cur) => iso(c),
            _ => current,
        }
    };
    let oldest = widen(state.sdk_str("workersOldest"), ctx.get("extract_from").and_then(Value::as_str), true);
    let newest = widen(state.sdk_str("workersNewest"), ctx.get("extract_to").and_then(Value::as_str), false);
    state.set_sdk_str("workersOldest", &oldest);
    state.set_sdk_str("workersNewest", &newest);
    state.set_sdk_str("pendingWorkersOldest", "");
    state.set_sdk_str("pendingWorkersNewest", "");
    let started = state.sdk_str("lastSyncStarted");
    if !started.is_empty() {
        state.set_sdk_str("lastSuccessfulSyncStarted", &started);
    }
    state.set_sdk_str("lastSyncStarted", "");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn initial_window_resolves_and_is_reused() {
        let now = parse_time("2026-03-26T10:00:00Z").unwrap();
        let mut st = WorkerState::initial();
        let mut c = ctx(
            json!({"extraction_start_time": {"type": "unbounded"}, "extraction_end_time": {"type": "current_time"}}),
        );
        apply(&mut c, &mut st, true, now).unwrap();
        assert_eq!(c["extract_from"], UNBOUNDED);
        assert_eq!(c["extract_to"], "2026-03-26T10:00:00.000Z");
        let mut later = ctx(json!({"extraction_end_time": {"type": "current_time"}}));
        apply(&mut later, &mut st, false, now + Duration::hours(1)).unwrap();
        assert_eq!(later["extract_to"], "2026-03-26T10:00:00.000Z");
        complete_run(&later, &mut st);
        assert_eq!(st.sdk_str("workersNewest"), "2026-03-26T10:00:00.000Z");
        assert_eq!(st.sdk_str("pendingWorkersNewest"), "");
    }

    #[test]
    fn workers_newest_needs_a_previous_sync_and_windows_must_not_invert() {
        let now = Utc::now();
        let mut st = WorkerState::initial();
        let mut c = ctx(json!({"extraction_start_time": {"type": "workers_newest"}}));
        assert!(apply(&mut c, &mut st, true, now).is_err());
        let mut c = ctx(json!({"extraction_start_time": {"type": "absolute_time", "value": "2026-05-01T00:00:00Z"},
                              "extraction_end_time": {"type": "absolute_time", "value": "2026-04-01T00:00:00Z"}}));
        assert!(apply(&mut c, &mut st, true, now).unwrap_err().contains("Invalid extraction window"));
        assert_eq!(parse_duration("168h"), Some(Duration::hours(168)));
        assert_eq!(parse_duration("7d"), None);
    }
}
