//! `MutationSpec.activity`: new audit events and sign-ins at the sim clock, users' authentication-method
//! changes (each logged as a security-info audit event), and CA / PIM / workflow create-update-delete.

use super::super::gen::Mix;
use super::super::model::{TenantMeta, UserRec};
use super::super::state::Shared;
use super::authmethods::{self, Kind, KINDS, PASSWORD_METHOD_ID};
use super::data::{insert_sorted, PolicyData};
use super::events::{self, AuditRec, Initiator, Target};
use super::query::TICKS;
use super::{pim, policy, workflows};
use serde_json::{json, Value};

/// Apply `n` units of activity; returns the summary merged into the mutation answer.
pub fn apply(sh: &Shared, n: usize, seed: u64, now: i64) -> Value {
    if n == 0 {
        return json!({});
    }
    let (Ok(t), Ok(mut d)) = (sh.tenant.read(), sh.policies.data.write()) else {
        return json!({"error": "state unavailable"});
    };
    d.rounds += 1;
    let mut r = Mix::new(seed ^ d.seed, d.rounds);
    let users = t.users_after(None, usize::MAX);
    if users.is_empty() {
        return json!({});
    }
    let meta = &t.meta;
    let mut tick = 0i64;
    let mut stamp = move || {
        tick += 1;
        now * TICKS + tick
    };
    let pick = |r: &mut Mix| users[r.below(users.len() as u64) as usize];

    let mut audits = 0;
    for _ in 0..n {
        let kind = [events::K_UPDATE_USER, events::K_UPDATE_USER, events::K_RESET_PASSWORD][r.below(3) as usize];
        let u = pick(&mut r);
        let rec = d.audit_for(&mut r, kind, u, meta, stamp());
        insert_sorted(&mut d.audits, rec);
        audits += 1;
    }
    for _ in 0..n {
        let u = pick(&mut r);
        let rec = d.sign_in_for(&mut r, u, meta, now * TICKS);
        insert_sorted(&mut d.signins, rec);
    }
    for i in 0..n {
        let u = pick(&mut r);
        let ticks = stamp();
        let rec = change_methods(&mut d, &mut r, u, meta, i, now, ticks);
        insert_sorted(&mut d.audits, rec);
        audits += 1;
    }
    let ca_users: Vec<String> = (0..20).map(|_| pick(&mut r).id_str()).collect();
    let members: Vec<&UserRec> = users.iter().copied().filter(|u| !u.is_guest()).take(5000).collect();
    let mut summary = json!({"sign_ins": n, "auth_method_changes": n});
    for family in ["conditional_access", "pim", "workflows"] {
        let mut counts = [0usize; 3];
        for i in 0..n {
            let ticks = stamp();
            let op = if i % 3 == 0 || family_len(&d, family) == 0 { 0 } else { i % 3 };
            let rec = match (family, op) {
                ("conditional_access", 0) => {
                    let next = d.ca.len() + 1;
                    let p = policy::new_policy(&mut r, next, &ca_users, sh.opts.licence, now);
                    let target = named(&p, "displayName", "Policy");
                    d.ca.push(p);
                    policy_audit(&mut d, &mut r, events::K_CA_ADD, vec![target], ticks)
                }
                ("conditional_access", 1) => {
                    let k = r.below(d.ca.len() as u64) as usize;
                    policy::update(&mut d.ca[k], &mut r, &ca_users, ticks);
                    let target = named(&d.ca[k], "displayName", "Policy");
                    policy_audit(&mut d, &mut r, events::K_CA_ADD + 1, vec![target], ticks)
                }
                ("conditional_access", _) => {
                    let k = r.below(d.ca.len() as u64) as usize;
                    let p = d.ca.remove(k);
                    policy_audit(&mut d, &mut r, events::K_CA_ADD + 2, vec![named(&p, "displayName", "Policy")], ticks)
                }
                ("pim", 0) => {
                    let who = members.get(r.below(members.len().max(1) as u64) as usize).map(|u| u.id_str());
                    let s = pim::new_schedule(&mut r, &who.unwrap_or_default(), now);
                    let targets = pim_targets(&s);
                    d.pim.push(s);
                    policy_audit(&mut d, &mut r, events::K_PIM_ADD, targets, ticks)
                }
                ("pim", 1) => {
                    let k = r.below(d.pim.len() as u64) as usize;
                    pim::update(&mut d.pim[k], &mut r, ticks);
                    let targets = pim_targets(&d.pim[k]);
                    policy_audit(&mut d, &mut r, events::K_PIM_ADD + 1, targets, ticks)
                }
                ("pim", _) => {
                    let k = r.below(d.pim.len() as u64) as usize;
                    let s = d.pim.remove(k);
                    policy_audit(&mut d, &mut r, events::K_PIM_ADD + 2, pim_targets(&s), ticks)
                }
                (_, 0) => {
                    let w = workflows::new_workflow(&mut r, d.workflows.len() + 1, now);
                    let target = named(&w, "displayName", "Other");
                    d.workflows.push(w);
                    policy_audit(&mut d, &mut r, events::K_WF_ADD, vec![target], ticks)
                }
                (_, 1) => {
                    let k = r.below(d.workflows.len() as u64) as usize;
                    workflows::update(&mut d.workflows[k], &mut r, ticks);
                    let target = named(&d.workflows[k], "displayName", "Other");
                    policy_audit(&mut d, &mut r, events::K_WF_ADD + 1, vec![target], ticks)
                }
                _ => {
                    let k = r.below(d.workflows.len() as u64) as usize;
                    let w = d.workflows.remove(k);
                    policy_audit(&mut d, &mut r, events::K_WF_DELETE, vec![named(&w, "displayName", "Other")], ticks)
                }
            };
            insert_sorted(&mut d.audits, rec);
            audits += 1;
            counts[op] += 1;
        }
        summary[family] = json!({"created": counts[0], "updated": counts[1], "deleted": counts[2]});
    }
    // The methods policy changes once per activity round: one configuration toggles.
    let configs = d.methods_policy["authenticationMethodConfigurations"].as_array().map_or(0, Vec::len);
    if configs > 0 {
        let k = r.below(configs as u64) as usize;
        let cfg = &mut d.methods_policy["authenticationMethodConfigurations"][k];
        let on = cfg["state"] == "enabled";
        cfg["state"] = json!(if on { "disabled" } else { "enabled" });
        d.methods_policy["lastModifiedDateTime"] = json!(super::query::fmt_ticks(stamp(), true));
    }
    summary["directory_audits"] = json!(audits);
    summary
}

