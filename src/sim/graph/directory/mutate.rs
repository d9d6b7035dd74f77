//! Deterministic directory mutations (`MutationSpec.directory`): groups, roles, devices, contacts, their
//! membership / owner changes, and `reconcile` that drops links to vanished objects.

use super::dir::Directory;
use super::gen::sample;
use super::model::*;
use super::objects::{gen_contact, gen_device, gen_group};
use super::words::{IMPLICIT_ROLES, MEMBERSHIP_RULES, ROLE_TEMPLATES};
use crate::sim::graph::gen::Mix;
use crate::sim::graph::model::UserRec;
use serde_json::{json, Value};
use std::collections::HashSet;

pub(super) fn pick<T: Copy>(r: &mut Mix, v: &[T]) -> Option<T> {
    (!v.is_empty()).then(|| v[r.below(v.len() as u64) as usize])
}

pub(super) fn chosen(seed: u64, salt: u64, keys: &[u32], n: usize) -> Vec<u32> {
    let mut idx = sample(seed, salt, keys.len(), n);
    idx.sort_unstable();
    idx.into_iter().map(|i| keys[i]).collect()
}

/// A new display name that differs from `cur`.
pub(super) fn renamed(cur: &str, r: &mut Mix) -> Box<str> {
    let base = cur.split(" (rev ").next().unwrap_or(cur);
    let mut s = format!("{base} (rev {})", 1 + r.below(999));
    if s == cur {
        s.push('+');
    }
    s.into()
}

