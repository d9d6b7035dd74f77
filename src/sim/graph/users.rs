//! Graph user endpoints: `GET /users` (paged list), `/users/delta` (+ long form), `/users/{id}`,
//! and `/organization`. Delta rounds walk live users first, then the tenant's change log.

use super::errors::{bad_request, graph_error, not_found};
use super::gen::Mix;
use super::http::{json_response, Ctx, Resp};
use super::model::parse_select;
use super::state::Shared;
use super::tenant::ChangeEntry;
use super::tokens::{next_link, requested_top, DeltaPhase, DeltaSkip, DeltaTok, ListSkip};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

/// Decoded query string (`$`-prefixed names; the bare form `select` is accepted too).
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()).into_owned().collect())
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        let bare = name.trim_start_matches('$');
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name) || k.eq_ignore_ascii_case(bare))
            .map(|(_, v)| v.as_str())
    }
}

/// A handler's answer plus the number of objects it returned (for the latency model and stats).
pub type Reply = (Resp, usize);

fn unsupported_options(ctx: &Ctx, q: &Query, opts: &[&str]) -> Option<Resp> {
    for o in opts {
        if q.get(o).is_some() {
            return Some(bad_request(
                ctx,
                "Request_UnsupportedQuery",
                &format!("The query option '{o}' is not supported by this simulator on this resource."),
            ));
        }
    }
    None
}

fn select_param(ctx: &Ctx, q: &Query) -> Result<Option<Vec<String>>, Box<Resp>> {
    match q.get("$select") {
        None => Ok(None),
        Some(raw) => match parse_select(raw) {
            Ok(v) if v.is_empty() => Ok(None),
            Ok(v) => Ok(Some(v)),
            Err(p) => Err(Box::new(bad_request(
                ctx,
                "Request_BadRequest",
                &format!("Could not find a property named '{p}' on type 'microsoft.graph.user'."),
            ))),
        },
    }
}

fn context_url(sh: &Shared, ver: &str, sel: &Option<Vec<String>>) -> String {
    match sel {
        Some(s) => format!("{}/{ver}/$metadata#users({})", sh.origin, s.join(",")),
        None => format!("{}/{ver}/$metadata#users", sh.origin),
    }
}

/// RU cost of a users request (§4.3): 2, −1 with `$select`, −1 with `$top` < 20, at least 1.
pub fn users_ru(sh: &Shared, q: &Query, delta: bool) -> u32 {
    let mut selected = q.get("$select").is_some();
    let mut small_top = q.get("$top").and_then(|t| t.parse::<usize>().ok()).is_some_and(|t| t < 20);
    if let Some(tok) = q.get("$skiptoken") {
        if delta {
            selected = sh.sealer.open::<DeltaSkip>(tok).is_some_and(|s| s.sel.is_some());
        } else if let Some(s) = sh.sealer.open::<ListSkip>(tok) {
            selected = s.sel.is_some();
            small_top = s.top.is_some_and(|t| t < 20);
        }
    } else if let Some(tok) = q.get("$deltatoken") {
        if let Some(t) = sh.sealer.open::<DeltaTok>(tok) {
            selected = t.sel.is_some();
        }
    }
    let mut cost: i32 = 2;
    if selected {
        cost -= 1;
    }
    if small_top && !delta {
        cost -= 1;
    }
    cost.max(1) as u32
}

