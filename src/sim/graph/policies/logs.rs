//! `GET /auditLogs/directoryAudits` and `/auditLogs/signIns`: time-window `$filter`, `$top`, newest
//! first, sealed `$skiptoken` cursors, and only events inside the licence's retention (sim clock).

use super::super::errors::bad_request;
use super::super::http::{json_response, Ctx};
use super::super::state::Shared;
use super::super::users::{Query, Reply};
use super::events::Event;
use super::query::{self, Filter, TICKS};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Log {
    DirectoryAudits,
    SignIns,
}

impl Log {
    pub fn path(self) -> &'static str {
        match self {
            Log::DirectoryAudits => "auditLogs/directoryAudits",
            Log::SignIns => "auditLogs/signIns",
        }
    }
    fn time_prop(self) -> &'static str {
        match self {
            Log::DirectoryAudits => "activityDateTime",
            Log::SignIns => "createdDateTime",
        }
    }
}

/// Page size: default = max = 1,000 for both logs (signIns documented; audits assumed).
pub const MAX_TOP: usize = 1000;

#[derive(Serialize, Deserialize, Debug, Clone)]
struct LogSkip {
    k: String, // always "log"
    log: Log,
    filter: Filter,
    top: usize,
    before: (i64, u32),
    sel: Option<Vec<String>>,
    raw_filter: Option<String>,
}

/// Retention cutoff in ticks for the tenant's licence at sim time `now`.
pub fn cutoff(sh: &Shared) -> i64 {
    (sh.now() - sh.opts.licence.retention_days() * 86_400) * TICKS
}

/// Up to `top` rendered events matching `f`, newest first, strictly older than `before`;
/// plus the cursor of the last one when more match.
pub fn page<E: Event>(
    recs: &[E],
    cutoff: i64,
    f: &Filter,
    before: Option<(i64, u32)>,
    top: usize,
) -> (Vec<Value>, Option<(i64, u32)>) {
    let end = match before {
        Some(b) => recs.partition_point(|e| e.key() < b),
        None => match f.to {
            Some(to) => recs.partition_point(|e| e.key().0 <= to),
            None => recs.len(),
        },
    };
    let floor = f.from.map_or(cutoff, |from| from.max(cutoff));
    let mut out = Vec::new();
    let mut last = None;
    for e in recs[..end].iter().rev() {
        let (ticks, _) = e.key();
        if ticks < floor {
            break;
        }
        if !f.in_range(ticks) {
            continue;
        }
        let v = e.render();
        if !f.matches(&v) {
            continue;
        }
        if out.len() == top {
            return (out, last);
        }
        last = Some(e.key());
        out.push(v);
    }
    (out, None)
}

/// Every event inside retention, newest first, one at a time (truth).
pub fn each<E: Event>(recs: &[E], cutoff: i64, f: &mut dyn FnMut(&Value)) {
    for e in recs.iter().rev().take_while(|e| e.key().0 >= cutoff) {
        f(&e.render());
    }
}

pub fn list(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, log: Log) -> Reply {
    let bad = |m: &str| (bad_request(ctx, "Request_UnsupportedQuery", m), 0);
    let state = if let Some(tok) = q.get("$skiptoken") {
        match sh.sealer.open::<LogSkip>(tok) {
            Some(s) if s.k == "log" && s.log == log => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0),
        }
    } else {
        let top = match query::top(q, MAX_TOP, MAX_TOP) {
            Ok(t) => t,
            Err(m) => return bad(&m),
        };
        let raw_filter = q.get("$filter").map(str::to_string);
        let filter = match raw_filter.as_deref().map(|f| Filter::parse(f, Some(log.time_prop()))) {
            None => Filter::default(),
            Some(Ok(f)) => f,
            Some(Err(m)) => return bad(&m),
        };
        LogSkip { k: "log".into(), log, filter, top, before: (i64::MAX, u32::MAX), sel: query::select(q), raw_filter }
    };
    let Ok(d) = sh.policies.data.read() else {
        return (bad_request(ctx, "UnknownError", "state unavailable"), 0);
    };
    let cut = cutoff(sh);
    let before = (state.before != (i64::MAX, u32::MAX)).then_some(state.before);
    let (values, next) = match log {
        Log::DirectoryAudits => page(&d.audits, cut, &state.filter, before, state.top),
        Log::SignIns => page(&d.signins, cut, &state.filter, before, state.top),
    };
    drop(d);
    let values: Vec<Value> = values.into_iter().map(|v| query::project(v, state.sel.as_deref())).collect();
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(format!("{}/{ver}/$metadata#{}", sh.origin, log.path())));
    if let Some(before) = next {
        let tok = sh.sealer.seal(&LogSkip { before, ..state.clone() });
        let mut link = format!("{}/{ver}/{}?", sh.origin, log.path());
        if let Some(f) = &state.raw_filter {
            let enc: String = url::form_urlencoded::byte_serialize(f.as_bytes()).collect();
            link.push_str(&format!("$filter={enc}&"));
        }
        link.push_str(&format!("$top={}&$skiptoken={tok}", state.top));
        body.insert("@odata.nextLink".into(), json!(link));
    }
    let n = values.len();
    body.insert("value".into(), Value::Array(values));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}

#[cfg(test)]
mod tests {
    use super::super::events::{AuditRec, Initiator};
    use super::*;

    fn rec(seq: u32, secs: i64) -> AuditRec {
        AuditRec {
            seq,
            ticks: secs * TICKS,
            kind: 0,
            success: true,
            corr: seq as u128,
            by: Initiator::App { app_id: 1, name: "x" },
            targets: vec![],
            detail: "JobTitle".into(),
        }
    }

    #[test]
    fn pages_newest_first_within_window_and_retention() {
        let recs: Vec<AuditRec> = (0..100).map(|i| rec(i, 1000 + (i as i64 / 2))).collect();
        let f = Filter { from: Some(1010 * TICKS), to: Some(1040 * TICKS), tests: vec![] };
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let (vals, next) = page(&recs, 0, &f, before, 7);
            seen.extend(vals.into_iter().map(|v| v["activityDateTime"].as_str().unwrap().to_string()));
            match next {
                Some(n) => before = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 62);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted);
        let (vals, _) = page(&recs, 1030 * TICKS, &f, None, 1000);
        assert_eq!(vals.len(), 22);
        let mut inside = 0;
        each(&recs, 1049 * TICKS, &mut |_| inside += 1);
        assert_eq!(inside, 2);
    }
}
