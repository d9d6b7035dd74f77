//! The recycle bin: `GET /directory/deletedItems/microsoft.graph.{user|group|application|servicePrincipal}`
//! with each soft-deleted object's `deletedDateTime` (stamped at the mutation that deleted it), paged.

use super::errors::bad_request;
use super::gen::fmt_guid;
use super::http::{json_response, Ctx};
use super::state::Shared;
use super::tenant::Tenant;
use super::tokens::{next_link, requested_top};
use super::users::{Query, Reply};
use chrono::{SecondsFormat, TimeZone, Utc};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;

const DEFAULT_PAGE: usize = 100;

const USER_READ: [&str; 4] = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
/// Least privileged for deleted groups is Group.Read.All (GroupMember.Read.All does not list them).
const GROUP_READ: [&str; 4] =
    ["Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const APP_READ: [&str; 5] = [
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// When each object now in the recycle bin was deleted (simulated unix seconds), by object id.
#[derive(Default)]
pub struct DeletedTimes(Mutex<HashMap<u128, i64>>);

/// Stamps objects that entered the bin with `now` and forgets those that left it (restored or purged).
/// Call after a mutation, with the tenant's write lock held.
pub fn stamp(sh: &Shared, t: &Tenant, now: i64) {
    let mut ids: Vec<u128> = t.soft_deleted_users().map(|u| u.id).collect();
    if let Ok(d) = sh.directory.read() {
        ids.extend(super::directory::soft_ids(&d));
    }
    if let Ok(mut times) = sh.recycle.0.lock() {
        let mut kept: HashMap<u128, i64> = HashMap::with_capacity(ids.len());
        for id in ids {
            kept.insert(id, times.get(&id).copied().unwrap_or(now));
        }
        *times = kept;
    }
}

/// The cast segment (`microsoft.graph.user`, any case) → the bin's type name, if the simulator keeps it.
pub fn cast_of(segment: &str) -> Option<&'static str> {
    let name = segment.strip_prefix("microsoft.graph.").or_else(|| segment.strip_prefix("Microsoft.Graph."))?;
    ["user", "group", "application", "servicePrincipal"].into_iter().find(|c| c.eq_ignore_ascii_case(name))
}

/// Application permissions of which any one allows reading that part of the bin.
pub fn roles(cast: &str) -> &'static [&'static str] {
    match cast {
        "user" => &USER_READ,
        "group" => &GROUP_READ,
        _ => &APP_READ,
    }
}

/// `$skiptoken` of a recycle-bin listing: the original options plus the offset.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct BinSkip {
    k: String, // always "bin"
    cast: String,
    offset: usize,
    top: Option<usize>,
    sel: Option<Vec<String>>,
    desc: Option<bool>,
}

fn unsupported(ctx: &Ctx, msg: &str) -> Reply {
    (bad_request(ctx, "Request_UnsupportedQuery", msg), 0)
}

