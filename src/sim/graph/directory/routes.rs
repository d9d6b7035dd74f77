//! Routing of the directory endpoints for the server's pipeline: path → `Endpoint`, with its stats
//! label, RU cost (graph-api.md §4.3), required application permissions, and handler.

use super::model::Kind;
use super::tokens::{DeltaSkip, DeltaTok, ListSkip};
use super::{assign_delta, delta, lists, rbac};
use crate::sim::graph::http::Ctx;
use crate::sim::graph::state::Shared;
use crate::sim::graph::users::{Query, Reply};

const GROUP_READ: [&str; 5] =
    ["Group.Read.All", "GroupMember.Read.All", "Directory.Read.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"];
const ROLE_READ: [&str; 4] = [
    "RoleManagement.Read.Directory",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
];
const APP_READ: [&str; 5] = [
    "Application.Read.All",
    "Directory.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.ReadWrite.All",
];
const DEVICE_READ: [&str; 4] =
    ["Device.Read.All", "Directory.Read.All", "Device.ReadWrite.All", "Directory.ReadWrite.All"];
const CONTACT_READ: [&str; 3] = ["OrgContact.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"];
/// `directoryObjects/delta` for app role assignments (graph-api.md §8.9: `User.Read.All`).
const ASSIGNMENT_DELTA_READ: [&str; 4] =
    ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];

/// A resolved directory route.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint<'a> {
    List(Kind),
    Delta(Kind),
    Get(Kind, &'a str),
    Members(Kind, &'a str),
    Owners(&'a str),
    AssignedTo(&'a str),
    SpAssignments(&'a str),
    RoleDefinitions,
    RoleAssignments,
    /// `directoryObjects/delta` (app role assignments only).
    ObjectsDelta,
}

fn kind_of(seg: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.collection() == seg)
}

/// `directoryRoles(roleTemplateId='…')` → the key understood by `Directory::find_role`.
fn role_by_template(seg: &str) -> Option<&str> {
    seg.strip_prefix("directoryRoles").filter(|r| r.starts_with("(roleTemplateId="))
}

/// Map the path after `/v1.0|beta/` to a directory endpoint.
pub fn resolve<'a>(rest: &[&'a str]) -> Option<Endpoint<'a>> {
    use Endpoint::*;
    if let Some(key) = rest.first().and_then(|s| role_by_template(s)) {
        return match rest {
            [_] => Some(Get(Kind::Role, key)),
            [_, "members"] => Some(Members(Kind::Role, key)),
            _ => None,
        };
    }
    Some(match rest {
        ["roleManagement", "directory", "roleDefinitions"] => RoleDefinitions,
        ["roleManagement", "directory", "roleAssignments"] => RoleAssignments,
        ["directoryObjects", "delta" | "microsoft.graph.delta"] => ObjectsDelta,
        [c] => List(kind_of(c)?),
        [c, "delta" | "microsoft.graph.delta"] => Delta(kind_of(c)?),
        [c, id] => Get(kind_of(c)?, id),
        ["groups", id, "members"] => Members(Kind::Group, id),
        ["directoryRoles", id, "members"] => Members(Kind::Role, id),
        ["devices", id, "registeredOwners"] => Owners(id),
        ["servicePrincipals", id, "appRoleAssignedTo"] => AssignedTo(id),
        ["servicePrincipals", id, "appRoleAssignments"] => SpAssignments(id),
        _ => return None,
    })
}

