//! Handlers of the non-log endpoints: per-user authentication methods, the registration report, the
//! methods policy, conditional access, PIM schedules, lifecycle workflows, SKUs and extension properties.

use super::super::errors::{bad_request, graph_error, not_found};
use super::super::http::{json_response, Ctx};
use super::super::state::Shared;
use super::super::users::{Query, Reply};
use super::query::{self, Filter};
use super::{extensions, skus, workflows};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

fn ok(ctx: &Ctx, body: Value, n: usize) -> Reply {
    (json_response(ctx, StatusCode::OK, &body, true, &[]), n)
}

fn unavailable(ctx: &Ctx) -> Reply {
    (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Simulator state unavailable."), 0)
}

fn unsupported(ctx: &Ctx, m: &str) -> Reply {
    (bad_request(ctx, "Request_UnsupportedQuery", m), 0)
}

fn collection(sh: &Shared, ver: &str, ctx_path: &str, values: Vec<Value>, next: Option<String>) -> (Value, usize) {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(format!("{}/{ver}/$metadata#{ctx_path}", sh.origin)));
    if let Some(n) = next {
        body.insert("@odata.nextLink".into(), json!(n));
    }
    let n = values.len();
    body.insert("value".into(), Value::Array(values));
    (Value::Object(body), n)
}

/// `GET /users/{id|upn}/authentication/methods[/{methodId}]` (unpaged; no query options).
pub fn auth_methods(sh: &Shared, ctx: &Ctx, ver: &str, key: &str, method: Option<&str>) -> Reply {
    let (Ok(t), Ok(d)) = (sh.tenant.read(), sh.policies.data.read()) else { return unavailable(ctx) };
    let Some(u) = t.find_user(key) else { return (not_found(ctx, key), 0) };
    let methods = d.methods(u);
    let ctx_path = format!("users('{}')/authentication/methods", u.id_str());
    match method {
        None => {
            let (body, n) = collection(sh, ver, &ctx_path, methods, None);
            ok(ctx, body, n)
        }
        Some(mid) => match methods.into_iter().find(|m| m["id"].as_str() == Some(mid)) {
            None => (not_found(ctx, mid), 0),
            Some(mut m) => {
                m["@odata.context"] = json!(format!("{}/{ver}/$metadata#{ctx_path}/$entity", sh.origin));
                ok(ctx, m, 1)
            }
        },
    }
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct RegSkip {
    k: String, // always "reg"
    after: u32,
    top: usize,
    filter: Filter,
    sel: Option<Vec<String>>,
}

/// Default page of the registration report [assume].
pub const REG_PAGE: usize = 200;

/// `GET /reports/authenticationMethods/userRegistrationDetails[/{userId}]`.
pub fn registration_details(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, single: Option<&str>) -> Reply {
    let state = if let Some(tok) = q.get("$skiptoken") {
        match sh.sealer.open::<RegSkip>(tok) {
            Some(s) if s.k == "reg" => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0),
        }
    } else {
        let top = match query::top(q, REG_PAGE, 999) {
            Ok(t) => t,
            Err(m) => return unsupported(ctx, &m),
        };
        let filter = match q.get("$filter").map(|f| Filter::parse(f, None)) {
            None => Filter::default(),
            Some(Ok(f)) => f,
            Some(Err(m)) => return unsupported(ctx, &m),
        };
        RegSkip { k: "reg".into(), after: 0, top, filter, sel: query::select(q) }
    };
    let (Ok(t), Ok(d)) = (sh.tenant.read(), sh.policies.data.read()) else { return unavailable(ctx) };
    let admins = d.admin_ids();
    let row = |u: &super::super::model::UserRec| {
        let methods = d.methods(u);
        super::authmethods::registration_row(&t.meta, u, &methods, d.methods_updated(u), admins.contains(&u.id_str()))
    };
    if let Some(id) = single {
        return match t.find_user(id) {
            None => (not_found(ctx, id), 0),
            Some(u) => {
                let mut v = row(u);
                v["@odata.context"] = json!(format!(
                    "{}/{ver}/$metadata#reports/authenticationMethods/userRegistrationDetails/$entity",
                    sh.origin
                ));
                ok(ctx, v, 1)
            }
        };
    }
    let mut values = Vec::new();
    let mut after = Some(state.after).filter(|a| *a > 0);
    let mut last_num = None;
    let mut next = None;
    'scan: loop {
        let users = t.users_after(after, 500);
        if users.is_empty() {
            break;
        }
        for u in users {
            after = Some(u.num);
            let v = row(u);
            if !state.filter.matches(&v) {
                continue;
            }
            if values.len() == state.top {
                next = last_num;
                break 'scan;
            }
            last_num = Some(u.num);
            values.push(query::project(v, state.sel.as_deref()));
        }
    }
    let link = next.map(|num| {
        let tok = sh.sealer.seal(&RegSkip { after: num, ..state.clone() });
        format!("{}/{ver}/reports/authenticationMethods/userRegistrationDetails?$skiptoken={tok}", sh.origin)
    });
    let (body, n) = collection(sh, ver, "reports/authenticationMethods/userRegistrationDetails", values, link);
    ok(ctx, body, n)
}