impl Directory {
    fn users_vec<'a>(users: &[&'a UserRec]) -> Vec<(u128, &'a UserRec)> {
        users.iter().map(|u| (u.id, *u)).collect()
    }

    /// Apply `n` changes of every kind; every object and membership change goes to the change log.
    pub fn mutate(&mut self, users: &[&UserRec], n: usize, spec_seed: u64, now: i64) -> Value {
        let salt = self.logs.iter().map(|l| l.head()).sum::<u64>();
        let seed = self.seed ^ spec_seed.rotate_left(23);
        let mut r = Mix::new(seed, salt);
        let us = Self::users_vec(users);
        let user_ids: Vec<u128> = us.iter().map(|(id, _)| *id).collect();
        let summary = json!({
            "groups": self.mutate_groups(&mut r, seed, &user_ids, n, now),
            "directoryRoles": self.mutate_roles(&mut r, &user_ids, n),
            "applications": self.mutate_apps(&mut r, seed, n, now),
            "servicePrincipals": self.mutate_sps(&mut r, seed, &us, n, now),
            "devices": self.mutate_devices(&mut r, seed, &user_ids, n, now),
            "contacts": self.mutate_contacts(&mut r, seed, n),
        });
        let purged = self.reconcile(users);
        let mut summary = summary;
        summary["purged_links"] = json!(purged);
        summary
    }

    fn mutate_groups(&mut self, r: &mut Mix, seed: u64, users: &[u128], n: usize, now: i64) -> Value {
        let log = &mut self.logs[Kind::Group.idx()];
        for _ in 0..n {
            let num = self.groups.take_num();
            let mut g = gen_group(seed, num, Some(now));
            log.obj(num);
            for _ in 0..r.below(4) {
                if let Some(u) = pick(r, users) {
                    let m = Member { id: u, kind: MKind::User };
                    if add_member(&mut g.members, m) {
                        log.link(num, m, true);
                    }
                }
            }
            self.groups.live.insert(num, g);
        }
        let keys: Vec<u32> = self.groups.live.keys().copied().collect();
        let updated = chosen(seed, 0x6701 ^ log.head(), &keys, n);
        for num in &updated {
            if let Some(g) = self.groups.live.get_mut(num) {
                match r.below(3) {
                    0 => g.display = Some(renamed(&g.display_name(), r)),
                    1 => g.desc = (g.desc + 1) % 7,
                    _ if g.gtype == GType::Unified => g.visibility = (g.visibility + 1) % 3,
                    _ if g.rule != 0 => g.rule = 1 + (g.rule % MEMBERSHIP_RULES.len() as u8),
                    _ => g.display = Some(renamed(&g.display_name(), r)),
                }
                log.obj(*num);
            }
        }
        let keys: Vec<u32> = self.groups.live.keys().copied().collect();
        let deleted = chosen(seed, 0x6702 ^ log.head(), &keys, n);
        for num in &deleted {
            if let Some(g) = self.groups.live.remove(num) {
                if g.gtype == GType::Unified {
                    self.groups.soft.insert(*num, g);
                } else {
                    self.groups.hard.insert(*num, g.id);
                }
                log.obj(*num);
            }
        }
        let keys: Vec<u32> = self.groups.live.keys().copied().collect();
        let (mut added, mut removed) = (0, 0);
        for _ in 0..n {
            let (Some(num), Some(u)) = (pick(r, &keys), pick(r, users)) else { break };
            if let Some(g) = self.groups.live.get_mut(&num) {
                let m = Member { id: u, kind: MKind::User };
                if add_member(&mut g.members, m) {
                    log.link(num, m, true);
                    added += 1;
                }
            }
        }
        for _ in 0..n {
            let Some(num) = pick(r, &keys) else { break };
            if let Some(g) = self.groups.live.get_mut(&num).filter(|g| !g.members.is_empty()) {
                let m = g.members.remove(r.below(g.members.len() as u64) as usize);
                log.link(num, m, false);
                removed += 1;
            }
        }
        json!({"created": n, "updated": updated.len(), "deleted": deleted.len(),
               "members_added": added, "members_removed": removed})
    }

    fn mutate_roles(&mut self, r: &mut Mix, users: &[u128], n: usize) -> Value {
        let log = &mut self.logs[Kind::Role.idx()];
        let active: HashSet<u8> = self.roles.live.values().map(|x| x.template).collect();
        let inactive: Vec<u8> = (0..ROLE_TEMPLATES.len() as u8).filter(|t| !active.contains(t)).collect();
        let activated = n.min(inactive.len());
        for t in inactive.into_iter().take(activated) {
            let num = self.roles.take_num();
            self.roles.live.insert(num, RoleRec { num, id: r.guid(), template: t, members: Vec::new() });
            log.obj(num);
        }
        let keys: Vec<u32> = self
            .roles
            .live
            .values()
            .filter(|x| !IMPLICIT_ROLES.contains(&(x.template as usize)))
            .map(|x| x.num)
            .collect();
        let sps: Vec<u128> = self.sps.live.values().filter(|s| s.num > 2).map(|s| s.id).collect();
        let (mut added, mut removed) = (0, 0);
        for _ in 0..n {
            let Some(num) = pick(r, &keys) else { break };
            let m = if r.pct(20) && !sps.is_empty() {
                pick(r, &sps).map(|id| Member { id, kind: MKind::Sp })
            } else {
                pick(r, users).map(|id| Member { id, kind: MKind::User })
            };
            if let (Some(role), Some(m)) = (self.roles.live.get_mut(&num), m) {
                if add_member(&mut role.members, m) {
                    log.link(num, m, true);
                    added += 1;
                }
            }
        }
        for _ in 0..n {
            let Some(num) = pick(r, &keys) else { break };
            if let Some(role) = self.roles.live.get_mut(&num).filter(|x| !x.members.is_empty()) {
                let m = role.members.remove(r.below(role.members.len() as u64) as usize);
                log.link(num, m, false);
                removed += 1;
            }
        }
        json!({"activated": activated, "members_added": added, "members_removed": removed})
    }

    fn mutate_devices(&mut self, r: &mut Mix, seed: u64, users: &[u128], n: usize, now: i64) -> Value {
        let log = &mut self.logs[Kind::Device.idx()];
        for _ in 0..n {
            let num = self.devices.take_num();
            let mut d = gen_device(seed, num, Some(now));
            d.owners.extend(pick(r, users));
            self.devices.live.insert(num, d);
            log.obj(num);
        }
        let keys: Vec<u32> = self.devices.live.keys().copied().collect();
        let updated = chosen(seed, 0x4401 ^ log.head(), &keys, n);
        for num in &updated {
            if let Some(d) = self.devices.live.get_mut(num) {
                match r.below(4) {
                    0 => d.enabled = !d.enabled,
                    1 => d.compliant = !d.compliant,
                    2 => d.display = Some(renamed(&d.display_name(), r)),
                    _ => {
                        d.os_ver = (d.os_ver + 1) % 3;
                        d.last_sign_in = now;
                    }
                }
                log.obj(*num);
            }
        }
        let deleted = chosen(seed, 0x4402 ^ log.head(), &keys, n);
        for num in &deleted {
            if let Some(d) = self.devices.live.remove(num) {
                self.devices.hard.insert(*num, d.id);
                log.obj(*num);
            }
        }
        let keys: Vec<u32> = self.devices.live.keys().copied().collect();
        let (mut added, mut removed) = (0, 0);
        for _ in 0..n {
            let (Some(num), Some(u)) = (pick(r, &keys), pick(r, users)) else { break };
            if let Some(d) = self.devices.live.get_mut(&num) {
                if let Err(i) = d.owners.binary_search(&u) {
                    d.owners.insert(i, u);
                    added += 1;
                    // A registeredOwners link change surfaces the device in its delta, as member links
                    // surface groups (no annotation: registeredOwners cannot be selected on devices/delta).
                    log.obj(num);
                }
            }
        }
        for _ in 0..n {
            let Some(num) = pick(r, &keys) else { break };
            if let Some(d) = self.devices.live.get_mut(&num).filter(|d| !d.owners.is_empty()) {
                d.owners.remove(r.below(d.owners.len() as u64) as usize);
                removed += 1;
                log.obj(num);
            }
        }
        json!({"created": n, "updated": updated.len(), "deleted": deleted.len(),
               "owners_added": added, "owners_removed": removed})
    }

    fn mutate_contacts(&mut self, r: &mut Mix, seed: u64, n: usize) -> Value {
        let log = &mut self.logs[Kind::Contact.idx()];
        for _ in 0..n {
            let num = self.contacts.take_num();
            self.contacts.live.insert(num, gen_contact(seed, num));
            log.obj(num);
        }
        let keys: Vec<u32> = self.contacts.live.keys().copied().collect();
        let updated = chosen(seed, 0x4301 ^ log.head(), &keys, n);
        for num in &updated {
            if let Some(c) = self.contacts.live.get_mut(num) {
                match r.below(3) {
                    0 => c.job = 1 + (c.job % 15),
                    1 => c.company = (c.company + 1) % 6,
                    _ => c.display = Some(renamed(&c.display_name(), r)),
                }
                log.obj(*num);
            }
        }
        let deleted = chosen(seed, 0x4302 ^ log.head(), &keys, n);
        for num in &deleted {
            if let Some(c) = self.contacts.live.remove(num) {
                self.contacts.hard.insert(*num, c.id);
                log.obj(*num);
            }
        }
        json!({"created": n, "updated": updated.len(), "deleted": deleted.len()})
    }

    /// Follow the tenant's users and drop every link to an object that no longer exists (removed
    /// memberships are logged). Returns the number of membership links removed.
    pub fn reconcile(&mut self, users: &[&UserRec]) -> usize {
        self.users = users.iter().map(|u| (u.id, u.num)).collect();
        let live = self.live_ids();
        let mut purged = 0;
        let glog = &mut self.logs[Kind::Group.idx()];
        for g in self.groups.live.values_mut() {
            let num = g.num;
            g.members.retain(|m| {
                let keep = live.contains_key(&m.id);
                if !keep {
                    glog.link(num, *m, false);
                    purged += 1;
                }
                keep
            });
        }
        let rlog = &mut self.logs[Kind::Role.idx()];
        for role in self.roles.live.values_mut() {
            let num = role.num;
            role.members.retain(|m| {
                let keep = live.contains_key(&m.id);
                if !keep {
                    rlog.link(num, *m, false);
                    purged += 1;
                }
                keep
            });
        }
        let dlog = &mut self.logs[Kind::Device.idx()];
        for d in self.devices.live.values_mut() {
            let before = d.owners.len();
            d.owners.retain(|u| self.users.contains_key(u));
            if d.owners.len() != before {
                dlog.obj(d.num);
            }
        }
        for sp in self.sps.live.values_mut() {
            sp.assigned_to.retain(|a| live.contains_key(&a.principal));
        }
        self.custom_assignments.retain(|a| live.contains_key(&a.principal));
        purged
    }
}