/// Deletes every CA policy, PIM schedule or workflow (`family`), logging each deletion's audit event.
pub fn delete_all(sh: &Shared, family: &str, now: i64) -> usize {
    let Ok(mut d) = sh.policies.data.write() else { return 0 };
    d.rounds += 1;
    let mut r = Mix::new(d.seed, d.rounds);
    let gone = match family {
        "conditional_access" => std::mem::take(&mut d.ca),
        "pim" => std::mem::take(&mut d.pim),
        "workflows" => std::mem::take(&mut d.workflows),
        _ => return 0,
    };
    for (i, obj) in gone.iter().enumerate() {
        let (kind, targets) = match family {
            "conditional_access" => (events::K_CA_ADD + 2, vec![named(obj, "displayName", "Policy")]),
            "pim" => (events::K_PIM_ADD + 2, pim_targets(obj)),
            _ => (events::K_WF_DELETE, vec![named(obj, "displayName", "Other")]),
        };
        let rec = policy_audit(&mut d, &mut r, kind, targets, now * TICKS + i as i64 + 1);
        insert_sorted(&mut d.audits, rec);
    }
    gone.len()
}

fn family_len(d: &PolicyData, family: &str) -> usize {
    match family {
        "conditional_access" => d.ca.len(),
        "pim" => d.pim.len(),
        _ => d.workflows.len(),
    }
}

fn named(v: &Value, name_key: &str, kind: &'static str) -> Target {
    Target::named(v["id"].as_str().unwrap_or(""), v[name_key].as_str().unwrap_or(""), kind)
}

fn pim_targets(s: &Value) -> Vec<Target> {
    let role = s["roleDefinitionId"].as_str().unwrap_or("");
    let role_name = policy::ROLES.iter().find(|r| r.0 == role).map_or("", |r| r.1);
    let principal = s["principalId"].as_str().unwrap_or("");
    vec![Target::named(role, role_name, "Role"), Target { id: principal.into(), name: None, upn: None, kind: "User" }]
}

fn policy_audit(d: &mut PolicyData, r: &mut Mix, kind: u8, targets: Vec<Target>, ticks: i64) -> AuditRec {
    let by = match d.admins.first() {
        Some((id, upn)) => Initiator::User { id: *id, upn: upn.clone() },
        None => Initiator::App { app_id: 0x5EED, name: super::data::DIRECTORY_SYNC_APP },
    };
    AuditRec { seq: d.take_seq(), ticks, kind, success: true, corr: r.guid(), by, targets, detail: "".into() }
}

/// Register, change or delete one of `u`'s methods (op by `i`); returns the security-info audit event.
fn change_methods(
    d: &mut PolicyData,
    r: &mut Mix,
    u: &UserRec,
    meta: &TenantMeta,
    i: usize,
    now: i64,
    ticks: i64,
) -> AuditRec {
    let mut methods = d.methods(u);
    let present: Vec<Kind> =
        KINDS.iter().copied().filter(|k| methods.iter().any(|m| m["@odata.type"] == k.odata_type())).collect();
    let removable: Vec<usize> = (0..methods.len()).filter(|&k| methods[k]["id"] != PASSWORD_METHOD_ID).collect();
    let phone = methods.iter().position(|m| m["@odata.type"] == Kind::Phone.odata_type());
    let missing: Vec<Kind> = KINDS.iter().copied().filter(|k| !present.contains(k)).collect();
    let mut op = i % 3;
    if op == 2 && removable.is_empty() || op == 0 && missing.is_empty() {
        op = 1;
    }
    let (kind, label) = match op {
        0 => {
            let k = missing[r.below(missing.len() as u64) as usize];
            methods.push(authmethods::new_method(k, r, u, now));
            (events::K_SEC_REGISTERED, format!("User registered {}", k.label()))
        }
        2 => {
            let gone = methods.remove(removable[r.below(removable.len() as u64) as usize]);
            let k = KINDS.iter().find(|k| gone["@odata.type"] == k.odata_type()).copied().unwrap_or(Kind::Phone);
            (events::K_SEC_DELETED, format!("User deleted {}", k.label()))
        }
        _ => {
            match phone {
                Some(p) => methods[p]["phoneNumber"] = json!(format!("+1 555{:07}", r.below(10_000_000))),
                None => methods.push(authmethods::new_method(Kind::Phone, r, u, now)),
            }
            (events::K_SEC_CHANGED, format!("User changed default {}", Kind::Phone.label()))
        }
    };
    d.overrides.insert(u.id, (methods, now));
    let upn = u.upn(meta);
    AuditRec {
        seq: d.take_seq(),
        ticks,
        kind,
        success: true,
        corr: r.guid(),
        by: Initiator::User { id: u.id, upn: upn.clone().into() },
        targets: vec![Target::user(u.id, &upn)],
        detail: label.into(),
    }
}
