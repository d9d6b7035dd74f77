//! Deterministic generation of the directory from the seed and the tenant's users: groups with
//! memberships (a few > 600 members), roles, RBAC, apps, service principals, assignments, devices, contacts.

use super::dir::{CustomAssignment, CustomRole, Directory};
use super::model::*;
use super::objects::*;
use super::render::DirMeta;
use super::words::*;
use crate::sim::graph::gen::{parse_guid, Mix};
use crate::sim::graph::model::{TenantMeta, UserRec};
use crate::sim::graph::GraphSimOptions;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashMap;

/// Object counts, from the options or derived from the number of users (contracts §3).
pub struct Counts {
    pub groups: usize,
    pub devices: usize,
    pub apps: usize,
    pub sps: usize,
    pub contacts: usize,
    pub memberships: usize,
}

impl Counts {
    pub fn from(o: &GraphSimOptions, users: usize) -> Counts {
        let apps = o.applications.unwrap_or(users / 20 + 5);
        Counts {
            groups: o.groups.unwrap_or(users / 5),
            devices: o.devices.unwrap_or(users / 2),
            apps,
            sps: o.service_principals.unwrap_or(apps * 2 + 10).max(apps + 2),
            contacts: o.contacts.unwrap_or(users / 20),
            memberships: o.memberships.unwrap_or(users * 5),
        }
    }
}

/// Distinct random indices in `0..n` (`k` of them, `k <= n`), deterministic for `salt`.
pub fn sample(seed: u64, salt: u64, n: usize, k: usize) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rand::seq::index::sample(&mut rng, n, k.min(n)).into_vec()
}

pub fn generate(opts: &GraphSimOptions, users: &[&UserRec], tm: &TenantMeta) -> Directory {
    let seed = opts.seed ^ 0xD1EC_7000;
    let c = Counts::from(opts, users.len());
    let groups: Vec<GroupRec> = (1..=c.groups as u32).map(|n| gen_group(seed, n, None)).collect();
    let apps: Vec<AppRec> = (1..=c.apps as u32).map(|n| gen_app(seed, n, None)).collect();
    let mut sps: Vec<SpRec> = vec![graph_sp(seed), connector_sp(seed, tm)];
    for a in &apps {
        sps.push(sp_for_app(seed, sps.len() as u32 + 1, a));
    }
    while sps.len() < c.sps {
        sps.push(gen_other_sp(seed, sps.len() as u32 + 1));
    }
    let mut devices: Vec<DeviceRec> = (1..=c.devices as u32).map(|n| gen_device(seed, n, None)).collect();
    let contacts: Vec<ContactRec> = (1..=c.contacts as u32).map(|n| gen_contact(seed, n)).collect();
    let mut groups = groups;
    fill_memberships(seed, &mut groups, users, &sps, &devices, &contacts, c.memberships);
    let roles = gen_roles(seed, users, &sps);
    for d in devices.iter_mut() {
        let mut r = Mix::new(seed, 0x4F57_4E00_0000_0000 | d.num as u64);
        let n = match r.below(100) {
            0..=9 => 0,
            10..=94 => 1,
            _ => 2,
        };
        if !users.is_empty() {
            d.owners = (0..n).map(|_| users[r.below(users.len() as u64) as usize].id).collect();
            d.owners.sort_unstable();
            d.owners.dedup();
        }
    }
    gen_assignments(seed, &mut sps, users, &groups);
    let mut r = Mix::new(seed, 0x5242_4143);
    let custom_roles: Vec<CustomRole> =
        (0..2).map(|i| CustomRole { id: r.guid(), word: (i * 3 % APP_ROLE_WORDS.len()) as u8 }).collect();
    let custom_assignments: Vec<CustomAssignment> = if users.is_empty() {
        Vec::new()
    } else {
        (0..3)
            .map(|i| CustomAssignment { principal: users[r.below(users.len() as u64) as usize].id, role: i % 2 })
            .collect()
    };
    let next_key = sps.iter().map(|s| s.assigned_to.len() as u64).sum::<u64>() + 1;
    Directory {
        meta: DirMeta { domain: tm.domain.clone(), tenant_id: tm.tenant_id.clone() },
        seed,
        groups: Store::new(groups.into_iter().map(|g| (g.num, g))),
        roles: Store::new(roles.into_iter().map(|g| (g.num, g))),
        apps: Store::new(apps.into_iter().map(|g| (g.num, g))),
        sps: Store::new(sps.into_iter().map(|g| (g.num, g))),
        devices: Store::new(devices.into_iter().map(|g| (g.num, g))),
        contacts: Store::new(contacts.into_iter().map(|g| (g.num, g))),
        custom_roles,
        custom_assignments,
        logs: Default::default(),
        users: users.iter().map(|u| (u.id, u.num)).collect(),
        next_key,
        assign_log: Default::default(),
    }
}

