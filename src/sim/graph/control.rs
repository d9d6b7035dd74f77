//! Control API under `/_sim/` (no auth, plain JSON): truth, mutate, stats, reset-stats, info,
//! faults (delta-token TTL, 410 injection, replays, empty pages, 429s) and clock advance.

use super::errors::graph_error;
use super::http::{json_response, Ctx, Resp};
use super::state::{Faults, Shared};
use super::{MutationSpec, SimInfo};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

pub fn handle(sh: &Shared, info: &SimInfo, ctx: &Ctx, method: &Method, path: &str, body: &[u8]) -> Resp {
    let ok = |v: Value| json_response(ctx, StatusCode::OK, &v, false, &[]);
    let bad = |m: String| graph_error(ctx, StatusCode::BAD_REQUEST, "Request_BadRequest", &m);
    if let Some(r) = super::policies::control(sh, ctx, method, path, body) {
        return r;
    }
    match (method, path) {
        (&Method::GET, "/_sim/truth") => ok(super::truth::whole(sh)),
        (&Method::POST, "/_sim/mutate") => match serde_json::from_slice::<MutationSpec>(body) {
            Ok(spec) => ok(mutate(sh, &spec)),
            Err(e) => bad(format!("invalid MutationSpec: {e}")),
        },
        (&Method::GET, "/_sim/stats") => ok(stats(sh)),
        (&Method::POST, "/_sim/reset-stats") => {
            reset_stats(sh);
            ok(json!({"ok": true}))
        }
        (&Method::GET, "/_sim/info") => ok(serde_json::to_value(info).unwrap_or(Value::Null)),
        (&Method::GET, "/_sim/faults") => ok(faults(sh)),
        (&Method::POST, "/_sim/faults") => match serde_json::from_slice::<Faults>(body) {
            Ok(f) => {
                if let Ok(mut cur) = sh.faults.lock() {
                    *cur = f;
                }
                ok(faults(sh))
            }
            Err(e) => bad(format!("invalid faults: {e}")),
        },
        (&Method::POST, "/_sim/advance-clock") => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let secs = v["seconds"].as_i64().unwrap_or(0) + v["days"].as_i64().unwrap_or(0) * 86_400;
            sh.clock_offset.fetch_add(secs, Ordering::Relaxed);
            ok(json!({"clock_offset_seconds": sh.clock_offset.load(Ordering::Relaxed)}))
        }
        _ => graph_error(ctx, StatusCode::NOT_FOUND, "UnknownError", &format!("No control endpoint {method} {path}")),
    }
}

pub fn mutate(sh: &Shared, spec: &MutationSpec) -> Value {
    let now = sh.now();
    let mut answer = match sh.tenant.write() {
        Ok(mut t) => {
            let mut v = t.mutate(spec, now);
            super::directory::mutate_into(sh, &t, spec, now, &mut v);
            super::recycle::stamp(sh, &t, now);
            v
        }
        Err(_) => json!({"error": "tenant lock poisoned"}),
    };
    super::policies::mutate(sh, spec, now, &mut answer);
    answer
}

pub fn stats(sh: &Shared) -> Value {
    sh.stats.lock().map(|s| s.to_json()).unwrap_or(Value::Null)
}

pub fn reset_stats(sh: &Shared) {
    if let Ok(mut s) = sh.stats.lock() {
        *s = Default::default();
    }
}

pub fn faults(sh: &Shared) -> Value {
    sh.faults.lock().map(|f| serde_json::to_value(&*f).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}
