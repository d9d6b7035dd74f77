//! Rendering of directory records to Graph JSON: the `Obj` trait (property lists, `$select`,
//! full objects) and one `prop` per type; strings are only built when a response is served.

use super::model::*;
use super::words::*;
use crate::sim::graph::gen::{fmt_guid, given_name, surname, DEPARTMENTS, JOB_TITLES};
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Map, Value};

/// Tenant constants needed when rendering.
#[derive(Clone, Debug)]
pub struct DirMeta {
    pub domain: String,
    pub tenant_id: String,
}

/// Microsoft's own tenant id (owner of first-party apps).
const MICROSOFT_TENANT: &str = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

pub const GROUP_PROPS: [&str; 21] = [
    "id",
    "displayName",
    "description",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "groupTypes",
    "visibility",
    "membershipRule",
    "membershipRuleProcessingState",
    "createdDateTime",
    "renewedDateTime",
    "expirationDateTime",
    "isAssignableToRole",
    "proxyAddresses",
    "onPremisesSyncEnabled",
    "securityIdentifier",
    "classification",
    "resourceProvisioningOptions",
    "deletedDateTime",
];
pub const ROLE_PROPS: [&str; 5] = ["id", "deletedDateTime", "description", "displayName", "roleTemplateId"];
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
pub const DEVICE_PROPS: [&str; 20] = [
    "id",
    "deviceId",
    "displayName",
    "operatingSystem",
    "operatingSystemVersion",
    "trustType",
    "isCompliant",
    "isManaged",
    "accountEnabled",
    "manufacturer",
    "model",
    "profileType",
    "registrationDateTime",
    "approximateLastSignInDateTime",
    "createdDateTime",
    "deviceOwnership",
    "mdmAppId",
    "onPremisesSyncEnabled",
    "physicalIds",
    "deletedDateTime",
];
pub const CONTACT_PROPS: [&str; 13] = [
    "id",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "companyName",
    "department",
    "jobTitle",
    "proxyAddresses",
    "phones",
    "addresses",
    "deletedDateTime",
];

/// Every property of a type, in rendering order.
pub fn props(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Group => &GROUP_PROPS,
        Kind::Role => &ROLE_PROPS,
        Kind::App => &APP_PROPS,
        Kind::Sp => &SP_PROPS,
        Kind::Device => &DEVICE_PROPS,
        Kind::Contact => &CONTACT_PROPS,
    }
}

/// A renderable directory object.
pub trait Obj {
    const KIND: Kind;
    const PROPS: &'static [&'static str];
    fn num(&self) -> u32;
    fn id(&self) -> u128;
    fn members(&self) -> Option<&[Member]> {
        None
    }
    /// One property; `None` if the type has no such property.
    fn prop(&self, m: &DirMeta, name: &str) -> Option<Value>;

    /// `id` plus `sel` (None = every property); `members` is never rendered here.
    fn render(&self, m: &DirMeta, sel: Option<&[String]>) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("id".into(), json!(fmt_guid(self.id())));
        let mut add = |p: &str| {
            if p != "id" {
                if let Some(v) = self.prop(m, p) {
                    o.insert(p.to_string(), v);
                }
            }
        };
        match sel {
            None => Self::PROPS.iter().for_each(|p| add(p)),
            Some(s) => s.iter().for_each(|p| add(p)),
        }
        o
    }
    fn full(&self, m: &DirMeta) -> Map<String, Value> {
        self.render(m, None)
    }
}

fn pick(list: &[&str], idx: u8) -> Value {
    match idx {
        0 => Value::Null,
        i => list.get(i as usize - 1).map_or(Value::Null, |s| json!(s)),
    }
}

fn slug(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase()
}