/// `GET /users`.
pub fn list_users(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, eventual: bool) -> Reply {
    if let Some(r) = unsupported_options(ctx, q, &["$filter", "$search", "$orderby", "$expand"]) {
        return (r, 0);
    }
    let (after, top, sel) = if let Some(tok) = q.get("$skiptoken") {
        match sh.sealer.open::<ListSkip>(tok) {
            Some(s) if s.k == "list" => (Some(s.after), s.top, s.sel),
            _ => return (bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0),
        }
    } else {
        let top = match requested_top(q.get("$top"), 999) {
            Ok(top) => top,
            Err(msg) => return (bad_request(ctx, "Request_UnsupportedQuery", &msg), 0),
        };
        let sel = match select_param(ctx, q) {
            Ok(s) => s,
            Err(r) => return (*r, 0),
        };
        (None, top, sel)
    };
    let Ok(t) = sh.tenant.read() else {
        return (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Tenant lock poisoned."), 0);
    };
    let users = t.users_after(after, top.unwrap_or(100));
    let value: Vec<Value> = users.iter().map(|u| Value::Object(u.to_json_selected(&t.meta, sel.as_deref()))).collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context_url(sh, ver, &sel)));
    if after.is_none() && eventual && q.get("$count").is_some_and(|c| c.eq_ignore_ascii_case("true")) {
        body.insert("@odata.count".into(), json!(t.user_count()));
    }
    if let Some(last) = users.last().map(|u| u.num) {
        if t.has_users_after(last) {
            let tok = sh.sealer.seal(&ListSkip { k: "list".into(), after: last, top, sel: sel.clone() });
            let link = next_link(format!("{}/{ver}/users?", sh.origin), sel.as_deref(), top, None, &tok);
            body.insert("@odata.nextLink".into(), json!(link));
        }
    }
    let n = value.len();
    body.insert("value".into(), Value::Array(value));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}

/// `GET /users/{id | userPrincipalName}`.
pub fn get_user(sh: &Shared, ctx: &Ctx, ver: &str, key: &str, q: &Query) -> Reply {
    let sel = match select_param(ctx, q) {
        Ok(s) => s,
        Err(r) => return (*r, 0),
    };
    let Ok(t) = sh.tenant.read() else {
        return (not_found(ctx, key), 0);
    };
    match t.find_user(key) {
        None => (not_found(ctx, key), 0),
        Some(u) => {
            let mut o = u.to_json_selected(&t.meta, sel.as_deref());
            let ctxurl = match &sel {
                Some(s) => format!("{}/{ver}/$metadata#users({})/$entity", sh.origin, s.join(",")),
                None => format!("{}/{ver}/$metadata#users/$entity", sh.origin),
            };
            o.insert("@odata.context".into(), json!(ctxurl));
            (json_response(ctx, StatusCode::OK, &Value::Object(o), true, &[]), 1)
        }
    }
}

/// `GET /organization`.
pub fn organization(sh: &Shared, ctx: &Ctx, ver: &str) -> Reply {
    let Ok(t) = sh.tenant.read() else {
        return (not_found(ctx, "organization"), 0);
    };
    let m = &t.meta;
    let org = json!({
        "id": m.tenant_id,
        "deletedDateTime": null,
        "displayName": m.display_name,
        "countryLetterCode": "US",
        "tenantType": "AAD",
        "createdDateTime": super::model::fmt_time(m.created),
        "preferredLanguage": "en",
        "verifiedDomains": [{
            "capabilities": "Email, OfficeCommunicationsOnline",
            "isDefault": true,
            "isInitial": true,
            "name": m.domain,
            "type": "Managed"
        }],
        "onPremisesSyncEnabled": true,
        "assignedPlans": [],
    });
    let body = json!({
        "@odata.context": format!("{}/{ver}/$metadata#organization", sh.origin),
        "value": [org],
    });
    (json_response(ctx, StatusCode::OK, &body, true, &[]), 1)
}

fn page_size(sh: &Shared, head: u64, page: u32, salt: u64) -> usize {
    let lo = sh.opts.page_min.max(1);
    let hi = sh.opts.page_max.max(lo);
    let mut r = Mix::new(sh.opts.seed ^ head.rotate_left(20) ^ salt, page as u64);
    lo + r.below((hi - lo + 1) as u64) as usize
}

