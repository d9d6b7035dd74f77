//! Rendering of applications, service principals, their `appRoles`, and app role assignments
//! (the `appRoleAssignedTo` representation).

use super::model::*;
use super::render::{DirMeta, Obj};
use super::words::*;
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Value};

/// Microsoft's own tenant id (owner of first-party apps).
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub const APP_PROPS: [&str; 12] = [
    "id",
    "appId",
    "displayName",
    "description",
    "signInAudience",
    "createdDateTime",
    "publisherDomain",
    "identifierUris",
    "appRoles",
    "tags",
    "notes",
    "deletedDateTime",
];
pub const SP_PROPS: [&str; 15] = [
    "id",
    "appId",
    "displayName",
    "appDisplayName",
    "description",
    "servicePrincipalType",
    "accountEnabled",
    "appOwnerOrganizationId",
    "appRoleAssignmentRequired",
    "appRoles",
    "tags",
    "servicePrincipalNames",
    "signInAudience",
    "alternativeNames",
    "deletedDateTime",
];
impl AppRole {
    pub fn to_json(&self) -> Value {
        let (value, display, desc) = if self.word >= 100 {
            let (_, v, d) = GRAPH_ROLES[(self.word - 100) as usize % GRAPH_ROLES.len()];
            (v.to_string(), d.to_string(), format!("Allows the app to {} without a signed-in user.", d.to_lowercase()))
        } else {
            let (v, d) = APP_ROLE_WORDS[self.word as usize % APP_ROLE_WORDS.len()];
            (format!("App.{v}"), d.to_string(), format!("{d}s of this application"))
        };
        let allowed: Vec<&str> = match self.allowed {
            1 => vec!["User"],
            2 => vec!["Application"],
            _ => vec!["User", "Application"],
        };
        json!({
            "allowedMemberTypes": allowed,
            "description": desc,
            "displayName": display,
            "id": fmt_guid(self.id),
            "isEnabled": self.enabled,
            "origin": "Application",
            "value": value,
        })
    }
}

fn roles_json(roles: &[AppRole]) -> Value {
    Value::Array(roles.iter().map(AppRole::to_json).collect())
}

impl AppRec {
    pub fn display_name(&self) -> String {
        match &self.display {
            Some(d) => d.to_string(),
            None => format!(
                "{} {} {}",
                APP_PREFIXES[self.prefix as usize % APP_PREFIXES.len()],
                APP_WORDS[self.word as usize % APP_WORDS.len()],
                self.num
            ),
        }
    }
}

impl Obj for AppRec {
    const KIND: Kind = Kind::App;
    const PROPS: &'static [&'static str] = &APP_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn prop(&self, m: &DirMeta, name: &str) -> Option<Value> {
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "appId" => json!(fmt_guid(self.app_id)),
            "displayName" => json!(self.display_name()),
            "signInAudience" => json!(AUDIENCES[self.audience as usize % AUDIENCES.len()]),
            "createdDateTime" => json!(fmt_time(self.created)),
            "publisherDomain" => json!(m.domain),
            "identifierUris" => {
                let uris: Vec<String> =
                    if self.roles.is_empty() { vec![] } else { vec![format!("api://{}", fmt_guid(self.app_id))] };
                json!(uris)
            }
            "appRoles" => roles_json(&self.roles),
            "tags" => json!([] as [&str; 0]),
            "notes" => {
                if self.notes {
                    json!("Owned by the platform team")
                } else {
                    Value::Null
                }
            }
            "description" | "deletedDateTime" => Value::Null,
            _ => return None,
        })
    }
}

impl Obj for SpRec {
    const KIND: Kind = Kind::Sp;
    const PROPS: &'static [&'static str] = &SP_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn prop(&self, m: &DirMeta, name: &str) -> Option<Value> {
        let managed = self.origin == SpOrigin::Managed;
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "appId" => json!(fmt_guid(self.app_id)),
            "displayName" | "appDisplayName" => json!(self.name),
            "servicePrincipalType" => json!(if managed { "ManagedIdentity" } else { "Application" }),
            "accountEnabled" => json!(self.enabled),
            "appOwnerOrganizationId" => match self.origin {
                SpOrigin::Tenant(_) | SpOrigin::Connector => json!(m.tenant_id),
                SpOrigin::Graph => json!(MICROSOFT_TENANT),
                SpOrigin::Vendor(v) => json!(fmt_guid(0x5e_0000_0000_4000_8000_0000_0000_0000 | v as u128)),
                SpOrigin::Managed => Value::Null,
            },
            "appRoleAssignmentRequired" => json!(self.assignment_required),
            "appRoles" => roles_json(&self.roles),
            "tags" => {
                let mut t = Vec::new();
                if self.tags & 1 != 0 {
                    t.push("WindowsAzureActiveDirectoryIntegratedApp");
                }
                if self.tags & 2 != 0 {
                    t.push("HideApp");
                }
                json!(t)
            }
            "servicePrincipalNames" => {
                let mut names = vec![fmt_guid(self.app_id)];
                if let SpOrigin::Tenant(_) = self.origin {
                    names.push(format!("api://{}", fmt_guid(self.app_id)));
                }
                json!(names)
            }
            "signInAudience" => {
                if managed {
                    Value::Null
                } else {
                    json!(AUDIENCES[self.audience as usize % AUDIENCES.len()])
                }
            }
            "alternativeNames" => {
                let alt: Vec<String> = if managed {
                    vec!["isExplicit=True".into(), format!("/subscriptions/sim/resourcegroups/rg{}", self.num)]
                } else {
                    vec![]
                };
                json!(alt)
            }
            "description" | "deletedDateTime" => Value::Null,
            _ => return None,
        })
    }
}

/// Graph-style assignment id (base64url of principal id and key, 43 characters).
pub fn assignment_id(principal: u128, key: u128) -> String {
    use base64::Engine as _;
    let mut b = [0u8; 32];
    b[..16].copy_from_slice(&principal.to_le_bytes());
    b[16..].copy_from_slice(&key.to_le_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl Assignment {
    pub fn id_str(&self) -> String {
        assignment_id(self.principal, self.key)
    }
    /// The list representation (as `appRoleAssignedTo` returns it).
    pub fn to_json(&self, resource: &SpRec) -> Value {
        json!({
            "id": self.id_str(),
            "deletedDateTime": null,
            "appRoleId": fmt_guid(self.role),
            "createdDateTime": fmt_time(self.created),
            "principalDisplayName": self.principal_name,
            "principalId": fmt_guid(self.principal),
            "principalType": self.ptype.principal_type(),
            "resourceDisplayName": resource.name,
            "resourceId": fmt_guid(resource.id),
        })
    }
}