impl GroupRec {
    pub fn display_name(&self) -> String {
        if let Some(d) = &self.display {
            return d.to_string();
        }
        let prefix = match self.gtype {
            GType::Security => "SG-",
            GType::MailSecurity => "MSG-",
            GType::Distribution => "DL-",
            GType::Unified => "",
        };
        let topic = GROUP_TOPICS[self.topic as usize % GROUP_TOPICS.len()];
        let noun = GROUP_NOUNS[self.noun as usize % GROUP_NOUNS.len()];
        format!("{prefix}{topic} {noun} {}", self.num)
    }
    fn nickname(&self) -> String {
        let topic = GROUP_TOPICS[self.topic as usize % GROUP_TOPICS.len()];
        let noun = GROUP_NOUNS[self.noun as usize % GROUP_NOUNS.len()];
        format!("{}{}{}", slug(topic), slug(noun), self.num)
    }
    fn mail_enabled(&self) -> bool {
        self.gtype != GType::Security
    }
    fn mail(&self, m: &DirMeta) -> Option<String> {
        self.mail_enabled().then(|| format!("{}@{}", self.nickname(), m.domain))
    }
    fn sid(&self) -> String {
        let b = self.id.to_be_bytes();
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        format!("S-1-12-1-{}-{}-{}-{}", w(0), w(4), w(8), w(12))
    }
}

impl Obj for GroupRec {
    const KIND: Kind = Kind::Group;
    const PROPS: &'static [&'static str] = &GROUP_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn members(&self) -> Option<&[Member]> {
        Some(&self.members)
    }
    fn prop(&self, m: &DirMeta, name: &str) -> Option<Value> {
        let unified = self.gtype == GType::Unified;
        let mut types: Vec<&str> = Vec::new();
        if unified {
            types.push("Unified");
        }
        if self.rule != 0 {
            types.push("DynamicMembership");
        }
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "displayName" => json!(self.display_name()),
            "description" => pick(&GROUP_DESCRIPTIONS, self.desc),
            "mail" => json!(self.mail(m)),
            "mailEnabled" => json!(self.mail_enabled()),
            "mailNickname" => json!(self.nickname()),
            "securityEnabled" => json!(matches!(self.gtype, GType::Security | GType::MailSecurity)),
            "groupTypes" => json!(types),
            "visibility" => match (unified, self.visibility) {
                (false, _) => Value::Null,
                (true, 0) => json!("Public"),
                (true, 1) => json!("Private"),
                (true, _) => json!("HiddenMembership"),
            },
            "membershipRule" => pick(&MEMBERSHIP_RULES, self.rule),
            "membershipRuleProcessingState" => {
                if self.rule != 0 {
                    json!("On")
                } else {
                    Value::Null
                }
            }
            "createdDateTime" | "renewedDateTime" => json!(fmt_time(self.created)),
            "isAssignableToRole" => {
                if self.gtype == GType::Security {
                    json!(self.role_assignable)
                } else {
                    Value::Null
                }
            }
            "proxyAddresses" => json!(self.mail(m).map(|x| vec![format!("SMTP:{x}")]).unwrap_or_default()),
            "onPremisesSyncEnabled" => {
                if self.synced {
                    json!(true)
                } else {
                    Value::Null
                }
            }
            "securityIdentifier" => json!(self.sid()),
            "resourceProvisioningOptions" => {
                json!(if unified && self.visibility == 1 { vec!["Team"] } else { vec![] })
            }
            "classification" | "deletedDateTime" | "expirationDateTime" => Value::Null,
            _ => return None,
        })
    }
}

impl Obj for RoleRec {
    const KIND: Kind = Kind::Role;
    const PROPS: &'static [&'static str] = &ROLE_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn members(&self) -> Option<&[Member]> {
        Some(&self.members)
    }
    fn prop(&self, _m: &DirMeta, name: &str) -> Option<Value> {
        let (template, display, desc) = ROLE_TEMPLATES[self.template as usize % ROLE_TEMPLATES.len()];
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "deletedDateTime" => Value::Null,
            "description" => json!(desc),
            "displayName" => json!(display),
            "roleTemplateId" => json!(template),
            _ => return None,
        })
    }
}

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

impl DeviceRec {
    pub fn display_name(&self) -> String {
        match &self.display {
            Some(d) => d.to_string(),
            None => {
                let p = ["SIM-LT", "SIM-MAC", "SIM-IPH", "SIM-AND", "SIM-LNX"][self.os as usize % 5];
                format!("{p}-{:05}", self.num)
            }
        }
    }
}

