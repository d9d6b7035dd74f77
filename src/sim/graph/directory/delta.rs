//! `GET /{groups|directoryRoles|applications|servicePrincipals|devices|contacts}/delta`: initial rounds
//! (large member lists sliced across pages, the object repeated), change rounds from the type's log.

use super::dir::{status_of, with_store, Directory, Status};
use super::model::*;
use super::render::{parse_select, props, DirMeta, Obj};
use super::tokens::{DeltaSkip, DeltaTok, Phase, DSKIP, DTOK};
use crate::sim::graph::errors::{bad_request, graph_error};
use crate::sim::graph::gen::{fmt_guid, Mix};
use crate::sim::graph::http::{json_response, Ctx};
use crate::sim::graph::state::Shared;
use crate::sim::graph::users::{Query, Reply};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

/// Objects per page are drawn from `page_min..=page_max`.
fn page_size(sh: &Shared, kind: Kind, head: u64, page: u32, salt: u64) -> usize {
    let lo = sh.opts.page_min.max(1);
    let hi = sh.opts.page_max.max(lo);
    let mut r = Mix::new(sh.opts.seed ^ head.rotate_left(20) ^ salt ^ ((kind.idx() as u64 + 1) << 40), page as u64);
    lo + r.below((hi - lo + 1) as u64) as usize
}

/// Member links per page: twice the object budget, at most 500 (so > 600-member groups always split).
pub fn link_budget(size: usize) -> usize {
    (size * 2).clamp(1, 500)
}

fn link_json(m: &Member, removed: bool) -> Value {
    let mut o = json!({"@odata.type": m.kind.odata(), "id": fmt_guid(m.id)});
    if removed {
        o["@removed"] = json!({"reason": "deleted"});
    }
    o
}

fn removed(id: u128, reason: &str) -> Value {
    json!({"id": fmt_guid(id), "@removed": {"reason": reason}})
}

/// Whether `members@delta` is tracked: `members` selected, or no `$select` at all.
fn tracks_members(kind: Kind, sel: &Option<Vec<String>>) -> bool {
    kind.has_members() && sel.as_ref().is_none_or(|s| s.iter().any(|p| p == "members"))
}

pub fn select_for(kind: Kind, raw: &str) -> Result<Vec<String>, String> {
    parse_select(raw, props(kind), kind.has_members())
}

/// Render an object for a delta page (no `members@delta`).
fn obj_json<T: Obj>(o: &T, m: &DirMeta, sel: &Option<Vec<String>>) -> Map<String, Value> {
    let sel: Option<Vec<String>> = sel.as_ref().map(|s| s.iter().filter(|p| *p != "members").cloned().collect());
    o.render(m, sel.as_deref())
}

struct Page {
    value: Vec<Value>,
    next: Option<Phase>,
}

fn initial_page<T: Obj>(
    d: &Directory,
    s: &Store<T>,
    mut after: Option<u32>,
    mut partial: Option<(u32, String)>,
    sel: &Option<Vec<String>>,
    size: usize,
) -> Page {
    let members = tracks_members(T::KIND, sel);
    let mut links_left = link_budget(size);
    let mut value = Vec::new();
    loop {
        let more =
            partial.as_ref().is_some_and(|(n, _)| s.live.contains_key(n)) || after.is_none_or(|a| s.has_after(a));
        if !more {
            return Page { value, next: None };
        }
        if value.len() >= size {
            return Page { value, next: Some(Phase::Initial { after, partial }) };
        }
        let (obj, from) = match partial.take() {
            Some((num, mid)) => match s.live.get(&num) {
                Some(o) => (o, u128::from_str_radix(&mid, 16).ok()),
                None => {
                    after = Some(num);
                    continue;
                }
            },
            None => match s.after(after, 1).next() {
                Some(o) => (o, None),
                None => return Page { value, next: None },
            },
        };
        let num = obj.num();
        let list = if members { obj.members().unwrap_or(&[]) } else { &[] };
        let start = from.map_or(0, |f| list.partition_point(|x| x.id <= f));
        let rest = &list[start..];
        if rest.is_empty() {
            if from.is_none() {
                value.push(Value::Object(obj_json(obj, &d.meta, sel)));
            }
            after = Some(num);
            continue;
        }
        if links_left == 0 {
            return Page {
                value,
                next: Some(Phase::Initial { after, partial: from.map(|f| (num, format!("{f:x}"))) }),
            };
        }
        let take = rest.len().min(links_left);
        let mut o = obj_json(obj, &d.meta, sel);
        o.insert("members@delta".into(), Value::Array(rest[..take].iter().map(|m| link_json(m, false)).collect()));
        value.push(Value::Object(o));
        links_left -= take;
        if take < rest.len() {
            let last = rest[take - 1].id;
            return Page { value, next: Some(Phase::Initial { after, partial: Some((num, format!("{last:x}"))) }) };
        }
        after = Some(num);
    }
}