/// `GET /policies/authenticationMethodsPolicy`.
pub fn methods_policy(sh: &Shared, ctx: &Ctx, ver: &str) -> Reply {
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let mut v = d.methods_policy.clone();
    v["@odata.context"] = json!(format!("{}/{ver}/$metadata#authenticationMethodsPolicy", sh.origin));
    ok(ctx, v, 1)
}

/// `GET /identity/conditionalAccess/policies[/{id}]` with `$top`/`$skip`/`$select`; `empty` on an
/// unlicensed tenant configured to answer an empty list.
pub fn ca_policies(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, id: Option<&str>, empty: bool) -> Reply {
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let ctx_path = "identity/conditionalAccess/policies";
    if let Some(id) = id {
        return match d.ca.iter().find(|p| p["id"].as_str() == Some(id)).filter(|_| !empty) {
            None => (not_found(ctx, id), 0),
            Some(p) => {
                let mut p = p.clone();
                p["@odata.context"] = json!(format!("{}/{ver}/$metadata#{ctx_path}/$entity", sh.origin));
                ok(ctx, p, 1)
            }
        };
    }
    let top = match q.get("$top") {
        None => None,
        Some(_) => match query::top(q, 999, 999) {
            Ok(t) => Some(t),
            Err(m) => return unsupported(ctx, &m),
        },
    };
    let skip = match q.get("$skip").map(|s| s.trim().parse::<usize>()) {
        None => 0,
        Some(Ok(s)) => s,
        Some(Err(_)) => return unsupported(ctx, "Invalid value for $skip."),
    };
    let sel = query::select(q);
    let all: &[Value] = if empty { &[] } else { &d.ca };
    let page: Vec<Value> = all
        .iter()
        .skip(skip)
        .take(top.unwrap_or(usize::MAX))
        .map(|p| query::project(p.clone(), sel.as_deref()))
        .collect();
    let next = top.filter(|t| skip + t < all.len()).map(|t| {
        let mut link = format!("{}/{ver}/{ctx_path}?", sh.origin);
        if let Some(s) = &sel {
            link.push_str(&format!("$select={}&", s.join(",")));
        }
        link.push_str(&format!("$top={t}&$skip={}", skip + t));
        link
    });
    let (body, n) = collection(sh, ver, ctx_path, page, next);
    ok(ctx, body, n)
}

#[derive(Serialize, Deserialize, Debug, Clone)]
struct IdSkip {
    k: String, // always "ids"
    list: String,
    after: String,
    top: usize,
    sel: Option<Vec<String>>,
    expand: bool,
}