fn iso(secs: i64) -> String {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The options of a first page: `$top`, `$select`, `$orderby=deletedDateTime [asc|desc]` (an advanced
/// query: `ConsistencyLevel: eventual` and `$count=true`). `$filter` and `$search` are not modelled.
fn first_page(ctx: &Ctx, cast: &str, q: &Query, eventual: bool) -> Result<BinSkip, Box<Reply>> {
    for o in ["$filter", "$search", "$expand"] {
        if q.get(o).is_some() {
            let msg = format!("The query option '{o}' is not supported by this simulator on this resource.");
            return Err(Box::new(unsupported(ctx, &msg)));
        }
    }
    let top = match requested_top(q.get("$top"), 999) {
        Ok(top) => top,
        Err(msg) => return Err(Box::new(unsupported(ctx, &msg))),
    };
    let sel = q
        .get("$select")
        .map(|raw| raw.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect::<Vec<_>>())
        .filter(|v| !v.is_empty());
    let desc = match q.get("$orderby").map(|o| o.split_whitespace().collect::<Vec<_>>()) {
        None => None,
        Some(parts) => {
            let desc = match parts.as_slice() {
                [p] if p.eq_ignore_ascii_case("deletedDateTime") => false,
                [p, d] if p.eq_ignore_ascii_case("deletedDateTime") && d.eq_ignore_ascii_case("asc") => false,
                [p, d] if p.eq_ignore_ascii_case("deletedDateTime") && d.eq_ignore_ascii_case("desc") => true,
                _ => return Err(Box::new(unsupported(ctx, "Unsupported sort property for $orderby."))),
            };
            let counted = q.get("$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
            if !(eventual && counted) {
                let msg = "Sorting by deletedDateTime requires the 'ConsistencyLevel: eventual' header and \
                           $count=true. Refer to https://aka.ms/graph-docs/advanced-queries for more information";
                return Err(Box::new(unsupported(ctx, msg)));
            }
            Some(desc)
        }
    };
    Ok(BinSkip { k: "bin".into(), cast: cast.to_string(), offset: 0, top, sel, desc })
}

/// Every object of the bin type, with `deletedDateTime` and `@odata.type`, ordered by id or by deletion.
fn bin_contents(sh: &Shared, cast: &str, desc: Option<bool>) -> Vec<(i64, u128, Map<String, Value>)> {
    let objects: Vec<(u128, Map<String, Value>)> = if cast == "user" {
        match sh.tenant.read() {
            Ok(t) => t.soft_deleted_users().map(|u| (u.id, u.to_json(&t.meta))).collect(),
            Err(_) => Vec::new(),
        }
    } else {
        match sh.directory.read() {
            Ok(d) => super::directory::bin_objects(&d, cast).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    };
    let times = sh.recycle.0.lock().map(|t| t.clone()).unwrap_or_default();
    let now = sh.now();
    let mut out: Vec<(i64, u128, Map<String, Value>)> = objects
        .into_iter()
        .map(|(id, mut o)| {
            let at = times.get(&id).copied().unwrap_or(now);
            o.insert("@odata.type".into(), json!(format!("#microsoft.graph.{cast}")));
            o.insert("id".into(), json!(fmt_guid(id)));
            o.insert("deletedDateTime".into(), json!(iso(at)));
            (at, id, o)
        })
        .collect();
    match desc {
        None => out.sort_by_key(|(_, id, _)| *id),
        Some(false) => out.sort_by_key(|(at, id, _)| (*at, *id)),
        Some(true) => out.sort_by_key(|(at, id, _)| (std::cmp::Reverse(*at), *id)),
    }
    out
}

/// `GET /directory/deletedItems/microsoft.graph.{cast}`.
pub fn list(sh: &Shared, ctx: &Ctx, ver: &str, cast: &str, q: &Query, eventual: bool) -> Reply {
    let opts = match q.get("$skiptoken") {
        Some(tok) => match sh.sealer.open::<BinSkip>(tok) {
            Some(s) if s.k == "bin" && s.cast == cast => s,
            _ => return (bad_request(ctx, "Request_BadRequest", "Invalid skip token."), 0),
        },
        None => match first_page(ctx, cast, q, eventual) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    let all = bin_contents(sh, cast, opts.desc);
    let size = opts.top.unwrap_or(DEFAULT_PAGE);
    let page: Vec<Value> = all
        .iter()
        .skip(opts.offset)
        .take(size)
        .map(|(_, _, o)| match &opts.sel {
            None => Value::Object(o.clone()),
            Some(sel) => Value::Object(
                o.iter()
                    .filter(|(k, _)| *k == "id" || *k == "@odata.type" || sel.iter().any(|s| s.eq_ignore_ascii_case(k)))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
        })
        .collect();
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(format!("{}/{ver}/$metadata#directoryObjects", sh.origin)));
    let counted = q.get("$count").is_some_and(|c| c.eq_ignore_ascii_case("true"));
    if eventual && counted && opts.offset == 0 {
        body.insert("@odata.count".into(), json!(all.len()));
    }
    let next = opts.offset + page.len();
    if next < all.len() {
        let tok = sh.sealer.seal(&BinSkip { offset: next, ..opts.clone() });
        let prefix = format!("{}/{ver}/directory/deletedItems/microsoft.graph.{cast}?", sh.origin);
        let link = next_link(prefix, opts.sel.as_deref(), opts.top, None, &tok);
        body.insert("@odata.nextLink".into(), json!(link));
    }
    let n = page.len();
    body.insert("value".into(), Value::Array(page));
    (json_response(ctx, StatusCode::OK, &Value::Object(body), true, &[]), n)
}

/// A bin path whose cast the simulator does not keep (or none): Graph requires the cast.
pub fn unknown_cast(ctx: &Ctx, segment: &str) -> Reply {
    let msg = format!(
        "Resource '{segment}' does not exist or one of its queried reference-property objects are not present."
    );
    (bad_request(ctx, "Request_BadRequest", &msg), 0)
}