fn changes_page<T: Obj>(
    d: &Directory,
    s: &Store<T>,
    pos: u64,
    head: u64,
    sel: &Option<Vec<String>>,
    size: usize,
) -> (Vec<Value>, u64) {
    let log = d.log(T::KIND);
    let members = tracks_members(T::KIND, sel);
    let head = head.min(log.head());
    let mut links_left = link_budget(size);
    let mut value: Vec<Value> = Vec::new();
    let mut open: Option<u32> = None;
    let mut p = pos;
    while p < head && value.len() < size {
        let entry = log.entries[p as usize];
        let seq = p + 1;
        match entry {
            Entry::Obj(num) => {
                p = seq;
                open = None;
                if log.last_obj.get(&num) != Some(&seq) {
                    continue;
                }
                match status_of(s, num) {
                    Status::Live => {
                        if let Some(o) = s.live.get(&num) {
                            value.push(Value::Object(obj_json(o, &d.meta, sel)));
                        }
                    }
                    Status::Soft(id) => value.push(removed(id, "changed")),
                    Status::Hard(id) => value.push(removed(id, "deleted")),
                    Status::Unknown => {}
                }
            }
            Entry::Link { num, member, added } => {
                if !members || log.last_link.get(&(num, member.id)) != Some(&seq) {
                    p = seq;
                    continue;
                }
                let Some(o) = s.live.get(&num) else {
                    p = seq;
                    continue;
                };
                if links_left == 0 {
                    break;
                }
                p = seq;
                links_left -= 1;
                let link = link_json(&member, !added);
                if open == Some(num) {
                    if let Some(Value::Array(a)) = value.last_mut().and_then(|v| v.get_mut("members@delta")) {
                        a.push(link);
                        continue;
                    }
                }
                let mut obj = obj_json(o, &d.meta, sel);
                obj.insert("members@delta".into(), Value::Array(vec![link]));
                value.push(Value::Object(obj));
                open = Some(num);
            }
        }
    }
    (value, p)
}

fn context_url(sh: &Shared, ver: &str, kind: Kind, sel: &Option<Vec<String>>) -> String {
    match sel {
        Some(s) => format!("{}/{ver}/$metadata#{}({})", sh.origin, kind.collection(), s.join(",")),
        None => format!("{}/{ver}/$metadata#{}", sh.origin, kind.collection()),
    }
}

fn finish(sh: &Shared, ctx: &Ctx, ver: &str, st: &DeltaSkip, value: Vec<Value>, next: Option<DeltaSkip>) -> Reply {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context_url(sh, ver, st.kind, &st.sel)));
    let base = format!("{}/{ver}/{}/delta", sh.origin, st.kind.collection());
    match next {
        Some(s) => {
            body.insert("@odata.nextLink".into(), json!(format!("{base}?$skiptoken={}", sh.sealer.seal(&s))));
        }
        None => {
            let tok = DeltaTok { k: DTOK.into(), kind: st.kind, seq: st.head, sel: st.sel.clone(), iat: sh.now() };
            body.insert("@odata.deltaLink".into(), json!(format!("{base}?$deltatoken={}", sh.sealer.seal(&tok))));
        }
    }
    let n = value.len();
    body.insert("value".into(), Value::Array(value));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}

fn unsupported(ctx: &Ctx, q: &Query) -> Option<Reply> {
    ["$filter", "$search", "$orderby", "$expand"].iter().find(|o| q.get(o).is_some()).map(|o| {
        let msg = format!("The query option '{o}' is not supported by this simulator on this resource.");
        (bad_request(ctx, "Request_UnsupportedQuery", &msg), 0)
    })
}