/// A collection ordered by `id`, paged with a sealed cursor (stable under concurrent changes).
#[allow(clippy::too_many_arguments)]
fn paged_by_id(
    sh: &Shared,
    ctx: &Ctx,
    ver: &str,
    q: &Query,
    path: &str,
    items: &[Value],
    default_top: usize,
    render: impl Fn(&Value, bool) -> Value,
) -> Reply {
    let state = if let Some(tok) = q.get("$skiptoken") {
        match sh.sealer.open::<IdSkip>(tok) {
            Some(s) if s.k == "ids" && s.list == path => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0),
        }
    } else {
        let top = match query::top(q, default_top, 999) {
            Ok(t) => t,
            Err(m) => return unsupported(ctx, &m),
        };
        let expand = match q.get("$expand") {
            None => false,
            Some(e) if e.split(',').all(|p| p.trim().eq_ignore_ascii_case("tasks")) && path.ends_with("workflows") => {
                true
            }
            Some(e) => return unsupported(ctx, &format!("Expanding '{e}' is not supported by this simulator.")),
        };
        IdSkip { k: "ids".into(), list: path.into(), after: String::new(), top, sel: query::select(q), expand }
    };
    let mut sorted: Vec<&Value> =
        items.iter().filter(|v| v["id"].as_str().unwrap_or("") > state.after.as_str()).collect();
    sorted.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    let more = sorted.len() > state.top;
    sorted.truncate(state.top);
    let next = more.then(|| {
        let after = sorted.last().and_then(|v| v["id"].as_str()).unwrap_or("").to_string();
        format!("{}/{ver}/{path}?$skiptoken={}", sh.origin, sh.sealer.seal(&IdSkip { after, ..state.clone() }))
    });
    let values = sorted.into_iter().map(|v| query::project(render(v, state.expand), state.sel.as_deref())).collect();
    let (body, n) = collection(sh, ver, path, values, next);
    ok(ctx, body, n)
}

fn single(
    sh: &Shared,
    ctx: &Ctx,
    ver: &str,
    path: &str,
    items: &[Value],
    id: &str,
    render: impl Fn(&Value) -> Value,
) -> Reply {
    match items.iter().find(|v| v["id"].as_str() == Some(id)) {
        None => (not_found(ctx, id), 0),
        Some(v) => {
            let mut v = render(v);
            v["@odata.context"] = json!(format!("{}/{ver}/$metadata#{path}/$entity", sh.origin));
            ok(ctx, v, 1)
        }
    }
}

/// `GET /roleManagement/directory/roleEligibilitySchedules[/{id}]`.
pub fn pim(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, id: Option<&str>) -> Reply {
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let path = "roleManagement/directory/roleEligibilitySchedules";
    match id {
        Some(id) => single(sh, ctx, ver, path, &d.pim, id, Value::clone),
        None => paged_by_id(sh, ctx, ver, q, path, &d.pim, 100, |v, _| v.clone()),
    }
}

/// `GET /identityGovernance/lifecycleWorkflows/workflows[/{id}[/tasks]]` (`$expand=tasks` on the list).
pub fn lifecycle(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, id: Option<&str>, tasks: bool) -> Reply {
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let path = "identityGovernance/lifecycleWorkflows/workflows";
    match (id, tasks) {
        (None, _) => paged_by_id(sh, ctx, ver, q, path, &d.workflows, 100, workflows::listed),
        (Some(id), false) => {
            let expand = q.get("$expand").is_some_and(|e| e.eq_ignore_ascii_case("tasks"));
            single(sh, ctx, ver, path, &d.workflows, id, |w| workflows::listed(w, expand))
        }
        (Some(id), true) => match d.workflows.iter().find(|w| w["id"].as_str() == Some(id)) {
            None => (not_found(ctx, id), 0),
            Some(w) => {
                let tasks = w["tasks"].as_array().cloned().unwrap_or_default();
                let (body, n) = collection(sh, ver, &format!("{path}('{id}')/tasks"), tasks, None);
                ok(ctx, body, n)
            }
        },
    }
}

/// `GET /subscribedSkus` (unpaged; `$select` only).
pub fn subscribed_skus(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    if q.get("$filter").is_some() || q.get("$top").is_some() {
        return unsupported(ctx, "The query options $filter and $top are not supported on subscribedSkus.");
    }
    let values = super::skus_now(sh);
    let sel = query::select(q);
    let values = values.into_iter().map(|v| query::project(v, sel.as_deref())).collect();
    let (body, n) = collection(sh, ver, "subscribedSkus", values, None);
    ok(ctx, body, n)
}