/// `GET /users/delta` and `/users/microsoft.graph.delta`.
pub fn delta(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    if let Some(r) = unsupported_options(ctx, q, &["$filter", "$search", "$orderby", "$expand"]) {
        return (r, 0);
    }
    let head_now = match sh.tenant.read() {
        Ok(t) => t.head(),
        Err(_) => 0,
    };
    let fresh;
    let state = if let Some(tok) = q.get("$skiptoken") {
        fresh = false;
        match sh.sealer.open::<DeltaSkip>(tok) {
            Some(s) if s.k == "dskip" => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "The specified skip token is invalid."), 0),
        }
    } else if let Some(tok) = q.get("$deltatoken") {
        fresh = true;
        if tok.eq_ignore_ascii_case("latest") {
            let sel = match select_param(ctx, q) {
                Ok(s) => s,
                Err(r) => return (*r, 0),
            };
            return finish_page(sh, ctx, ver, &sel, Vec::new(), head_now, None);
        }
        let Some(t) = sh.sealer.open::<DeltaTok>(tok).filter(|t| t.k == "dtok") else {
            return (bad_request(ctx, "Request_BadRequest", "The specified delta token is invalid."), 0);
        };
        let location = format!("{}/{ver}/users/delta?$deltatoken=", sh.origin);
        let replay = match sh.delta_token_faults(ctx, t.iat, location) {
            Ok(replay) => replay,
            Err(refused) => return (*refused, 0),
        };
        DeltaSkip {
            k: "dskip".into(),
            phase: DeltaPhase::Changes { pos: t.seq.saturating_sub(replay).min(head_now) },
            head: head_now,
            page: 0,
            sel: t.sel,
        }
    } else {
        fresh = true;
        let sel = match select_param(ctx, q) {
            Ok(s) => s,
            Err(r) => return (*r, 0),
        };
        DeltaSkip { k: "dskip".into(), phase: DeltaPhase::Initial { after: None }, head: head_now, page: 0, sel }
    };

    let empty_first = sh.faults.lock().map(|f| f.empty_first_page).unwrap_or(false);
    if fresh && empty_first {
        let next = DeltaSkip { page: state.page + 1, ..state.clone() };
        return finish_page(sh, ctx, ver, &state.sel, Vec::new(), state.head, Some(next));
    }

    let Ok(t) = sh.tenant.read() else {
        return (not_found(ctx, "users"), 0);
    };
    let sel = state.sel.clone();
    match state.phase {
        DeltaPhase::Initial { after } => {
            let size = page_size(sh, state.head, state.page, 0x1417);
            let users = t.users_after(after, size);
            let value: Vec<Value> =
                users.iter().map(|u| Value::Object(u.to_json_selected(&t.meta, sel.as_deref()))).collect();
            let next = users.last().map(|u| u.num).filter(|n| t.has_users_after(*n)).map(|n| DeltaSkip {
                phase: DeltaPhase::Initial { after: Some(n) },
                page: state.page + 1,
                ..state.clone()
            });
            drop(t);
            finish_page(sh, ctx, ver, &sel, value, state.head, next)
        }
        DeltaPhase::Changes { pos } => {
            let size = page_size(sh, state.head, state.page, pos);
            let (entries, new_pos) = t.changes(pos, state.head, size);
            let value: Vec<Value> = entries
                .into_iter()
                .map(|e| match e {
                    ChangeEntry::Live(u) => Value::Object(u.to_json_selected(&t.meta, sel.as_deref())),
                    ChangeEntry::Removed { id, reason } => json!({
                        "id": super::gen::fmt_guid(id),
                        "@removed": {"reason": reason},
                    }),
                })
                .collect();
            let next = (new_pos < state.head).then(|| DeltaSkip {
                phase: DeltaPhase::Changes { pos: new_pos },
                page: state.page + 1,
                ..state.clone()
            });
            drop(t);
            finish_page(sh, ctx, ver, &sel, value, state.head, next)
        }
    }
}

/// Build a delta page: `next` = Some → nextLink, None → deltaLink at `head`.
fn finish_page(
    sh: &Shared,
    ctx: &Ctx,
    ver: &str,
    sel: &Option<Vec<String>>,
    value: Vec<Value>,
    head: u64,
    next: Option<DeltaSkip>,
) -> Reply {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context_url(sh, ver, sel)));
    let base = format!("{}/{ver}/users/delta", sh.origin);
    match next {
        Some(s) => {
            let tok = sh.sealer.seal(&s);
            body.insert("@odata.nextLink".into(), json!(format!("{base}?$skiptoken={tok}")));
        }
        None => {
            let tok = sh.sealer.seal(&DeltaTok { k: "dtok".into(), seq: head, sel: sel.clone(), iat: sh.now() });
            body.insert("@odata.deltaLink".into(), json!(format!("{base}?$deltatoken={tok}")));
        }
    }
    let n = value.len();
    body.insert("value".into(), Value::Array(value));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}
