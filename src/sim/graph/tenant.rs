//! The simulated tenant: users (live, soft-deleted, hard-deleted), the change log that drives
//! delta, deterministic mutations, and the users' ground truth (`each_live_json`, `deleted_json`).

use super::gen::{gen_meta, gen_user, Mix, DEPARTMENTS, JOB_TITLES};
use super::model::{flags, MailVal, TenantMeta, UserRec};
use super::MutationSpec;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Share of guests among generated users.
const GUEST_PCT: u64 = 10;

/// One entry of a change round.
pub enum ChangeEntry<'a> {
    Live(&'a UserRec),
    Removed { id: u128, reason: &'static str },
}

pub struct Tenant {
    pub meta: TenantMeta,
    seed: u64,
    users: BTreeMap<u32, UserRec>,
    soft_deleted: BTreeMap<u32, UserRec>,
    hard_deleted: BTreeMap<u32, u128>,
    /// Change log: entry `i` has sequence number `i + 1` and names the user number that changed.
    log: Vec<u32>,
    /// Latest sequence number per user number.
    last_seq: HashMap<u32, u64>,
    next_num: u32,
}

impl Tenant {
    pub fn generate(seed: u64, count: usize) -> Tenant {
        let meta = gen_meta(seed);
        let users: BTreeMap<u32, UserRec> =
            (1..=count as u32).map(|n| (n, gen_user(seed, n, GUEST_PCT, None))).collect();
        Tenant {
            meta,
            seed,
            users,
            soft_deleted: BTreeMap::new(),
            hard_deleted: BTreeMap::new(),
            log: Vec::new(),
            last_seq: HashMap::new(),
            next_num: count as u32 + 1,
        }
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    /// Current change-log head (highest sequence number issued).
    pub fn head(&self) -> u64 {
        self.log.len() as u64
    }

    fn record(&mut self, num: u32) {
        self.log.push(num);
        self.last_seq.insert(num, self.log.len() as u64);
    }

    /// Live users with `num > after`, at most `limit`, in stable order.
    pub fn users_after(&self, after: Option<u32>, limit: usize) -> Vec<&UserRec> {
        let start = after.map(|a| a.saturating_add(1)).unwrap_or(0);
        if after == Some(u32::MAX) {
            return Vec::new();
        }
        self.users.range(start..).take(limit).map(|(_, u)| u).collect()
    }

    /// Whether any live user has `num > after`.
    pub fn has_users_after(&self, after: u32) -> bool {
        after < u32::MAX && self.users.range(after + 1..).next().is_some()
    }

    /// Soft-deleted users (the recycle bin), in stable order.
    pub fn soft_deleted_users(&self) -> impl Iterator<Item = &UserRec> {
        self.soft_deleted.values()
    }

    pub fn find_user(&self, key: &str) -> Option<&UserRec> {
        let id = super::gen::parse_guid(key);
        self.users.values().find(|u| match id {
            Some(id) => u.id == id,
            None => u.upn(&self.meta).eq_ignore_ascii_case(key),
        })
    }

    /// Scan the change log from index `pos` up to (excluding) index `head`, emitting each user
    /// whose latest change is at that entry, until `limit` entries are collected.
    /// Returns the entries and the next scan position.
    pub fn changes(&self, pos: u64, head: u64, limit: usize) -> (Vec<ChangeEntry<'_>>, u64) {
        let head = head.min(self.head());
        let mut out = Vec::new();
        let mut p = pos;
        while p < head && out.len() < limit {
            let num = self.log[p as usize];
            p += 1;
            if self.last_seq.get(&num) != Some(&p) {
                continue; // superseded by a later change; reported there
            }
            if let Some(u) = self.users.get(&num) {
                out.push(ChangeEntry::Live(u));
            } else if let Some(u) = self.soft_deleted.get(&num) {
                out.push(ChangeEntry::Removed { id: u.id, reason: "changed" });
            } else if let Some(id) = self.hard_deleted.get(&num) {
                out.push(ChangeEntry::Removed { id: *id, reason: "deleted" });
            }
        }
        (out, p)
    }

    /// Ground truth: every live user (full JSON), one at a time.
    pub fn each_live_json(&self, f: &mut dyn FnMut(&Value)) {
        for u in self.users.values() {
            f(&Value::Object(u.to_json(&self.meta)));
        }
    }

    /// Ground truth: every user that no longer exists (`{"id", "reason"}`), in number order.
    pub fn deleted_json(&self) -> Vec<Value> {
        let mut deleted: Vec<(u32, Value)> =
            self.soft_deleted.values().map(|u| (u.num, json!({"id": u.id_str(), "reason": "changed"}))).collect();
        deleted.extend(
            self.hard_deleted.iter().map(|(n, id)| (*n, json!({"id": super::gen::fmt_guid(*id), "reason": "deleted"}))),
        );
        deleted.sort_by_key(|(n, _)| *n);
        deleted.into_iter().map(|(_, v)| v).collect()
    }

    /// Apply a deterministic set of changes; every change goes to the change log.
    pub fn mutate(&mut self, spec: &MutationSpec, now: i64) -> Value {
        let mut rng = StdRng::seed_from_u64(spec.seed ^ self.seed.rotate_left(17));
        let mut mix = Mix::new(spec.seed, self.seed ^ self.head());

        let mut created = 0;
        for _ in 0..spec.create {
            let num = self.next_num;
            self.next_num += 1;
            let mut u = gen_user(self.seed ^ spec.seed, num, 15, Some(now));
            u.num = num;
            self.users.insert(num, u);
            self.record(num);
            created += 1;
        }

        let live: Vec<u32> = self.users.keys().copied().collect();
        let targets = sample(&mut rng, &live, spec.update);
        for num in &targets {
            if let Some(u) = self.users.get_mut(num) {
                update_user(u, &mut mix, &self.meta);
            }
            self.record(*num);
        }
        let updated = targets.len();

        let pool: Vec<u32> = self.soft_deleted.keys().copied().collect();
        let targets = sample(&mut rng, &pool, spec.restore);
        for num in &targets {
            if let Some(u) = self.soft_deleted.remove(num) {
                self.users.insert(*num, u);
                self.record(*num);
            }
        }
        let restored = targets.len();

        let live: Vec<u32> = self.users.keys().copied().collect();
        let targets = sample(&mut rng, &live, spec.soft_delete);
        for num in &targets {
            if let Some(u) = self.users.remove(num) {
                self.soft_deleted.insert(*num, u);
                self.record(*num);
            }
        }
        let soft_deleted = targets.len();

        // Hard deletes: up to half from the recycle bin, the rest from live users.
        let bin: Vec<u32> = self.soft_deleted.keys().copied().collect();
        let from_bin = sample(&mut rng, &bin, spec.hard_delete.div_ceil(2));
        let live: Vec<u32> = self.users.keys().copied().collect();
        let from_live = sample(&mut rng, &live, spec.hard_delete - from_bin.len());
        for num in from_bin.iter().chain(from_live.iter()) {
            let id = self.soft_deleted.remove(num).or_else(|| self.users.remove(num)).map(|u| u.id);
            if let Some(id) = id {
                self.hard_deleted.insert(*num, id);
                self.record(*num);
            }
        }
        let hard_deleted = from_bin.len() + from_live.len();

        json!({
            "created": created,
            "updated": updated,
            "soft_deleted": soft_deleted,
            "restored": restored,
            "hard_deleted": hard_deleted,
        })
    }
}

fn sample(rng: &mut StdRng, pool: &[u32], n: usize) -> Vec<u32> {
    let n = n.min(pool.len());
    let mut idx = rand::seq::index::sample(rng, pool.len(), n).into_vec();
    idx.sort_unstable();
    idx.into_iter().map(|i| pool[i]).collect()
}

/// Change one or two (distinct) of displayName, jobTitle, accountEnabled, mail, department.
/// Every change is guaranteed to alter the rendered object.
fn update_user(u: &mut UserRec, mix: &mut Mix, meta: &TenantMeta) {
    let first = mix.below(5);
    let kinds = if mix.pct(50) { vec![first] } else { vec![first, (first + 1 + mix.below(4)) % 5] };
    for kind in kinds {
        match kind {
            0 => {
                let base = super::gen::given_name(u.given) + " " + &super::gen::surname(u.surname);
                let mut name = format!("{base} ({})", 1 + mix.below(999));
                if Some(name.as_str()) == u.display.as_deref() {
                    name.push('+');
                }
                u.display = Some(name.into());
            }
            1 => {
                let n = JOB_TITLES.len() as u64 + 1;
                u.job = ((u.job as u64 + 1 + mix.below(n - 1)) % n) as u8;
            }
            2 => u.flags ^= flags::ENABLED,
            3 => {
                u.mail = if u.mail != MailVal::Null && mix.pct(50) {
                    MailVal::Null
                } else {
                    let local = u.local_part();
                    let mut k = mix.below(100);
                    loop {
                        let m: Box<str> = format!("{local}.{k}@{}", meta.domain).into();
                        if u.mail != MailVal::Custom(m.clone()) {
                            break MailVal::Custom(m);
                        }
                        k += 1;
                    }
                };
            }
            _ => {
                let n = DEPARTMENTS.len() as u64 + 1;
                u.dept = ((u.dept as u64 + 1 + mix.below(n - 1)) % n) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_and_mutate() {
        let mut t = Tenant::generate(7, 500);
        assert_eq!(t.user_count(), 500);
        let guests = t.users.values().filter(|u| u.is_guest()).count();
        assert!((20..=90).contains(&guests), "guests {guests}");
        let spec = MutationSpec {
            create: 10,
            update: 20,
            soft_delete: 8,
            restore: 0,
            hard_delete: 6,
            seed: 3,
            ..Default::default()
        };
        let s = t.mutate(&spec, 1_700_000_000);
        assert_eq!(s["created"], 10);
        assert_eq!(s["hard_deleted"], 6);
        let mut live = 0;
        t.each_live_json(&mut |_| live += 1);
        assert_eq!(live + t.deleted_json().len(), 510);
        let s2 = t.mutate(&MutationSpec { restore: 3, ..Default::default() }, 1_700_000_100);
        assert_eq!(s2["restored"], 3);
    }

    #[test]
    fn generation_is_fast_enough() {
        let start = std::time::Instant::now();
        let t = Tenant::generate(1, 100_000);
        assert_eq!(t.user_count(), 100_000);
        assert!(start.elapsed().as_secs() < 5);
    }
}