impl Endpoint<'_> {
    /// Route label for `/_sim/stats`.
    pub fn label(&self, ver: &str) -> String {
        use Endpoint::*;
        let path = match self {
            List(k) => k.collection().to_string(),
            Delta(k) => format!("{}/delta", k.collection()),
            Get(k, _) => format!("{}/{{id}}", k.collection()),
            Members(k, _) => format!("{}/{{id}}/members", k.collection()),
            Owners(_) => "devices/{id}/registeredOwners".into(),
            AssignedTo(_) => "servicePrincipals/{id}/appRoleAssignedTo".into(),
            SpAssignments(_) => "servicePrincipals/{id}/appRoleAssignments".into(),
            RoleDefinitions => "roleManagement/directory/roleDefinitions".into(),
            RoleAssignments => "roleManagement/directory/roleAssignments".into(),
            ObjectsDelta => "directoryObjects/delta".into(),
        };
        format!("GET /{ver}/{path}")
    }

    /// Application permissions of which any one grants the read.
    pub fn roles(&self) -> &'static [&'static str] {
        use Endpoint::*;
        let kind = match self {
            ObjectsDelta => return &ASSIGNMENT_DELTA_READ,
            List(k) | Delta(k) | Get(k, _) | Members(k, _) => *k,
            Owners(_) => Kind::Device,
            AssignedTo(_) | SpAssignments(_) => Kind::Sp,
            RoleDefinitions | RoleAssignments => Kind::Role,
        };
        match kind {
            Kind::Group => &GROUP_READ,
            Kind::Role => &ROLE_READ,
            Kind::App | Kind::Sp => &APP_READ,
            Kind::Device => &DEVICE_READ,
            Kind::Contact => &CONTACT_READ,
        }
    }

    /// RU cost: base per path, −1 with `$select`, +1 with `$expand`, −1 with `$top` < 20; at least 1.
    /// Options carried inside a skip or delta token count as given.
    pub fn ru(&self, sh: &Shared, q: &Query) -> u32 {
        use Endpoint::*;
        let base: i32 = match self {
            List(Kind::App) | Delta(Kind::App) => 2,
            Members(Kind::Group, _) => 3,
            SpAssignments(_) => 2,
            _ => 1,
        };
        let is_delta = matches!(self, Delta(_) | ObjectsDelta);
        let mut selected = q.get("$select").is_some();
        let mut expanded = q.get("$expand").is_some();
        let mut top = q.get("$top").and_then(|t| t.trim().parse::<usize>().ok());
        if let Some(tok) = q.get("$skiptoken") {
            if is_delta {
                selected = sh.sealer.open::<DeltaSkip>(tok).is_some_and(|s| s.sel.is_some());
            } else if let Some(s) = sh.sealer.open::<ListSkip>(tok) {
                selected = s.sel.is_some();
                expanded = s.expand.is_some();
                top = s.top;
            }
        } else if let Some(t) = q.get("$deltatoken").and_then(|t| sh.sealer.open::<DeltaTok>(t)) {
            selected = t.sel.is_some();
        }
        let mut cost = base;
        if selected {
            cost -= 1;
        }
        if expanded {
            cost += 1;
        }
        if !is_delta && top.is_some_and(|t| t < 20) {
            cost -= 1;
        }
        cost.max(1) as u32
    }

    pub fn handle(&self, sh: &Shared, ctx: &Ctx, ver: &str, q: &Query, eventual: bool) -> Reply {
        use Endpoint::*;
        match self {
            List(Kind::Role) => lists::list_roles(sh, ctx, ver, q),
            List(k) => lists::list(sh, ctx, ver, *k, q, eventual),
            Delta(k) => delta::delta(sh, ctx, ver, *k, q),
            Get(k, id) => lists::get_one(sh, ctx, ver, *k, id, q),
            Members(k, id) => lists::members(sh, ctx, ver, *k, id, q),
            Owners(id) => lists::owners(sh, ctx, ver, id, q),
            AssignedTo(id) => lists::assignments(sh, ctx, ver, id, q, true),
            SpAssignments(id) => lists::assignments(sh, ctx, ver, id, q, false),
            RoleDefinitions => rbac::role_definitions(sh, ctx, ver, q),
            RoleAssignments => rbac::role_assignments(sh, ctx, ver, q),
            ObjectsDelta => assign_delta::delta(sh, ctx, ver, q),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve() {
        assert_eq!(resolve(&["groups"]), Some(Endpoint::List(Kind::Group)));
        assert_eq!(resolve(&["devices", "microsoft.graph.delta"]), Some(Endpoint::Delta(Kind::Device)));
        assert_eq!(resolve(&["groups", "x", "members"]), Some(Endpoint::Members(Kind::Group, "x")));
        assert_eq!(
            resolve(&["directoryRoles(roleTemplateId='abc')", "members"]),
            Some(Endpoint::Members(Kind::Role, "(roleTemplateId='abc')"))
        );
        assert_eq!(resolve(&["roleManagement", "directory", "roleAssignments"]), Some(Endpoint::RoleAssignments));
        assert_eq!(resolve(&["directoryObjects", "microsoft.graph.delta"]), Some(Endpoint::ObjectsDelta));
        assert!(Endpoint::ObjectsDelta.roles().contains(&"User.Read.All"));
        assert_eq!(resolve(&["users"]), None);
        assert_eq!(resolve(&["groups", "x", "owners"]), None);
        assert_eq!(Endpoint::Members(Kind::Group, "x").label("v1.0"), "GET /v1.0/groups/{id}/members");
        assert!(Endpoint::Owners("x").roles().contains(&"Device.Read.All"));
    }
}