/// Member sizes: a few groups above 600 members, the rest spread around the average.
fn fill_memberships(
    seed: u64,
    groups: &mut [GroupRec],
    users: &[&UserRec],
    sps: &[SpRec],
    devices: &[DeviceRec],
    contacts: &[ContactRec],
    total: usize,
) {
    if groups.is_empty() {
        return;
    }
    let big = if users.len() > 620 { (groups.len() / 100).max(1) } else { 0 };
    let mut r = Mix::new(seed, 0x4D45_4D42);
    let big_sizes: Vec<usize> =
        (0..big).map(|_| 601 + r.below((users.len().min(1500) - 600) as u64) as usize).collect();
    let rest = total.saturating_sub(big_sizes.iter().sum());
    let avg = rest / (groups.len() - big).max(1);
    let ids: Vec<u128> = groups.iter().map(|g| g.id).collect();
    for (i, g) in groups.iter_mut().enumerate() {
        let mut r = Mix::new(seed, 0x4D42_0000_0000_0000 | g.num as u64);
        let size = if i < big { big_sizes[i] } else { r.below(2 * avg as u64 + 1) as usize };
        let others = if i < big { 0 } else { r.below(size as u64 / 8 + 1) as usize };
        let mut list: Vec<Member> = sample(seed, g.num as u64, users.len(), size - others)
            .into_iter()
            .map(|k| Member { id: users[k].id, kind: MKind::User })
            .collect();
        for _ in 0..others {
            let m = match r.below(4) {
                0 if i > 0 => Some(Member { id: ids[r.below(i as u64) as usize], kind: MKind::Group }),
                1 if !sps.is_empty() => {
                    Some(Member { id: sps[r.below(sps.len() as u64) as usize].id, kind: MKind::Sp })
                }
                2 if !devices.is_empty() => {
                    Some(Member { id: devices[r.below(devices.len() as u64) as usize].id, kind: MKind::Device })
                }
                3 if !contacts.is_empty() => {
                    Some(Member { id: contacts[r.below(contacts.len() as u64) as usize].id, kind: MKind::Contact })
                }
                _ => None,
            };
            list.extend(m);
        }
        list.sort_unstable_by_key(|m| m.id);
        list.dedup_by_key(|m| m.id);
        g.members = list;
    }
}

fn gen_roles(seed: u64, users: &[&UserRec], sps: &[SpRec]) -> Vec<RoleRec> {
    (0..INITIAL_ROLES)
        .map(|t| {
            let num = t as u32 + 1;
            let mut r = Mix::new(seed, 0x524F_4C45_0000_0000 | num as u64);
            let mut members = Vec::new();
            if !IMPLICIT_ROLES.contains(&t) {
                let n = if t == 0 { 2 + r.below(3) } else { r.below(7) } as usize;
                for k in sample(seed, 0x524F_0000 | num as u64, users.len(), n) {
                    add_member(&mut members, Member { id: users[k].id, kind: MKind::User });
                }
                if sps.len() > 2 && r.pct(30) {
                    let sp = &sps[2 + r.below(sps.len() as u64 - 2) as usize];
                    add_member(&mut members, Member { id: sp.id, kind: MKind::Sp });
                }
            }
            RoleRec { num, id: r.guid(), template: t as u8, members }
        })
        .collect()
}

/// App role assignments: Graph permissions for the connector and some tenant apps; users and groups
/// assigned to tenant and vendor apps (about one per two users).
fn gen_assignments(seed: u64, sps: &mut [SpRec], users: &[&UserRec], groups: &[GroupRec]) {
    let mut key = 0u128;
    let mut r = Mix::new(seed, 0x4153_5347);
    let mut graph_grants: Vec<(u128, Box<str>, u128)> = Vec::new();
    for sp in sps.iter().skip(1) {
        let n = match sp.origin {
            SpOrigin::Connector => GRAPH_ROLES.len() as u64,
            SpOrigin::Tenant(_) if r.pct(25) => 1 + r.below(3),
            _ => 0,
        };
        let start = r.below(GRAPH_ROLES.len() as u64);
        for i in 0..n {
            let (role, _, _) = GRAPH_ROLES[((start + i) % GRAPH_ROLES.len() as u64) as usize];
            graph_grants.push((sp.id, sp.name.clone(), parse_guid(role).unwrap_or_default()));
        }
    }
    let targets: Vec<usize> =
        (0..sps.len()).filter(|&i| matches!(sps[i].origin, SpOrigin::Tenant(_) | SpOrigin::Vendor(_))).collect();
    let avg = users.len() / 2 / targets.len().max(1);
    for (p, name, role) in graph_grants {
        key += 1;
        sps[0].assigned_to.push(Assignment {
            key,
            principal: p,
            ptype: MKind::Sp,
            principal_name: name,
            role,
            created: FROM + r.below(SPAN) as i64,
        });
    }
    for &i in &targets {
        let user_roles: Vec<u128> = sps[i].roles.iter().filter(|x| x.allowed & 1 != 0).map(|x| x.id).collect();
        let n = r.below(2 * avg as u64 + 1) as usize;
        let mut seen: HashMap<u128, ()> = HashMap::new();
        for _ in 0..n {
            let (principal, ptype, name): (u128, MKind, Box<str>) = if !groups.is_empty() && r.pct(15) {
                let g = &groups[r.below(groups.len() as u64) as usize];
                (g.id, MKind::Group, g.display_name().into())
            } else if !users.is_empty() {
                let u = users[r.below(users.len() as u64) as usize];
                (u.id, MKind::User, u.display_name().into())
            } else {
                continue;
            };
            if seen.insert(principal, ()).is_some() {
                continue;
            }
            let role = if user_roles.is_empty() { 0 } else { user_roles[r.below(user_roles.len() as u64) as usize] };
            key += 1;
            sps[i].assigned_to.push(Assignment {
                key,
                principal,
                ptype,
                principal_name: name,
                role,
                created: FROM + r.below(SPAN) as i64,
            });
        }
    }
}
