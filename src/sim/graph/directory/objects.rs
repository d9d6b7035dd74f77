//! Deterministic generators of single directory objects (groups, apps, service principals, devices,
//! contacts) from the seed and an object number; used at start-up and by mutations.

use super::model::*;
use super::words::*;
use crate::sim::graph::gen::{parse_guid, Mix, DEPARTMENTS, GIVEN_COUNT, JOB_TITLES, SURNAME_COUNT};
use crate::sim::graph::model::TenantMeta;

/// 2016-01-01 .. ~2025-06 for generated objects.
pub const FROM: i64 = 1_451_606_400;
pub const SPAN: u64 = 296_000_000;

pub fn gen_group(seed: u64, num: u32, created: Option<i64>) -> GroupRec {
    let mut r = Mix::new(seed, 0x4752_4F55_0000_0000 | num as u64);
    let t = r.below(100);
    let gtype = match t {
        0..=44 => GType::Security,
        45..=79 => GType::Unified,
        80..=91 => GType::Distribution,
        _ => GType::MailSecurity,
    };
    let dynamic = matches!(gtype, GType::Security | GType::Unified) && r.pct(10);
    GroupRec {
        num,
        id: r.guid(),
        gtype,
        topic: r.below(GROUP_TOPICS.len() as u64) as u8,
        noun: r.below(GROUP_NOUNS.len() as u64) as u8,
        display: None,
        desc: if r.pct(70) { 1 + r.below(GROUP_DESCRIPTIONS.len() as u64) as u8 } else { 0 },
        rule: if dynamic { 1 + r.below(MEMBERSHIP_RULES.len() as u64) as u8 } else { 0 },
        visibility: r.below(3) as u8,
        role_assignable: gtype == GType::Security && r.pct(10),
        synced: gtype == GType::Security && r.pct(25),
        created: created.unwrap_or(FROM + r.below(SPAN) as i64),
        members: Vec::new(),
    }
}

pub fn gen_app_roles(r: &mut Mix, max: u64) -> Vec<AppRole> {
    let n = r.below(max + 1);
    let start = r.below(APP_ROLE_WORDS.len() as u64);
    (0..n)
        .map(|i| AppRole {
            id: r.guid(),
            word: ((start + i) % APP_ROLE_WORDS.len() as u64) as u8,
            allowed: 1 + r.below(3) as u8,
            enabled: r.pct(90),
        })
        .collect()
}

pub fn gen_app(seed: u64, num: u32, created: Option<i64>) -> AppRec {
    let mut r = Mix::new(seed, 0x4150_5000_0000_0000 | num as u64);
    let a = r.below(10);
    AppRec {
        num,
        id: r.guid(),
        app_id: r.guid(),
        prefix: r.below(APP_PREFIXES.len() as u64) as u8,
        word: r.below(APP_WORDS.len() as u64) as u8,
        display: None,
        audience: if a < 7 {
            0
        } else if a < 9 {
            1
        } else {
            2
        },
        created: created.unwrap_or(FROM + r.below(SPAN) as i64),
        roles: gen_app_roles(&mut r, 3),
        notes: r.pct(20),
    }
}

/// The service principal of a tenant application.
pub fn sp_for_app(seed: u64, num: u32, app: &AppRec) -> SpRec {
    let mut r = Mix::new(seed, 0x5350_0000_0000_0000 | num as u64);
    SpRec {
        num,
        id: r.guid(),
        app_id: app.app_id,
        origin: SpOrigin::Tenant(app.num),
        name: app.display_name().into(),
        audience: app.audience,
        enabled: r.pct(95),
        assignment_required: r.pct(30),
        tags: 1,
        roles: app.roles.clone(),
        assigned_to: Vec::new(),
    }
}

