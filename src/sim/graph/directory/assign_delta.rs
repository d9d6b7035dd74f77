//! `GET /directoryObjects/delta?$filter=isof('microsoft.graph.appRoleAssignment')`: an initial round of every
//! app role assignment, then change rounds from the assignment log (created ones in full, removed ones `@removed`).

use super::dir::Directory;
use super::model::*;
use super::paging::restrict;
use super::render_apps::assignment_id;
use super::tokens::{AssignPhase, AssignSkip, AssignTok, ASKIP, ATOK};
use crate::sim::graph::errors::{bad_request, graph_error};
use crate::sim::graph::gen::Mix;
use crate::sim::graph::http::{json_response, Ctx};
use crate::sim::graph::state::Shared;
use crate::sim::graph::users::{Query, Reply};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

const ODATA_TYPE: &str = "#microsoft.graph.appRoleAssignment";
/// The one `$filter` served (graph-api.md §8.9: `id eq` filters are not supported for this type).
pub const FILTER: &str = "isof('microsoft.graph.appRoleAssignment')";

/// Whether a `$filter` is the app role assignment type filter (case and spaces aside).
pub fn is_assignment_filter(raw: &str) -> bool {
    let norm: String = raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    norm == FILTER.to_ascii_lowercase() || norm == "isof(\"microsoft.graph.approleassignment\")"
}

fn page_size(sh: &Shared, head: u64, page: u32, salt: u64) -> usize {
    let lo = sh.opts.page_min.max(1);
    let hi = sh.opts.page_max.max(lo);
    let mut r = Mix::new(sh.opts.seed ^ head.rotate_left(20) ^ salt ^ 0x4153_0000_0000_0000, page as u64);
    lo + r.below((hi - lo + 1) as u64) as usize
}

fn live_json(a: &Assignment, sp: &SpRec, sel: &Option<Vec<String>>) -> Value {
    let mut v = restrict(a.to_json(sp), sel.as_deref());
    if let Some(o) = v.as_object_mut() {
        o.insert("@odata.type".into(), json!(ODATA_TYPE));
    }
    v
}

/// Initial round: assignments after the cursor, ordered by resource number then key; the cursor of the
/// next page when more remain.
fn initial_page(
    d: &Directory,
    after: Option<(u32, u128)>,
    sel: &Option<Vec<String>>,
    size: usize,
) -> (Vec<Value>, Option<(u32, u128)>) {
    let mut value = Vec::new();
    let mut last = None;
    for (num, sp) in d.sps.live.range(after.map_or(0, |(n, _)| n)..) {
        for a in &sp.assigned_to {
            // (Each resource's list is sorted by key: generated in order, new keys are always larger.)
            if after.is_some_and(|(n, k)| *num == n && a.key <= k) {
                continue;
            }
            if value.len() >= size {
                return (value, last);
            }
            value.push(live_json(a, sp, sel));
            last = Some((*num, a.key));
        }
    }
    (value, None)
}

/// Change round: each assignment whose last change lies in `pos..head`, as it stands now.
fn changes_page(d: &Directory, pos: u64, head: u64, sel: &Option<Vec<String>>, size: usize) -> (Vec<Value>, u64) {
    let log = &d.assign_log;
    let head = head.min(log.head());
    let mut value = Vec::new();
    let mut p = pos;
    while p < head && value.len() < size {
        let c = log.entries[p as usize];
        p += 1;
        if log.last.get(&c.key) != Some(&p) {
            continue;
        }
        let live = d.sps.live.get(&c.sp).and_then(|sp| sp.assigned_to.iter().find(|a| a.key == c.key).map(|a| (a, sp)));
        value.push(match live {
            Some((a, sp)) => live_json(a, sp, sel),
            None => json!({"@odata.type": ODATA_TYPE, "id": assignment_id(c.principal, c.key),
                           "@removed": {"reason": "deleted"}}),
        });
    }
    (value, p)
}

fn finish(sh: &Shared, ctx: &Ctx, ver: &str, st: &AssignSkip, value: Vec<Value>, next: Option<AssignSkip>) -> Reply {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(format!("{}/{ver}/$metadata#directoryObjects", sh.origin)));
    let base = format!("{}/{ver}/directoryObjects/delta", sh.origin);
    match next {
        Some(s) => {
            body.insert("@odata.nextLink".into(), json!(format!("{base}?$skiptoken={}", sh.sealer.seal(&s))));
        }
        None => {
            let tok = AssignTok { k: ATOK.into(), seq: st.head, sel: st.sel.clone(), iat: sh.now() };
            body.insert("@odata.deltaLink".into(), json!(format!("{base}?$deltatoken={}", sh.sealer.seal(&tok))));
        }
    }
    let n = value.len();
    body.insert("value".into(), Value::Array(value));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}

