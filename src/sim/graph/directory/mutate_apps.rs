//! Mutations of applications and service principals: creates (an app brings its service principal),
//! renames, audience and app-role changes, soft deletes, and app role assignment adds / removals.

use super::dir::Directory;
use super::model::*;
use super::mutate::{chosen, pick, renamed};
use super::objects::{gen_app, gen_other_sp, sp_for_app};
use crate::sim::graph::gen::Mix;
use crate::sim::graph::model::UserRec;
use serde_json::{json, Value};

impl Directory {
    pub(super) fn mutate_apps(&mut self, r: &mut Mix, seed: u64, n: usize, now: i64) -> Value {
        for _ in 0..n {
            let num = self.apps.take_num();
            let app = gen_app(seed, num, Some(now));
            let sp_num = self.sps.take_num();
            self.sps.live.insert(sp_num, sp_for_app(seed, sp_num, &app));
            self.logs[Kind::Sp.idx()].obj(sp_num);
            self.apps.live.insert(num, app);
            self.logs[Kind::App.idx()].obj(num);
        }
        let keys: Vec<u32> = self.apps.live.keys().copied().collect();
        let updated = chosen(seed, 0x6101 ^ self.logs[Kind::App.idx()].head(), &keys, n);
        for num in &updated {
            let Some(app) = self.apps.live.get_mut(num) else { continue };
            let mut roles_changed = false;
            match r.below(3) {
                0 => app.display = Some(renamed(&app.display_name(), r)),
                1 => app.audience = (app.audience + 1) % 3,
                _ => {
                    match app.roles.first_mut() {
                        Some(role) => role.enabled = !role.enabled,
                        None => {
                            app.roles.push(AppRole { id: r.guid(), word: r.below(8) as u8, allowed: 3, enabled: true })
                        }
                    }
                    roles_changed = true;
                }
            }
            self.logs[Kind::App.idx()].obj(*num);
            if roles_changed {
                let roles = app.roles.clone();
                if let Some(sp) = self.sps.live.values_mut().find(|s| s.origin == SpOrigin::Tenant(*num)) {
                    sp.roles = roles;
                    self.logs[Kind::Sp.idx()].obj(sp.num);
                }
            }
        }
        let keys: Vec<u32> = self.apps.live.keys().copied().collect();
        let deleted = chosen(seed, 0x6102 ^ self.logs[Kind::App.idx()].head(), &keys, n);
        for num in &deleted {
            if let Some(app) = self.apps.live.remove(num) {
                self.apps.soft.insert(*num, app);
                self.logs[Kind::App.idx()].obj(*num);
                let sp = self.sps.live.values().find(|s| s.origin == SpOrigin::Tenant(*num)).map(|s| s.num);
                if let Some(sp) = sp.and_then(|k| self.sps.live.remove(&k)) {
                    self.logs[Kind::Sp.idx()].obj(sp.num);
                    self.sps.soft.insert(sp.num, sp);
                }
            }
        }
        json!({"created": n, "updated": updated.len(), "deleted": deleted.len()})
    }

    pub(super) fn mutate_sps(
        &mut self,
        r: &mut Mix,
        seed: u64,
        users: &[(u128, &UserRec)],
        n: usize,
        now: i64,
    ) -> Value {
        let log = &mut self.logs[Kind::Sp.idx()];
        for _ in 0..n {
            let num = self.sps.take_num();
            self.sps.live.insert(num, gen_other_sp(seed, num));
            log.obj(num);
        }
        // Microsoft Graph (1) and the connector (2) are left alone.
        let keys: Vec<u32> = self.sps.live.keys().copied().filter(|k| *k > 2).collect();
        let updated = chosen(seed, 0x5301 ^ log.head(), &keys, n);
        for num in &updated {
            if let Some(sp) = self.sps.live.get_mut(num) {
                match r.below(3) {
                    0 => sp.enabled = !sp.enabled,
                    1 => sp.name = renamed(&sp.name, r),
                    _ => sp.tags ^= 2,
                }
                log.obj(*num);
            }
        }
        let keys: Vec<u32> = self.sps.live.keys().copied().filter(|k| *k > 2).collect();
        let deleted = chosen(seed, 0x5302 ^ log.head(), &keys, n);
        for num in &deleted {
            if let Some(sp) = self.sps.live.remove(num) {
                self.sps.soft.insert(*num, sp);
                log.obj(*num);
            }
        }
        let resources: Vec<u32> = self
            .sps
            .live
            .values()
            .filter(|s| matches!(s.origin, SpOrigin::Tenant(_) | SpOrigin::Vendor(_)))
            .map(|s| s.num)
            .collect();
        let groups: Vec<(u128, Box<str>)> =
            self.groups.live.values().map(|g| (g.id, g.display_name().into())).take(1000).collect();
        let (mut added, mut removed) = (0, 0);
        for _ in 0..n {
            let Some(num) = pick(r, &resources) else { break };
            let principal = if r.pct(20) && !groups.is_empty() {
                let (id, name) = &groups[r.below(groups.len() as u64) as usize];
                Some((*id, MKind::Group, name.clone()))
            } else {
                (!users.is_empty()).then(|| r.below(users.len() as u64) as usize).map(|i| {
                    let (id, u) = users[i];
                    (id, MKind::User, u.display_name().into())
                })
            };
            let Some((principal, ptype, principal_name)) = principal else { break };
            let key = self.next_key as u128;
            let Some(sp) = self.sps.live.get_mut(&num) else { continue };
            if sp.assigned_to.iter().any(|a| a.principal == principal) {
                continue;
            }
            let roles: Vec<u128> = sp.roles.iter().filter(|x| x.allowed & 1 != 0).map(|x| x.id).collect();
            let role = pick(r, &roles).unwrap_or(0);
            self.next_key += 1;
            sp.assigned_to.push(Assignment { key, principal, ptype, principal_name, role, created: now });
            added += 1;
        }
        for _ in 0..n {
            let Some(num) = pick(r, &resources) else { break };
            if let Some(sp) = self.sps.live.get_mut(&num).filter(|s| !s.assigned_to.is_empty()) {
                sp.assigned_to.remove(r.below(sp.assigned_to.len() as u64) as usize);
                removed += 1;
            }
        }
        json!({"created": n, "updated": updated.len(), "deleted": deleted.len(),
               "assignments_added": added, "assignments_removed": removed})
    }
}