/// A vendor app or managed identity service principal.
pub fn gen_other_sp(seed: u64, num: u32) -> SpRec {
    let mut r = Mix::new(seed, 0x5350_0000_0000_0000 | num as u64);
    let id = r.guid();
    let app_id = r.guid();
    let word = APP_WORDS[r.below(APP_WORDS.len() as u64) as usize];
    let (origin, name, roles) = if r.pct(60) {
        let v = r.below(VENDORS.len() as u64) as u8;
        let roles = gen_app_roles(&mut r, 2);
        (SpOrigin::Vendor(v), format!("{} {word} {num}", VENDORS[v as usize]), roles)
    } else {
        (SpOrigin::Managed, format!("mi-{}-{num}", word.to_lowercase()), Vec::new())
    };
    let managed = origin == SpOrigin::Managed;
    SpRec {
        num,
        id,
        app_id,
        origin,
        name: name.into(),
        audience: 1,
        enabled: r.pct(95),
        assignment_required: !managed && r.pct(20),
        tags: if managed { 0 } else { 1 | if r.pct(10) { 2 } else { 0 } },
        roles,
        assigned_to: Vec::new(),
    }
}

pub fn gen_device(seed: u64, num: u32, created: Option<i64>) -> DeviceRec {
    let mut r = Mix::new(seed, 0x4445_5600_0000_0000 | num as u64);
    let os = match r.below(100) {
        0..=49 => 0u8,
        50..=64 => 1,
        65..=79 => 2,
        80..=94 => 3,
        _ => 4,
    };
    let trust = match os {
        2 | 3 => 0u8,
        0 => match r.below(100) {
            0..=59 => 1,
            60..=84 => 2,
            _ => 0,
        },
        _ => r.below(2) as u8,
    };
    let registered = created.unwrap_or(FROM + r.below(SPAN) as i64);
    DeviceRec {
        num,
        id: r.guid(),
        device_id: r.guid(),
        display: None,
        os,
        os_ver: r.below(3) as u8,
        trust,
        maker: r.below(MANUFACTURERS.len() as u64) as u8,
        model: r.below(2) as u8,
        compliant: r.pct(80),
        managed: r.pct(if os >= 2 { 60 } else { 75 }),
        enabled: r.pct(95),
        registered,
        last_sign_in: registered + r.below(20_000_000) as i64,
        owners: Vec::new(),
    }
}

pub fn gen_contact(seed: u64, num: u32) -> ContactRec {
    let mut r = Mix::new(seed, 0x434F_4E54_0000_0000 | num as u64);
    ContactRec {
        num,
        id: r.guid(),
        given: r.below(GIVEN_COUNT) as u16,
        surname: r.below(SURNAME_COUNT) as u16,
        company: r.below(CONTACT_COMPANIES.len() as u64) as u8,
        job: if r.pct(70) { 1 + r.below(JOB_TITLES.len() as u64) as u8 } else { 0 },
        dept: if r.pct(60) { 1 + r.below(DEPARTMENTS.len() as u64) as u8 } else { 0 },
        display: None,
        phone: r.pct(50),
    }
}

pub fn graph_sp(seed: u64) -> SpRec {
    let mut r = Mix::new(seed, 0x4752_4150_4800);
    SpRec {
        num: 1,
        id: r.guid(),
        app_id: parse_guid(GRAPH_APP_ID).unwrap_or_default(),
        origin: SpOrigin::Graph,
        name: "Microsoft Graph".into(),
        audience: 1,
        enabled: true,
        assignment_required: false,
        tags: 0,
        roles: GRAPH_ROLES
            .iter()
            .enumerate()
            .map(|(i, (id, _, _))| AppRole {
                id: parse_guid(id).unwrap_or_default(),
                word: 100 + i as u8,
                allowed: 2,
                enabled: true,
            })
            .collect(),
        assigned_to: Vec::new(),
    }
}

pub fn connector_sp(seed: u64, tm: &TenantMeta) -> SpRec {
    let mut r = Mix::new(seed, 0x434F_4E4E);
    SpRec {
        num: 2,
        id: r.guid(),
        app_id: parse_guid(&tm.client_id).unwrap_or_default(),
        origin: SpOrigin::Connector,
        name: "Entra AirSync Connector (sim)".into(),
        audience: 0,
        enabled: true,
        assignment_required: false,
        tags: 1,
        roles: Vec::new(),
        assigned_to: Vec::new(),
    }
}