fn select_arg(ctx: &Ctx, kind: Kind, q: &Query) -> Result<Option<Vec<String>>, Box<Reply>> {
    match q.get("$select").map(|raw| select_for(kind, raw)) {
        None => Ok(None),
        Some(Ok(v)) if v.is_empty() => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(p)) => Err(Box::new((
            bad_request(
                ctx,
                "Request_BadRequest",
                &format!("Could not find a property named '{p}' on type 'microsoft.graph.{}'.", kind.type_name()),
            ),
            0,
        ))),
    }
}

/// The delta handler shared by every directory type.
pub fn delta(sh: &Shared, ctx: &Ctx, ver: &str, kind: Kind, q: &Query) -> Reply {
    if let Some(r) = unsupported(ctx, q) {
        return r;
    }
    let head_now = sh.directory.read().map(|d| d.log(kind).head()).unwrap_or(0);
    let fresh;
    let state = if let Some(tok) = q.get("$skiptoken") {
        fresh = false;
        match sh.sealer.open::<DeltaSkip>(tok) {
            Some(s) if s.k == DSKIP && s.kind == kind => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "The specified skip token is invalid."), 0),
        }
    } else if let Some(tok) = q.get("$deltatoken").filter(|t| !t.is_empty()) {
        // (An empty `$deltatoken`, as in the 410 `Location`, starts a new initial round.)
        fresh = true;
        if tok.eq_ignore_ascii_case("latest") {
            let sel = match select_arg(ctx, kind, q) {
                Ok(s) => s,
                Err(r) => return *r,
            };
            let st = DeltaSkip {
                k: DSKIP.into(),
                kind,
                phase: Phase::Changes { pos: head_now },
                head: head_now,
                page: 0,
                sel,
            };
            return finish(sh, ctx, ver, &st, Vec::new(), None);
        }
        let Some(t) = sh.sealer.open::<DeltaTok>(tok).filter(|t| t.k == DTOK && t.kind == kind) else {
            return (bad_request(ctx, "Request_BadRequest", "The specified delta token is invalid."), 0);
        };
        let replay = match sh.delta_token_faults(
            ctx,
            t.iat,
            format!("{}/{ver}/{}/delta?$deltatoken=", sh.origin, kind.collection()),
        ) {
            Ok(replay) => replay,
            Err(refused) => return (*refused, 0),
        };
        let pos = t.seq.saturating_sub(replay).min(head_now);
        DeltaSkip { k: DSKIP.into(), kind, phase: Phase::Changes { pos }, head: head_now, page: 0, sel: t.sel }
    } else {
        fresh = true;
        let sel = match select_arg(ctx, kind, q) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        let phase = Phase::Initial { after: None, partial: None };
        DeltaSkip { k: DSKIP.into(), kind, phase, head: head_now, page: 0, sel }
    };

    if fresh && sh.faults.lock().map(|f| f.empty_first_page).unwrap_or(false) {
        let next = DeltaSkip { page: state.page + 1, ..state.clone() };
        return finish(sh, ctx, ver, &state, Vec::new(), Some(next));
    }
    let Ok(d) = sh.directory.read() else {
        return (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Directory lock poisoned."), 0);
    };
    let (value, next) = match &state.phase {
        Phase::Initial { after, partial } => {
            let size = page_size(sh, kind, state.head, state.page, 0x1417);
            let page = with_store!(&*d, kind, |s| initial_page(&d, s, *after, partial.clone(), &state.sel, size));
            (page.value, page.next)
        }
        Phase::Changes { pos } => {
            let size = page_size(sh, kind, state.head, state.page, *pos);
            let (value, p) = with_store!(&*d, kind, |s| changes_page(&d, s, *pos, state.head, &state.sel, size));
            (value, (p < state.head).then_some(Phase::Changes { pos: p }))
        }
    };
    drop(d);
    let next = next.map(|phase| DeltaSkip { phase, page: state.page + 1, ..state.clone() });
    finish(sh, ctx, ver, &state, value, next)
}
