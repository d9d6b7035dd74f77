//! `PolicyData`: everything this module simulates (auth-method overrides, policies, PIM, workflows,
//! audit and sign-in history, SKU seats, extension definitions) and its seeded generation.

use super::super::gen::{fmt_guid, Mix};
use super::super::model::UserRec;
use super::super::tenant::Tenant;
use super::events::{self, AuditRec, Initiator, SignInRec, Target};
use super::extensions::{self, ExtensionApp, ExtensionDef};
use super::licence::Licence;
use super::query::TICKS;
use super::{authmethods, pim, policy, skus, workflows};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// Days of generated history (beyond the 30-day retention, to show it being cut).
pub const HISTORY_DAYS: i64 = 45;
/// No generated event lies within this many seconds of a retention boundary (7 and 30 days), so that
/// truth and a slightly later read agree.
const BOUNDARY_GAP: i64 = 2 * 3600;
pub const DIRECTORY_SYNC_APP: &str = "Microsoft Entra Connect Sync";

pub struct PolicyData {
    pub seed: u64,
    /// Sim time (unix seconds) when the tenant was generated.
    pub start: i64,
    /// Method lists changed by mutations, with the time of the last change.
    pub overrides: HashMap<u128, (Vec<Value>, i64)>,
    pub methods_policy: Value,
    pub ca: Vec<Value>,
    pub pim: Vec<Value>,
    pub workflows: Vec<Value>,
    /// Sorted by `(ticks, seq)`.
    pub audits: Vec<AuditRec>,
    pub signins: Vec<SignInRec>,
    pub next_seq: u32,
    pub rounds: u64,
    pub prepaid: Vec<usize>,
    pub ext_apps: Vec<ExtensionApp>,
    pub ext_defs: Vec<ExtensionDef>,
    /// Users who act as administrators in the logs.
    pub admins: Vec<(u128, Box<str>)>,
}

/// Event counts by tenant size.
pub fn audit_count(users: usize) -> usize {
    (users * 2).clamp(60, 40_000)
}
pub fn sign_in_count(users: usize) -> usize {
    (users * 3).clamp(90, 60_000)
}

fn history_secs(r: &mut Mix, now: i64) -> i64 {
    loop {
        let back = 300 + r.below((HISTORY_DAYS * 86_400 - 300) as u64) as i64;
        if (back - 7 * 86_400).abs() > BOUNDARY_GAP && (back - 30 * 86_400).abs() > BOUNDARY_GAP {
            return now - back;
        }
    }
}

impl PolicyData {
    pub fn generate(seed: u64, licence: Licence, t: &Tenant, now: i64) -> PolicyData {
        let seed = seed ^ 0x504F_4C49_4349_4553;
        let meta = &t.meta;
        let users: Vec<&UserRec> = t.users_after(None, usize::MAX);
        let members: Vec<&UserRec> = users.iter().copied().filter(|u| !u.is_guest()).collect();
        let mut r = Mix::new(seed, 1);
        let sample = |r: &mut Mix, from: &[&UserRec], n: usize| -> Vec<String> {
            if from.is_empty() {
                return Vec::new();
            }
            (0..n.min(from.len())).map(|_| from[r.below(from.len() as u64) as usize].id_str()).collect()
        };
        let ca_users = sample(&mut r, &users, 200);
        let pim_users = sample(&mut r, &members, (members.len() / 10).clamp(1, 2000));
        let mut consumed = vec![0usize; meta.skus.len()];
        for u in &users {
            for (i, c) in consumed.iter_mut().enumerate() {
                *c += usize::from(u.lic & (1 << i) != 0);
            }
        }
        let admins: Vec<(u128, Box<str>)> = members.iter().take(5).map(|u| (u.id, u.upn(meta).into())).collect();
        let mut d = PolicyData {
            seed,
            start: now,
            overrides: HashMap::new(),
            methods_policy: authmethods::default_policy(seed, now - 90 * 86_400),
            ca: policy::generate(seed, &ca_users, licence, now),
            pim: pim::generate(seed, &pim_users, users.len(), now),
            workflows: workflows::generate(seed, users.len(), now),
            audits: Vec::new(),
            signins: Vec::new(),
            next_seq: 1,
            rounds: 0,
            prepaid: skus::prepaid_for(&consumed),
            ext_apps: extensions::extension_apps(seed ^ 0x504F_4C49_4349_4553, meta),
            ext_defs: extensions::definitions(seed ^ 0x504F_4C49_4349_4553, meta),
            admins,
        };
        d.generate_history(&users, meta, now);
        d
    }

    fn generate_history(&mut self, users: &[&UserRec], meta: &super::super::model::TenantMeta, now: i64) {
        if users.is_empty() {
            return;
        }
        let mut r = Mix::new(self.seed, 2);
        for _ in 0..audit_count(users.len()) {
            let u = users[r.below(users.len() as u64) as usize];
            let ticks = history_secs(&mut r, now) * TICKS + r.below(TICKS as u64) as i64;
            let kind = [0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 7, 10, 13][r.below(20) as usize];
            let rec = self.audit_for(&mut r, kind, u, meta, ticks);
            self.audits.push(rec);
        }
        self.audits.sort_by_key(|a| (a.ticks, a.seq));
        let mut r = Mix::new(self.seed, 3);
        for _ in 0..sign_in_count(users.len()) {
            let u = users[r.below(users.len() as u64) as usize];
            let ticks = history_secs(&mut r, now) * TICKS;
            let rec = self.sign_in_for(&mut r, u, meta, ticks);
            self.signins.push(rec);
        }
        self.signins.sort_by_key(|s| (s.ticks, s.seq));
    }