impl Obj for DeviceRec {
    const KIND: Kind = Kind::Device;
    const PROPS: &'static [&'static str] = &DEVICE_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn prop(&self, _m: &DirMeta, name: &str) -> Option<Value> {
        let (os, versions) = OPERATING_SYSTEMS[self.os as usize % OPERATING_SYSTEMS.len()];
        let (maker, models) = MANUFACTURERS[self.maker as usize % MANUFACTURERS.len()];
        let trust = TRUST_TYPES[self.trust as usize % TRUST_TYPES.len()];
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "deviceId" => json!(fmt_guid(self.device_id)),
            "displayName" => json!(self.display_name()),
            "operatingSystem" => json!(os),
            "operatingSystemVersion" => json!(versions[self.os_ver as usize % versions.len()]),
            "trustType" => json!(trust),
            "isCompliant" => json!(self.compliant),
            "isManaged" => json!(self.managed),
            "accountEnabled" => json!(self.enabled),
            "manufacturer" => json!(maker),
            "model" => json!(models[self.model as usize % models.len()]),
            "profileType" => json!("RegisteredDevice"),
            "registrationDateTime" | "createdDateTime" => json!(fmt_time(self.registered)),
            "approximateLastSignInDateTime" => json!(fmt_time(self.last_sign_in)),
            "deviceOwnership" => json!(if trust == "Workplace" { "Personal" } else { "Company" }),
            "mdmAppId" => {
                if self.managed {
                    json!("0000000a-0000-0000-c000-000000000000")
                } else {
                    Value::Null
                }
            }
            "onPremisesSyncEnabled" => {
                if trust == "ServerAd" {
                    json!(true)
                } else {
                    Value::Null
                }
            }
            "physicalIds" => json!([] as [&str; 0]),
            "deletedDateTime" => Value::Null,
            _ => return None,
        })
    }
}

impl ContactRec {
    pub fn display_name(&self) -> String {
        match &self.display {
            Some(d) => d.to_string(),
            None => format!("{} {}", given_name(self.given), surname(self.surname)),
        }
    }
    fn nickname(&self) -> String {
        format!("{}.{}{}", given_name(self.given), surname(self.surname), self.num).to_lowercase()
    }
    fn mail(&self) -> String {
        format!("{}@{}", self.nickname(), CONTACT_DOMAINS[self.company as usize % CONTACT_DOMAINS.len()])
    }
}

impl Obj for ContactRec {
    const KIND: Kind = Kind::Contact;
    const PROPS: &'static [&'static str] = &CONTACT_PROPS;
    fn num(&self) -> u32 {
        self.num
    }
    fn id(&self) -> u128 {
        self.id
    }
    fn prop(&self, _m: &DirMeta, name: &str) -> Option<Value> {
        Some(match name {
            "id" => json!(fmt_guid(self.id)),
            "displayName" => json!(self.display_name()),
            "givenName" => json!(given_name(self.given)),
            "surname" => json!(surname(self.surname)),
            "mail" => json!(self.mail()),
            "mailNickname" => json!(self.nickname()),
            "companyName" => json!(CONTACT_COMPANIES[self.company as usize % CONTACT_COMPANIES.len()]),
            "department" => pick(&DEPARTMENTS, self.dept),
            "jobTitle" => pick(&JOB_TITLES, self.job),
            "proxyAddresses" => json!([format!("SMTP:{}", self.mail())]),
            "phones" => {
                let phones: Vec<Value> = if self.phone {
                    vec![json!({"number": format!("+1 555 02{:02}", self.num % 100), "type": "business"})]
                } else {
                    vec![]
                };
                json!(phones)
            }
            "addresses" => json!([] as [&str; 0]),
            "deletedDateTime" => Value::Null,
            _ => return None,
        })
    }
}

impl Assignment {
    /// Graph-style assignment id (base64url of principal id and key, 43 characters).
    pub fn id_str(&self) -> String {
        use base64::Engine as _;
        let mut b = [0u8; 32];
        b[..16].copy_from_slice(&self.principal.to_le_bytes());
        b[16..].copy_from_slice(&self.key.to_le_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
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

/// Validate a `$select` list for `props` (plus `members` when allowed); the first unknown name on error.
pub fn parse_select(raw: &str, props: &[&str], members: bool) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for p in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let name = match props.iter().find(|k| k.eq_ignore_ascii_case(p)) {
            Some(k) => k.to_string(),
            None if members && p.eq_ignore_ascii_case("members") => "members".to_string(),
            None => return Err(p.to_string()),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}
