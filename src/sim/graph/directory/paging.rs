//! Server-side paging shared by the directory list endpoints (`$top`, `$select`, opaque `$skiptoken`
//! bound to its route) and the rendering of `directoryObject` members / owners with `@odata.type`.

use super::dir::{find, Directory};
use super::model::*;
use super::render::Obj;
use super::tokens::{ListSkip, LIST};
use crate::sim::graph::errors::bad_request;
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::http::{json_response, Ctx};
use crate::sim::graph::state::Shared;
use crate::sim::graph::tenant::Tenant;
use crate::sim::graph::tokens::{next_link, requested_top};
use crate::sim::graph::users::{Query, Reply};
use hyper::StatusCode;
use serde_json::{json, Map, Value};

pub const DEFAULT_PAGE: usize = 100;

/// The options of one page: cursor (from the skip token), `$top`, `$select`.
pub struct Paging {
    pub route: String,
    pub after: Option<String>,
    pub top: Option<usize>,
    pub sel: Option<Vec<String>>,
    pub filter: Option<String>,
    /// `$expand=registeredOwners` (devices only), as given.
    pub expand: Option<String>,
}

/// The related objects one `$expand` returns at most (graph-api.md §2.3).
pub const EXPAND_CAP: usize = 100;

/// Whether `$expand` names a relationship this route can expand: `registeredOwners` (optionally with a
/// nested `$select`) on the devices list.
fn expandable(route: &str, raw: &str) -> bool {
    let name = raw.split('(').next().unwrap_or("").trim();
    route == "devices" && name.eq_ignore_ascii_case("registeredOwners")
}

impl Paging {
    pub fn size(&self) -> usize {
        self.top.unwrap_or(DEFAULT_PAGE)
    }
    pub fn first(&self) -> bool {
        self.after.is_none()
    }

    /// Read the options; `check` validates `$select` (Err = the first unknown property).
    pub fn parse(
        sh: &Shared,
        ctx: &Ctx,
        q: &Query,
        route: &str,
        type_name: &str,
        check: impl Fn(&str) -> Result<Vec<String>, String>,
    ) -> Result<Paging, Box<Reply>> {
        for o in ["$search", "$orderby", "$expand"] {
            if o == "$expand" && q.get(o).is_some_and(|raw| expandable(route, raw)) {
                continue;
            }
            if q.get(o).is_some() {
                let msg = format!("The query option '{o}' is not supported by this simulator on this resource.");
                return Err(Box::new((bad_request(ctx, "Request_UnsupportedQuery", &msg), 0)));
            }
        }
        if let Some(tok) = q.get("$skiptoken") {
            return match sh.sealer.open::<ListSkip>(tok) {
                Some(s) if s.k == LIST && s.route == route => Ok(Paging {
                    route: s.route,
                    after: Some(s.after),
                    top: s.top,
                    sel: s.sel,
                    filter: s.filter,
                    expand: s.expand,
                }),
                _ => Err(Box::new((bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0))),
            };
        }
        let top = match requested_top(q.get("$top"), 999) {
            Ok(top) => top,
            Err(msg) => return Err(Box::new((bad_request(ctx, "Request_UnsupportedQuery", &msg), 0))),
        };
        let sel = match q.get("$select").map(check) {
            None => None,
            Some(Ok(v)) if v.is_empty() => None,
            Some(Ok(v)) => Some(v),
            Some(Err(p)) => {
                let msg = format!("Could not find a property named '{p}' on type 'microsoft.graph.{type_name}'.");
                return Err(Box::new((bad_request(ctx, "Request_BadRequest", &msg), 0)));
            }
        };
        let filter = q.get("$filter").map(str::to_string);
        let expand = q.get("$expand").map(str::to_string);
        Ok(Paging { route: route.to_string(), after: None, top, sel, filter, expand })
    }

