//! PIM eligibility schedules (`roleEligibilitySchedules`): generation over users and well-known roles,
//! and the create/update/delete changes of mutations.

use super::super::gen::{fmt_guid, Mix};
use super::policy::ROLES;
use super::query::{fmt_ticks, TICKS};
use serde_json::{json, Value};

pub fn new_schedule(r: &mut Mix, principal: &str, created: i64) -> Value {
    let id = fmt_guid(r.guid());
    let role = ROLES[r.below(ROLES.len() as u64) as usize].0;
    let start = fmt_ticks(created * TICKS + r.below(TICKS as u64) as i64, true);
    let expiration = match r.below(3) {
        0 => json!({"type": "noExpiration", "endDateTime": null, "duration": null}),
        1 => {
            json!({"type": "afterDateTime", "endDateTime": fmt_ticks((created + 365 * 86_400) * TICKS, false), "duration": null})
        }
        _ => json!({"type": "afterDuration", "endDateTime": null, "duration": format!("P{}D", 30 * (1 + r.below(6)))}),
    };
    json!({
        "id": id,
        "principalId": principal,
        "roleDefinitionId": role,
        "directoryScopeId": "/",
        "appScopeId": null,
        "createdUsing": id,
        "createdDateTime": start,
        "modifiedDateTime": null,
        "status": "Provisioned",
        "memberType": if r.pct(90) { "Direct" } else { "Group" },
        "scheduleInfo": {"startDateTime": start, "recurrence": null, "expiration": expiration}
    })
}

/// 3 + users/40 schedules, at most 500, over (a sample of) member users.
pub fn generate(seed: u64, members: &[String], users: usize, now: i64) -> Vec<Value> {
    let mut r = Mix::new(seed, 0x5049_4D00);
    if members.is_empty() {
        return Vec::new();
    }
    let n = (3 + users / 40).min(500);
    (0..n)
        .map(|_| {
            let p = members[r.below(members.len() as u64) as usize].clone();
            let created = now - 300 * 86_400 + r.below(290 * 86_400) as i64;
            new_schedule(&mut r, &p, created)
        })
        .collect()
}

/// An update: change the expiration (extension of an eligibility).
pub fn update(s: &mut Value, r: &mut Mix, now_ticks: i64) {
    let end = now_ticks / TICKS + (30 + r.below(335) as i64) * 86_400;
    s["scheduleInfo"]["expiration"] =
        json!({"type": "afterDateTime", "endDateTime": fmt_ticks(end * TICKS, false), "duration": null});
    s["modifiedDateTime"] = json!(fmt_ticks(now_ticks, true));
}
