//! The compact in-memory user record and its rendering to Graph `user` JSON.
//! Records hold small indices into word lists; strings are built only when a page is served.

use super::gen::{fmt_guid, given_name, surname, DEPARTMENTS, GUEST_DOMAINS, JOB_TITLES, LOCATIONS, OFFICES};
use serde_json::{json, Map, Value};

pub mod flags {
    pub const GUEST: u16 = 1;
    pub const ENABLED: u16 = 2;
    pub const SYNCED: u16 = 4;
    pub const ACCEPTED: u16 = 8;
    pub const EMPLOYEE_ID: u16 = 16;
    pub const ALIAS: u16 = 32;
    pub const PHONE: u16 = 64;
    pub const LANG: u16 = 128;
}

/// `mail`: generated from the name, explicitly null, or set by a mutation.
#[derive(Clone, Debug, PartialEq)]
pub enum MailVal {
    Gen,
    Null,
    Custom(Box<str>),
}

/// One user, ~100 bytes. Index fields use 0 for "null" and `i + 1` for list entry `i`.
#[derive(Clone, Debug)]
pub struct UserRec {
    pub num: u32,
    pub id: u128,
    pub given: u16,
    pub surname: u16,
    pub created: i64,
    pub display: Option<Box<str>>,
    pub mail: MailVal,
    pub job: u8,
    pub dept: u8,
    pub office: u8,
    pub loc: u8,
    pub guest_dom: u8,
    pub lic: u8,
    pub flags: u16,
    pub cost_center: u16,
    pub ext_attr1: u16,
}

/// Tenant identity and the per-tenant constants used when rendering.
#[derive(Clone, Debug)]
pub struct TenantMeta {
    pub tenant_id: String,
    pub domain: String,
    pub display_name: String,
    pub company: String,
    pub client_id: String,
    pub client_secret: String,
    /// `extension_<32hex>_costCenter`
    pub ext_name: String,
    pub skus: Vec<String>,
    pub created: i64,
}