/// Whether `getAvailableExtensionProperties` hits the documented known issue (> 1,000 service
/// principals; counted with the contract's formula) or is forced to.
pub fn extensions_empty(sh: &Shared) -> bool {
    let forced = sh.policies.knobs.read().ok().and_then(|k| k.extension_properties_empty);
    forced.unwrap_or_else(|| {
        let users = sh.opts.users;
        (users / 20 + 5) * 2 + 10 > 1000
    })
}

/// `POST /directoryObjects/getAvailableExtensionProperties` with `{}` or `{"isSyncedFromOnPremises": bool}`.
pub fn available_extensions(sh: &Shared, ctx: &Ctx, ver: &str, body: &[u8]) -> Reply {
    let req: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return (bad_request(ctx, "Request_BadRequest", "Invalid request body: a JSON object is expected."), 0)
            }
        }
    };
    let synced = match req.get("isSyncedFromOnPremises") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return (bad_request(ctx, "Request_BadRequest", "Invalid value for property 'isSyncedFromOnPremises'."), 0)
        }
    };
    let truncate = match sh.policies.knobs.write() {
        Ok(mut k) if k.extension_properties_truncated > 0 => {
            k.extension_properties_truncated -= 1;
            true
        }
        _ => false,
    };
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let values: Vec<Value> = if extensions_empty(sh) {
        Vec::new()
    } else {
        d.ext_defs
            .iter()
            .filter(|e| synced.is_none_or(|s| e.synced == s))
            .map(|e| extensions::render(e, &d.ext_apps))
            .collect()
    };
    let (body, n) = collection(sh, ver, "Collection(extensionProperty)", values, None);
    let whole = truncate.then(|| serde_json::to_vec(&body).unwrap_or_default());
    let (mut resp, n) = ok(ctx, body, n);
    if let Some(whole) = whole {
        let cut = whole.len() / 2;
        *resp.body_mut() = http_body_util::Full::new(bytes::Bytes::copy_from_slice(&whole[..cut]));
    }
    (resp, n)
}

/// `GET /applications/{id}/extensionProperties` (`$filter=name eq '…'`).
pub fn app_extensions(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, app: &str) -> Reply {
    let filter = match q.get("$filter").map(|f| Filter::parse(f, None)) {
        None => Filter::default(),
        Some(Ok(f)) => f,
        Some(Err(m)) => return unsupported(ctx, &m),
    };
    let Ok(d) = sh.policies.data.read() else { return unavailable(ctx) };
    let found = extensions::find_app(&d.ext_apps, app);
    if found.is_none() && super::super::gen::parse_guid(app).is_none() {
        return (not_found(ctx, app), 0);
    }
    // An application that owns no extension (the directory part owns the other apps) lists none.
    let values: Vec<Value> = match found {
        None => Vec::new(),
        Some((i, _)) => d
            .ext_defs
            .iter()
            .filter(|e| e.app == i)
            .map(|e| extensions::render(e, &d.ext_apps))
            .filter(|v| filter.matches(v))
            .collect(),
    };
    let key = found.map(|(_, a)| a.object_id.clone()).unwrap_or_else(|| app.to_string());
    let (body, n) = collection(sh, ver, &format!("applications('{key}')/extensionProperties"), values, None);
    ok(ctx, body, n)
}

pub fn skus_render(sh: &Shared, t: &super::super::tenant::Tenant, prepaid: &[usize]) -> Vec<Value> {
    let mut consumed = vec![0usize; t.meta.skus.len()];
    for u in t.users_after(None, usize::MAX) {
        for (i, c) in consumed.iter_mut().enumerate() {
            *c += usize::from(u.lic & (1 << i) != 0);
        }
    }
    skus::render(sh.opts.seed, &t.meta, sh.opts.licence, &consumed, prepaid)
}
