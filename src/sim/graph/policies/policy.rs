//! Conditional Access policies: generation from a few templates (risk conditions only on P2 tenants)
//! and the create/update/delete changes that mutations apply.

use super::super::gen::{fmt_guid, Mix};
use super::licence::Licence;
use super::query::{fmt_ticks, TICKS};
use serde_json::{json, Value};

/// Well-known directory role template ids (also the unified RBAC role definition ids).
pub const ROLES: [(&str, &str); 8] = [
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
];

const TEMPLATES: [&str; 8] = [
    "Require MFA for admins",
    "Block legacy authentication",
    "Require compliant device for Office 365",
    "Require MFA for guests",
    "Block sign-ins from untrusted countries",
    "Require MFA for Azure management",
    "Require password change for high-risk users",
    "Sign-in frequency for unmanaged devices",
];

/// One policy; `users` are candidate user ids for include/exclude lists.
pub fn new_policy(r: &mut Mix, n: usize, users: &[String], licence: Licence, created: i64) -> Value {
    let t = r.below(TEMPLATES.len() as u64) as usize;
    let pick_user = |r: &mut Mix| users.get(r.below(users.len().max(1) as u64) as usize).cloned();
    let exclude: Vec<String> = (0..r.below(3)).filter_map(|_| pick_user(r)).collect();
    let include_users: Vec<String> = match t {
        0 | 5 => vec![],
        3 => vec!["GuestsOrExternalUsers".into()],
        _ if r.pct(20) => (0..1 + r.below(3)).filter_map(|_| pick_user(r)).collect(),
        _ => vec!["All".into()],
    };
    let include_roles: Vec<&str> =
        if t == 0 || t == 5 { (0..1 + r.below(3)).map(|_| ROLES[r.below(4) as usize].0).collect() } else { vec![] };
    let risky = licence >= Licence::P2 && (t == 6 || r.pct(10));
    let state = ["enabled", "disabled", "enabledForReportingButNotEnforced"][[0, 0, 0, 1, 2][r.below(5) as usize]];
    let controls: Vec<&str> = match t {
        1 | 4 => vec!["block"],
        2 => vec!["compliantDevice"],
        6 => vec!["mfa", "passwordChange"],
        _ => vec!["mfa"],
    };
    json!({
        "id": fmt_guid(r.guid()),
        "templateId": null,
        "displayName": format!("CA{:03} - {}", n, TEMPLATES[t]),
        "createdDateTime": fmt_ticks(created * TICKS + r.below(TICKS as u64) as i64, true),
        "modifiedDateTime": null,
        "state": state,
        "sessionControls": if t == 7 { json!({"signInFrequency": {"value": 12, "type": "hours", "isEnabled": true, "authenticationType": "primaryAndSecondaryAuthentication", "frequencyInterval": "timeBased"}}) } else { Value::Null },
        "conditions": {
            "userRiskLevels": if risky && t == 6 { json!(["high"]) } else { json!([]) },
            "signInRiskLevels": if risky && t != 6 { json!(["high", "medium"]) } else { json!([]) },
            "clientAppTypes": if t == 1 { json!(["exchangeActiveSync", "other"]) } else { json!(["all"]) },
            "platforms": null,
            "locations": if t == 4 { json!({"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}) } else { Value::Null },
            "devices": null,
            "applications": {
                "includeApplications": [match t { 2 => "Office365", 5 => "797f4846-ba00-4fd7-ba43-dac1f8f63013", _ => "All" }],
                "excludeApplications": [], "includeUserActions": [], "includeAuthenticationContextClassReferences": []
            },
            "users": {
                "includeUsers": include_users, "excludeUsers": exclude, "includeGroups": [], "excludeGroups": [],
                "includeRoles": include_roles, "excludeRoles": [],
                "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null
            }
        },
        "grantControls": if t == 7 { Value::Null } else { json!({
            "operator": "OR", "builtInControls": controls, "customAuthenticationFactors": [], "termsOfUse": [],
            "authenticationStrength": null
        })}
    })
}

/// Generated policies: 5 + users/100, at most 150.
pub fn generate(seed: u64, users: &[String], licence: Licence, now: i64) -> Vec<Value> {
    let mut r = Mix::new(seed, 0x4341_504F);
    let n = (5 + users.len() / 100).min(150);
    (1..=n)
        .map(|i| {
            let created = now - 400 * 86_400 + r.below(390 * 86_400) as i64;
            new_policy(&mut r, i, users, licence, created)
        })
        .collect()
}

/// An update: flip the state or toggle an excluded user; sets `modifiedDateTime`.
pub fn update(p: &mut Value, r: &mut Mix, users: &[String], now_ticks: i64) {
    if r.pct(50) {
        let next = match p["state"].as_str() {
            Some("enabled") => "enabledForReportingButNotEnforced",
            Some("disabled") => "enabled",
            _ => "disabled",
        };
        p["state"] = json!(next);
    } else if let Some(ex) = p.pointer_mut("/conditions/users/excludeUsers").and_then(Value::as_array_mut) {
        match users.get(r.below(users.len().max(1) as u64) as usize) {
            Some(u) if !ex.iter().any(|e| e == u.as_str()) => ex.push(json!(u)),
            _ => {
                ex.pop();
            }
        }
    }
    p["modifiedDateTime"] = json!(fmt_ticks(now_ticks, true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_scales_and_respects_licence() {
        let users: Vec<String> = (0..1000u128).map(fmt_guid).collect();
        let p1 = generate(1, &users, Licence::P1, 1_700_000_000);
        assert_eq!(p1.len(), 15);
        assert_eq!(p1, generate(1, &users, Licence::P1, 1_700_000_000));
        assert!(p1.iter().all(|p| p["conditions"]["signInRiskLevels"] == json!([])));
        let p2 = generate(1, &users, Licence::P2, 1_700_000_000);
        assert!(p2.iter().any(
            |p| p["conditions"]["signInRiskLevels"] != json!([]) || p["conditions"]["userRiskLevels"] != json!([])
        ));
        let mut p = p1[0].clone();
        let mut r = Mix::new(1, 2);
        update(&mut p, &mut r, &users, 5 * TICKS);
        assert_ne!(p, p1[0]);
    }
}