/// Properties returned by `GET /users` and `/users/delta` without `$select`.
pub const DEFAULT_PROPERTIES: [&str; 11] = [
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// Every modelled user property (plus the directory extension, see [`TenantMeta::ext_name`]).
pub const USER_PROPERTIES: [&str; 29] = [
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "otherMails",
    "proxyAddresses",
    "userType",
    "accountEnabled",
    "createdDateTime",
    "creationType",
    "externalUserState",
    "externalUserStateChangeDateTime",
    "jobTitle",
    "department",
    "companyName",
    "employeeId",
    "usageLocation",
    "assignedLicenses",
    "onPremisesExtensionAttributes",
    "onPremisesSyncEnabled",
    "onPremisesImmutableId",
    "businessPhones",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "deletedDateTime",
    "employeeType",
];

pub fn fmt_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn pick(list: &[&str], idx: u8) -> Value {
    match idx {
        0 => Value::Null,
        i => list.get(i as usize - 1).map(|s| Value::String(s.to_string())).unwrap_or(Value::Null),
    }
}

impl UserRec {
    pub fn is_guest(&self) -> bool {
        self.flags & flags::GUEST != 0
    }
    pub fn id_str(&self) -> String {
        fmt_guid(self.id)
    }
    pub fn local_part(&self) -> String {
        format!("{}.{}{}", given_name(self.given).to_lowercase(), surname(self.surname).to_lowercase(), self.num)
    }
    pub fn guest_domain(&self) -> &'static str {
        GUEST_DOMAINS[self.guest_dom as usize % GUEST_DOMAINS.len()]
    }
    pub fn upn(&self, m: &TenantMeta) -> String {
        if self.is_guest() {
            format!("{}_{}#EXT#@{}", self.local_part(), self.guest_domain(), m.domain)
        } else {
            format!("{}@{}", self.local_part(), m.domain)
        }
    }
    pub fn mail(&self, m: &TenantMeta) -> Option<String> {
        match &self.mail {
            MailVal::Null => None,
            MailVal::Custom(s) => Some(s.to_string()),
            MailVal::Gen if self.is_guest() => Some(format!("{}@{}", self.local_part(), self.guest_domain())),
            MailVal::Gen => Some(format!("{}@{}", self.local_part(), m.domain)),
        }
    }
    pub fn display_name(&self) -> String {
        match &self.display {
            Some(d) => d.to_string(),
            None => format!("{} {}", given_name(self.given), surname(self.surname)),
        }
    }

    /// One property's value; `None` when the property is absent (unknown, or an unset extension).
    pub fn prop(&self, m: &TenantMeta, name: &str) -> Option<Value> {
        let guest = self.is_guest();
        let f = self.flags;
        let synced = f & flags::SYNCED != 0;
        let null_unless = |c: bool, v: Value| if c { v } else { Value::Null };
        Some(match name {
            "id" => json!(self.id_str()),
            "userPrincipalName" => json!(self.upn(m)),
            "displayName" => json!(self.display_name()),
            "givenName" => json!(given_name(self.given)),
            "surname" => json!(surname(self.surname)),
            "mail" => json!(self.mail(m)),
            "otherMails" => {
                let other: Vec<String> = if guest {
                    vec![format!("{}@{}", self.local_part(), self.guest_domain())]
                } else if f & flags::ALIAS != 0 {
                    vec![format!("{}@home-mail.example", self.local_part())]
                } else {
                    vec![]
                };
                json!(other)
            }
            "proxyAddresses" => {
                let mut proxies = Vec::new();
                if let Some(mail) = self.mail(m) {
                    proxies.push(format!("SMTP:{mail}"));
                    if !guest && f & flags::ALIAS != 0 {
                        proxies.push(format!("smtp:{}@contoso-sim.mail.onmicrosoft.com", self.local_part()));
                    }
                }
                json!(proxies)
            }
            "userType" => json!(if guest { "Guest" } else { "Member" }),
            "accountEnabled" => json!(f & flags::ENABLED != 0),
            "createdDateTime" => json!(fmt_time(self.created)),
            "creationType" => null_unless(guest, json!("Invitation")),
            "externalUserState" => {
                null_unless(guest, json!(if f & flags::ACCEPTED != 0 { "Accepted" } else { "PendingAcceptance" }))
            }
            "externalUserStateChangeDateTime" => null_unless(guest, json!(fmt_time(self.created + 3600))),
            "jobTitle" => pick(&JOB_TITLES, self.job),
            "department" => pick(&DEPARTMENTS, self.dept),
            "companyName" => null_unless(!guest, json!(m.company)),
            "employeeId" => null_unless(f & flags::EMPLOYEE_ID != 0, json!(format!("E{:07}", self.num))),
            "employeeType" => null_unless(!guest, json!("Employee")),
            "usageLocation" => pick(&LOCATIONS, self.loc),
            "assignedLicenses" => Value::Array(
                (0..m.skus.len())
                    .filter(|i| self.lic & (1 << i) != 0)
                    .map(|i| json!({"disabledPlans": [], "skuId": m.skus[i]}))
                    .collect(),
            ),
            "onPremisesExtensionAttributes" => {
                let mut ext = Map::new();
                for i in 1..=15 {
                    let v = match i {
                        1 if self.ext_attr1 != 0 => json!(format!("CC-{}", self.ext_attr1)),
                        2 if synced => pick(&DEPARTMENTS, self.dept),
                        _ => Value::Null,
                    };
                    ext.insert(format!("extensionAttribute{i}"), v);
                }
                Value::Object(ext)
            }
            "onPremisesSyncEnabled" => null_unless(synced, json!(true)),
            "onPremisesImmutableId" => null_unless(synced, json!(base64_id(self.id))),
            "businessPhones" => {
                let phones: Vec<String> =
                    if f & flags::PHONE != 0 { vec![format!("+1 555 01{:02}", self.num % 100)] } else { vec![] };
                json!(phones)
            }
            "mobilePhone" | "deletedDateTime" => Value::Null,
            "officeLocation" => pick(&OFFICES, self.office),
            "preferredLanguage" => null_unless(f & flags::LANG != 0, json!("en-US")),
            n if n == m.ext_name && self.cost_center != 0 => {
                json!(format!("CC-{}", self.cost_center))
            }
            _ => return None,
        })
    }

    /// The full Graph representation with every modelled property.
    pub fn to_json(&self, m: &TenantMeta) -> Map<String, Value> {
        let mut o = Map::new();
        for p in USER_PROPERTIES.iter().copied().chain([m.ext_name.as_str()]) {
            if let Some(v) = self.prop(m, p) {
                o.insert(p.to_string(), v);
            }
        }
        o
    }

    /// The representation restricted to `sel` (None = the default property set). `id` always stays.
    pub fn to_json_selected(&self, m: &TenantMeta, sel: Option<&[String]>) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id_str()));
        let mut add = |p: &str| {
            if p != "id" {
                if let Some(v) = self.prop(m, p) {
                    out.insert(p.to_string(), v);
                }
            }
        };
        match sel {
            None => DEFAULT_PROPERTIES.iter().for_each(|p| add(p)),
            Some(sel) => sel.iter().for_each(|p| add(p)),
        }
        out
    }
}

fn base64_id(id: u128) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(id.to_le_bytes())
}

/// Validate a `$select` list: known user properties, or any `extension_*` name. Returns the
/// canonical list (as given, de-duplicated) or the first unknown name.
pub fn parse_select(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for p in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let known = USER_PROPERTIES.iter().find(|k| k.eq_ignore_ascii_case(p));
        let name = match known {
            Some(k) => k.to_string(),
            None if p.starts_with("extension_") => p.to_string(),
            None => return Err(p.to_string()),
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}
