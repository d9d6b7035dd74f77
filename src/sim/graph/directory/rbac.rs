//! Unified RBAC reads: `GET /roleManagement/directory/roleDefinitions` (built-in catalogue plus custom
//! roles) and `/roleAssignments` (derived from directory role members plus custom ones), both paged.

use super::dir::Directory;
use super::paging::Paging;
use super::words::{APP_ROLE_WORDS, ROLE_TEMPLATES};
use crate::sim::graph::errors::{bad_request, graph_error};
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::http::Ctx;
use crate::sim::graph::state::Shared;
use crate::sim::graph::users::{Query, Reply};
use hyper::StatusCode;
use serde_json::{json, Value};

const DEF_PROPS: [&str; 9] = [
    "id",
    "displayName",
    "description",
    "isBuiltIn",
    "isEnabled",
    "templateId",
    "version",
    "resourceScopes",
    "rolePermissions",
];
const ASSIGN_PROPS: [&str; 4] = ["id", "principalId", "roleDefinitionId", "directoryScopeId"];

/// Every role definition, sorted by id.
pub fn definitions(d: &Directory) -> Vec<Value> {
    let mut out: Vec<Value> = ROLE_TEMPLATES
        .iter()
        .map(|(id, name, desc)| {
            let area = name.split_whitespace().next().unwrap_or("directory").to_lowercase();
            json!({
                "id": id,
                "displayName": name,
                "description": desc,
                "isBuiltIn": true,
                "isEnabled": true,
                "templateId": id,
                "version": "1",
                "resourceScopes": ["/"],
                "rolePermissions": [{
                    "allowedResourceActions": [format!("microsoft.directory/{area}/standard/read")],
                    "condition": null,
                }],
            })
        })
        .collect();
    out.extend(d.custom_roles.iter().map(|c| {
        let (_, word) = APP_ROLE_WORDS[c.word as usize % APP_ROLE_WORDS.len()];
        json!({
            "id": fmt_guid(c.id),
            "displayName": format!("Sim Custom {word} Role"),
            "description": "A custom role of the simulated tenant.",
            "isBuiltIn": false,
            "isEnabled": true,
            "templateId": fmt_guid(c.id),
            "version": null,
            "resourceScopes": ["/"],
            "rolePermissions": [{
                "allowedResourceActions": ["microsoft.directory/applications/basic/update"],
                "condition": null,
            }],
        })
    }));
    out.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    out
}

/// Every role assignment (`id`, `principalId`, `roleDefinitionId`, `directoryScopeId`), sorted by id.
pub fn assignments(d: &Directory) -> Vec<Value> {
    d.role_assignments()
        .into_iter()
        .map(|(id, principal, def)| {
            json!({"id": id, "principalId": fmt_guid(principal), "roleDefinitionId": def, "directoryScopeId": "/"})
        })
        .collect()
}

fn check(props: &'static [&'static str]) -> impl Fn(&str) -> Result<Vec<String>, String> {
    move |raw| super::render::parse_select(raw, props, false)
}

/// Parse `prop eq 'value'` clauses joined by `and` (only `roleDefinitionId` and `principalId`).
fn parse_filter(f: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for clause in f.split(" and ") {
        let mut parts = clause.trim().splitn(3, ' ');
        let (prop, op, val) = (parts.next()?, parts.next()?, parts.next()?);
        let prop = ["roleDefinitionId", "principalId"].into_iter().find(|p| p.eq_ignore_ascii_case(prop))?;
        if !op.eq_ignore_ascii_case("eq") {
            return None;
        }
        let val = val.trim().strip_prefix('\'')?.strip_suffix('\'')?;
        out.push((prop.to_string(), val.to_ascii_lowercase()));
    }
    Some(out)
}

fn serve(sh: &Shared, ctx: &Ctx, ver: &str, p: &Paging, all: Vec<Value>, context: &str) -> Reply {
    let start = p.after.as_deref().map_or(0, |a| all.partition_point(|v| v["id"].as_str().unwrap_or("") <= a));
    let end = (start + p.size()).min(all.len());
    let slice = &all[start..end];
    let next = slice.last().filter(|_| end < all.len()).and_then(|v| v["id"].as_str()).map(str::to_string);
    let value = slice.iter().map(|v| super::paging::restrict(v.clone(), p.sel.as_deref())).collect();
    p.reply(sh, ctx, ver, context, (value, next), None)
}

pub fn role_definitions(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    let route = "roleManagement/directory/roleDefinitions";
    let p = match Paging::parse(sh, ctx, q, route, "unifiedRoleDefinition", check(&DEF_PROPS)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Some(r) = super::paging::no_filter(ctx, &p) {
        return r;
    }
    let Ok(d) = sh.directory.read() else {
        return (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Directory lock poisoned."), 0);
    };
    let all = definitions(&d);
    drop(d);
    serve(sh, ctx, ver, &p, all, route)
}

pub fn role_assignments(sh: &Shared, ctx: &Ctx, ver: &str, q: &Query) -> Reply {
    let route = "roleManagement/directory/roleAssignments";
    let p = match Paging::parse(sh, ctx, q, route, "unifiedRoleAssignment", check(&ASSIGN_PROPS)) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let filter = match p.filter.as_deref().map(parse_filter) {
        None => Vec::new(),
        Some(Some(f)) => f,
        Some(None) => {
            let msg = "Unsupported or invalid query filter clause specified for resource 'unifiedRoleAssignment'.";
            return (bad_request(ctx, "Request_UnsupportedQuery", msg), 0);
        }
    };
    let Ok(d) = sh.directory.read() else {
        return (graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "Directory lock poisoned."), 0);
    };
    let mut all = assignments(&d);
    drop(d);
    all.retain(|v| filter.iter().all(|(k, val)| v[k].as_str().is_some_and(|s| s.eq_ignore_ascii_case(val))));
    serve(sh, ctx, ver, &p, all, route)
}
