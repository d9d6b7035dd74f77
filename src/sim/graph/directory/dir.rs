//! The directory state held by the simulator: one store and one change log per type, unified-RBAC
//! extras (custom role definitions and their assignments), and id → object lookups.

use super::model::*;
use super::render::{DirMeta, Obj};
use super::words::ROLE_TEMPLATES;
use crate::sim::graph::gen::{fmt_guid, parse_guid};
use std::collections::HashMap;

/// A custom (non built-in) unified RBAC role definition.
#[derive(Clone, Debug)]
pub struct CustomRole {
    pub id: u128,
    pub word: u8,
}

/// A unified RBAC assignment of a custom role (built-in role assignments derive from role members).
#[derive(Clone, Debug)]
pub struct CustomAssignment {
    pub principal: u128,
    /// Index into `custom_roles`.
    pub role: usize,
}

pub struct Directory {
    pub meta: DirMeta,
    pub seed: u64,
    pub groups: Store<GroupRec>,
    pub roles: Store<RoleRec>,
    pub apps: Store<AppRec>,
    pub sps: Store<SpRec>,
    pub devices: Store<DeviceRec>,
    pub contacts: Store<ContactRec>,
    pub custom_roles: Vec<CustomRole>,
    pub custom_assignments: Vec<CustomAssignment>,
    pub logs: [ChangeLog; 6],
    /// Live users: id → user number (kept in step with the tenant by `reconcile`).
    pub users: HashMap<u128, u32>,
    /// Counter for new app role assignment keys.
    pub next_key: u64,
    /// App role assignments added and removed since start-up.
    pub assign_log: AssignLog,
}

/// Run `$body` with `$s` bound to the store of `$kind` (each arm is monomorphic).
macro_rules! with_store {
    ($dir:expr, $kind:expr, |$s:ident| $body:expr) => {
        match $kind {
            Kind::Group => {
                let $s = &$dir.groups;
                $body
            }
            Kind::Role => {
                let $s = &$dir.roles;
                $body
            }
            Kind::App => {
                let $s = &$dir.apps;
                $body
            }
            Kind::Sp => {
                let $s = &$dir.sps;
                $body
            }
            Kind::Device => {
                let $s = &$dir.devices;
                $body
            }
            Kind::Contact => {
                let $s = &$dir.contacts;
                $body
            }
        }
    };
}
pub(crate) use with_store;

/// How a directory object number currently stands.
pub enum Status {
    Live,
    Soft(u128),
    Hard(u128),
    Unknown,
}

pub fn status_of<T: Obj>(s: &Store<T>, num: u32) -> Status {
    if s.live.contains_key(&num) {
        Status::Live
    } else if let Some(o) = s.soft.get(&num) {
        Status::Soft(o.id())
    } else if let Some(id) = s.hard.get(&num) {
        Status::Hard(*id)
    } else {
        Status::Unknown
    }
}

/// Find a live object by its id string.
pub fn find<'a, T: Obj>(s: &'a Store<T>, key: &str) -> Option<&'a T> {
    let id = parse_guid(key)?;
    s.live.values().find(|o| o.id() == id)
}

impl Directory {
    pub fn log(&self, kind: Kind) -> &ChangeLog {
        &self.logs[kind.idx()]
    }

    /// Every live app role assignment: key → (resource service principal number, principal id).
    pub fn assignment_index(&self) -> HashMap<u128, (u32, u128)> {
        let mut m = HashMap::new();
        for sp in self.sps.live.values() {
            m.extend(sp.assigned_to.iter().map(|a| (a.key, (sp.num, a.principal))));
        }
        m
    }

    /// Logs the assignments removed and added since `before` (an earlier `assignment_index`): however
    /// they went (removed, their principal or resource service principal deleted), each is logged once.
    pub fn log_assignment_changes(&mut self, before: &HashMap<u128, (u32, u128)>) {
        let after = self.assignment_index();
        let mut changes: Vec<AssignChange> = before
            .iter()
            .filter(|(k, _)| !after.contains_key(k))
            .chain(after.iter().filter(|(k, _)| !before.contains_key(k)))
            .map(|(k, (sp, principal))| AssignChange { key: *k, principal: *principal, sp: *sp })
            .collect();
        changes.sort_by_key(|c| c.key);
        for c in changes {
            self.assign_log.push(c);
        }
    }

    /// Id → (type) of every live object that can be a member, owner or principal.
    pub fn live_ids(&self) -> HashMap<u128, MKind> {
        let mut m: HashMap<u128, MKind> = HashMap::with_capacity(
            self.users.len() + self.groups.live.len() + self.sps.live.len() + self.devices.live.len(),
        );
        m.extend(self.users.keys().map(|id| (*id, MKind::User)));
        m.extend(self.groups.live.values().map(|o| (o.id, MKind::Group)));
        m.extend(self.sps.live.values().map(|o| (o.id, MKind::Sp)));
        m.extend(self.devices.live.values().map(|o| (o.id, MKind::Device)));
        m.extend(self.contacts.live.values().map(|o| (o.id, MKind::Contact)));
        m
    }

    /// A directory role by object id, `roleTemplateId=<id>` or `(roleTemplateId='<id>')`.
    pub fn find_role(&self, key: &str) -> Option<&RoleRec> {
        let tpl = key
            .strip_prefix("roleTemplateId=")
            .or_else(|| key.strip_prefix("(roleTemplateId='").and_then(|k| k.strip_suffix("')")));
        match tpl {
            Some(t) => self.roles.live.values().find(|r| ROLE_TEMPLATES[r.template as usize].0.eq_ignore_ascii_case(t)),
            None => find(&self.roles, key),
        }
    }

    /// Unified RBAC assignments as `(id, principalId, roleDefinitionId)`, sorted by id.
    pub fn role_assignments(&self) -> Vec<(String, u128, String)> {
        use base64::Engine as _;
        let enc = |a: u128, b: u128| {
            let mut buf = [0u8; 32];
            buf[..16].copy_from_slice(&a.to_le_bytes());
            buf[16..].copy_from_slice(&b.to_le_bytes());
            format!("{}-1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf))
        };
        let mut out = Vec::new();
        for r in self.roles.live.values() {
            let tpl = ROLE_TEMPLATES[r.template as usize].0;
            let tpl_id = parse_guid(tpl).unwrap_or_default();
            for m in &r.members {
                out.push((enc(tpl_id, m.id), m.id, tpl.to_string()));
            }
        }
        for a in &self.custom_assignments {
            if let Some(c) = self.custom_roles.get(a.role) {
                out.push((enc(c.id, a.principal), a.principal, fmt_guid(c.id)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        out
    }
}
