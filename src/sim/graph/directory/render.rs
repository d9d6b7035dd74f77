//! Rendering of directory records to Graph JSON: the `Obj` trait (property lists, `$select`, full
//! objects), groups and roles; strings are only built when a response is served.

use super::model::*;
use super::words::*;
use crate::sim::graph::gen::fmt_guid;
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Map, Value};

/// Tenant constants needed when rendering.
#[derive(Clone, Debug)]
pub struct DirMeta {
    pub domain: String,
    pub tenant_id: String,
}

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
/// Every property of a type, in rendering order.
pub fn props(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Group => &GROUP_PROPS,
        Kind::Role => &ROLE_PROPS,
        Kind::App => &super::render_apps::APP_PROPS,
        Kind::Sp => &super::render_apps::SP_PROPS,
        Kind::Device => &super::render_devices::DEVICE_PROPS,
        Kind::Contact => &super::render_devices::CONTACT_PROPS,
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

pub fn pick(list: &[&str], idx: u8) -> Value {
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