    /// The response: context, optional count, `value`, and a nextLink when `next` (the last key) is given.
    pub fn reply(
        &self,
        sh: &Shared,
        ctx: &Ctx,
        ver: &str,
        context: &str,
        (value, next): (Vec<Value>, Option<String>),
        count: Option<usize>,
    ) -> Reply {
        let mut body = Map::new();
        let ctxurl = match &self.sel {
            Some(s) => format!("{}/{ver}/$metadata#{context}({})", sh.origin, s.join(",")),
            None => format!("{}/{ver}/$metadata#{context}", sh.origin),
        };
        body.insert("@odata.context".into(), json!(ctxurl));
        if let Some(c) = count {
            body.insert("@odata.count".into(), json!(c));
        }
        if let Some(after) = next {
            let tok = sh.sealer.seal(&ListSkip {
                k: LIST.into(),
                route: self.route.clone(),
                after,
                top: self.top,
                sel: self.sel.clone(),
                filter: self.filter.clone(),
                expand: self.expand.clone(),
            });
            let prefix = format!("{}/{ver}/{}?", sh.origin, self.route);
            let link = next_link(prefix, self.sel.as_deref(), self.top, self.expand.as_deref(), &tok);
            body.insert("@odata.nextLink".into(), json!(link));
        }
        let n = value.len();
        body.insert("value".into(), Value::Array(value));
        (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
    }
}

/// 400 for a `$filter` on a resource where the simulator does not support one.
pub fn no_filter(ctx: &Ctx, p: &Paging) -> Option<Reply> {
    p.filter.as_ref().map(|_| {
        let msg = "The query option '$filter' is not supported by this simulator on this resource.";
        (bad_request(ctx, "Request_UnsupportedQuery", msg), 0)
    })
}

/// Keep only `sel` (plus `id` and `@odata.type`) of a rendered object.
pub fn restrict(v: Value, sel: Option<&[String]>) -> Value {
    match (v, sel) {
        (Value::Object(o), Some(sel)) => Value::Object(
            o.into_iter().filter(|(k, _)| k == "id" || k.starts_with('@') || sel.iter().any(|s| s == k)).collect(),
        ),
        (v, _) => v,
    }
}

/// A `directoryObject` (member, owner) with its `@odata.type`; properties per `sel` where the type has them.
pub fn render_member(t: &Tenant, d: &Directory, m: &Member, sel: Option<&[String]>) -> Value {
    let mut o: Option<Map<String, Value>> = match m.kind {
        MKind::User => d.users.get(&m.id).and_then(|num| {
            t.users_after(num.checked_sub(1), 1)
                .into_iter()
                .find(|u| u.num == *num)
                .map(|u| u.to_json_selected(&t.meta, sel))
        }),
        MKind::Group => d.groups.live.values().find(|g| g.id == m.id).map(|g| g.render(&d.meta, sel)),
        MKind::Sp => d.sps.live.values().find(|g| g.id == m.id).map(|g| g.render(&d.meta, sel)),
        MKind::Device => d.devices.live.values().find(|g| g.id == m.id).map(|g| g.render(&d.meta, sel)),
        MKind::Contact => d.contacts.live.values().find(|g| g.id == m.id).map(|g| g.render(&d.meta, sel)),
    };
    let mut o = o.take().unwrap_or_else(|| {
        let mut x = Map::new();
        x.insert("id".into(), json!(fmt_guid(m.id)));
        x
    });
    o.insert("@odata.type".into(), json!(m.kind.odata()));
    Value::Object(o)
}

/// The page of a sorted list after the cursor (a hex id): items and whether more follow.
pub fn window<'a, T>(items: &'a [T], key: impl Fn(&T) -> u128, after: Option<&str>, n: usize) -> (&'a [T], bool) {
    let start =
        after.and_then(|a| u128::from_str_radix(a, 16).ok()).map_or(0, |a| items.partition_point(|x| key(x) <= a));
    let end = (start + n).min(items.len());
    (&items[start..end], end < items.len())
}

/// A live object of a type by id string (`None` = 404).
pub fn lookup<'a, T: Obj>(s: &'a Store<T>, key: &str) -> Option<&'a T> {
    find(s, key)
}
