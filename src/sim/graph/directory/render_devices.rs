//! Rendering of devices and organizational contacts.
//! Display names, mail and phones are derived from the compact records on the fly.

use super::model::*;
use super::render::{pick, DirMeta, Obj};
use super::words::*;
use crate::sim::graph::gen::{fmt_guid, given_name, surname, DEPARTMENTS, JOB_TITLES};
use crate::sim::graph::model::fmt_time;
use serde_json::{json, Value};

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