    pub fn take_seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    fn admin(&self, r: &mut Mix) -> Initiator {
        match self.admins.get(r.below(self.admins.len().max(1) as u64) as usize) {
            Some((id, upn)) => Initiator::User { id: *id, upn: upn.clone() },
            None => Initiator::App { app_id: 0x5EED, name: DIRECTORY_SYNC_APP },
        }
    }

    /// An audit event of `kind` about user `u` (policy kinds pick an existing policy/schedule/workflow).
    pub fn audit_for(
        &mut self,
        r: &mut Mix,
        kind: u8,
        u: &UserRec,
        meta: &super::super::model::TenantMeta,
        ticks: i64,
    ) -> AuditRec {
        let upn = u.upn(meta);
        let user_target = Target::user(u.id, &upn);
        let pick = |r: &mut Mix, list: &[Value], name_key: &str| -> Option<(String, String)> {
            let v = list.get(r.below(list.len().max(1) as u64) as usize)?;
            Some((v["id"].as_str()?.to_string(), v[name_key].as_str().unwrap_or("").to_string()))
        };
        let (by, targets, detail): (Initiator, Vec<Target>, String) = match kind {
            events::K_UPDATE_USER | events::K_ADD_USER | events::K_RESET_PASSWORD => {
                let by = if r.pct(70) {
                    self.admin(r)
                } else {
                    Initiator::App { app_id: self.seed as u128 ^ 0xC0AE, name: DIRECTORY_SYNC_APP }
                };
                let prop = ["JobTitle", "Department", "DisplayName", "AccountEnabled", "Mobile"][r.below(5) as usize];
                (by, vec![user_target], prop.to_string())
            }
            events::K_SEC_REGISTERED..=events::K_SEC_DELETED => {
                let k = authmethods::KINDS[r.below(authmethods::KINDS.len() as u64) as usize];
                let verb = ["User registered", "User changed default", "User deleted"][(kind - 3) as usize];
                (
                    Initiator::User { id: u.id, upn: upn.clone().into() },
                    vec![user_target],
                    format!("{verb} {}", k.label()),
                )
            }
            6..=8 => {
                let (id, name) =
                    pick(r, &self.ca, "displayName").unwrap_or_else(|| (fmt_guid(r.guid()), "Policy".into()));
                (self.admin(r), vec![Target::named(&id, &name, "Policy")], String::new())
            }
            9..=11 => {
                let (role, role_name) = policy::ROLES[r.below(policy::ROLES.len() as u64) as usize];
                (self.admin(r), vec![Target::named(role, role_name, "Role"), user_target], String::new())
            }
            _ => {
                let (id, name) =
                    pick(r, &self.workflows, "displayName").unwrap_or_else(|| (fmt_guid(r.guid()), "Workflow".into()));
                (self.admin(r), vec![Target::named(&id, &name, "Other")], String::new())
            }
        };
        AuditRec {
            seq: self.take_seq(),
            ticks,
            kind,
            success: r.pct(96),
            corr: r.guid(),
            by,
            targets,
            detail: detail.into(),
        }
    }

    pub fn sign_in_for(
        &mut self,
        r: &mut Mix,
        u: &UserRec,
        meta: &super::super::model::TenantMeta,
        ticks: i64,
    ) -> SignInRec {
        let ca = if r.pct(50) && !self.ca.is_empty() {
            let p = &self.ca[r.below(self.ca.len() as u64) as usize];
            Some((p["id"].as_str().unwrap_or("").to_string(), p["displayName"].as_str().unwrap_or("").to_string()))
        } else {
            None
        };
        let seq = self.take_seq();
        SignInRec::draw(
            r,
            seq,
            ticks,
            (u.id, &u.upn(meta), u.display_name()),
            ca.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
        )
    }

    /// The user's current methods.
    pub fn methods(&self, u: &UserRec) -> Vec<Value> {
        match self.overrides.get(&u.id) {
            Some((m, _)) => m.clone(),
            None => authmethods::generated(self.seed, u, self.start.max(u.created)),
        }
    }

    /// When the user's methods last changed (generated users: a seeded time before the sim start).
    pub fn methods_updated(&self, u: &UserRec) -> i64 {
        match self.overrides.get(&u.id) {
            Some((_, t)) => *t,
            None => {
                let t = u.created + 86_400 + Mix::new(self.seed, u.id as u64).below(300 * 86_400) as i64;
                t.min(self.start.max(u.created))
            }
        }
    }

    /// Principals of PIM eligibilities (shown as admins in the registration report).
    pub fn admin_ids(&self) -> HashSet<String> {
        self.pim.iter().filter_map(|s| s["principalId"].as_str().map(str::to_string)).collect()
    }
}

/// Insert keeping `(ticks, seq)` order.
pub fn insert_sorted<E: events::Event>(v: &mut Vec<E>, e: E) {
    let key = e.key();
    let at = v.partition_point(|x| x.key() <= key);
    v.insert(at, e);
}