/// The options of a first request: the type filter (required) and an optional `$select`.
fn first_request(ctx: &Ctx, q: &Query) -> Result<Option<Vec<String>>, Box<Reply>> {
    let unsupported = |msg: String| Box::new((bad_request(ctx, "Request_UnsupportedQuery", &msg), 0));
    if let Some(o) = ["$search", "$orderby", "$expand", "$top"].iter().find(|o| q.get(o).is_some()) {
        return Err(unsupported(format!("The query option '{o}' is not supported on directoryObjects/delta.")));
    }
    match q.get("$filter") {
        Some(f) if is_assignment_filter(f) => {}
        Some(f) => return Err(unsupported(format!("Unsupported filter '{f}': this simulator serves {FILTER} only."))),
        None => return Err(unsupported("directoryObjects/delta requires a $filter on isof(...).".into())),
    }
    let sel: Vec<String> =
        q.get("$select").unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()).map(String::from).collect();
    Ok((!sel.is_empty()).then_some(sel))
}

/// The handler of `GET /directoryObjects/delta` (and `/microsoft.graph.delta`).
pub fn delta(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    let head_now = sh.directory.read().map(|d| d.assign_log.head()).unwrap_or(0);
    let fresh;
    let state = if let Some(tok) = q.get("$skiptoken") {
        fresh = false;
        match sh.sealer.open::<AssignSkip>(tok) {
            Some(s) if s.k == ASKIP => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "The specified skip token is invalid."), 0),
        }
    } else if let Some(tok) = q.get("$deltatoken").filter(|t| !t.is_empty()) {
        fresh = true;
        if tok.eq_ignore_ascii_case("latest") {
            let sel = match first_request(ctx, q) {
                Ok(s) => s,
                Err(r) => return *r,
            };
            let st = AssignSkip {
                k: ASKIP.into(),
                phase: AssignPhase::Changes { pos: head_now },
                head: head_now,
                page: 0,
                sel,
            };
            return finish(sh, ctx, ver, &st, Vec::new(), None);
        }
        let Some(t) = sh.sealer.open::<AssignTok>(tok).filter(|t| t.k == ATOK) else {
            return (bad_request(ctx, "Request_BadRequest", "The specified delta token is invalid."), 0);
        };
        let replay = match sh.delta_token_faults(
            ctx,
            t.iat,
            format!("{}/{ver}/directoryObjects/delta?$filter={FILTER}&$deltatoken=", sh.origin),
        ) {
            Ok(replay) => replay,
            Err(refused) => return (*refused, 0),
        };
        let pos = t.seq.saturating_sub(replay).min(head_now);
        AssignSkip { k: ASKIP.into(), phase: AssignPhase::Changes { pos }, head: head_now, page: 0, sel: t.sel }
    } else {
        fresh = true;
        let sel = match first_request(ctx, q) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        AssignSkip { k: ASKIP.into(), phase: AssignPhase::Initial { after: None }, head: head_now, page: 0, sel }
    };

    if fresh && sh.faults.lock().map(|f| f.empty_first_page).unwrap_or(false) {
        let next = AssignSkip { page: state.page + 1, ..state.clone() };
        return finish(sh, ctx, ver, &state, Vec::new(), Some(next));
    }
    let Ok(d) = sh.directory.read() else {
        return (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Directory lock poisoned."), 0);
    };
    let (value, next) = match &state.phase {
        AssignPhase::Initial { after } => {
            let after = after.as_ref().and_then(|(n, k)| Some((*n, u128::from_str_radix(k, 16).ok()?)));
            let size = page_size(sh, state.head, state.page, 0x1417);
            let (value, last) = initial_page(&d, after, &state.sel, size);
            (value, last.map(|(n, k)| AssignPhase::Initial { after: Some((n, format!("{k:x}"))) }))
        }
        AssignPhase::Changes { pos } => {
            let size = page_size(sh, state.head, state.page, *pos);
            let (value, p) = changes_page(&d, *pos, state.head, &state.sel, size);
            (value, (p < state.head.min(d.assign_log.head())).then_some(AssignPhase::Changes { pos: p }))
        }
    };
    drop(d);
    let next = next.map(|phase| AssignSkip { phase, page: state.page + 1, ..state.clone() });
    finish(sh, ctx, ver, &state, value, next)
}
