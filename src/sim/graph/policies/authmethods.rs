//! Authentication methods: per-user method lists (derived from the seed, overridden by mutations),
//! the `userRegistrationDetails` report rows built from them, and the tenant authentication-methods policy.

use super::super::gen::{fmt_guid, Mix};
use super::super::model::{flags, fmt_time, TenantMeta, UserRec};
use serde_json::{json, Value};

/// The well-known id of every user's password method.
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// Method kinds besides the password, in generation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Phone,
    Authenticator,
    Fido2,
    Email,
    WindowsHello,
    SoftwareOath,
}

pub const KINDS: [Kind; 6] =
    [Kind::Phone, Kind::Authenticator, Kind::Fido2, Kind::Email, Kind::WindowsHello, Kind::SoftwareOath];

impl Kind {
    pub fn odata_type(self) -> &'static str {
        match self {
            Kind::Phone => "#microsoft.graph.phoneAuthenticationMethod",
            Kind::Authenticator => "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
            Kind::Fido2 => "#microsoft.graph.fido2AuthenticationMethod",
            Kind::Email => "#microsoft.graph.emailAuthenticationMethod",
            Kind::WindowsHello => "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod",
            Kind::SoftwareOath => "#microsoft.graph.softwareOathAuthenticationMethod",
        }
    }
    /// The `methodsRegistered` value of the registration report.
    pub fn registered_name(self) -> &'static str {
        match self {
            Kind::Phone => "mobilePhone",
            Kind::Authenticator => "microsoftAuthenticatorPush",
            Kind::Fido2 => "fido2",
            Kind::Email => "email",
            Kind::WindowsHello => "windowsHelloForBusiness",
            Kind::SoftwareOath => "softwareOneTimePasscode",
        }
    }
    /// Human name used in audit `resultReason`s.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Phone => "Mobile Phone",
            Kind::Authenticator => "Authenticator App with Notification and Code",
            Kind::Fido2 => "FIDO2 Security Key",
            Kind::Email => "Email",
            Kind::WindowsHello => "Windows Hello for Business",
            Kind::SoftwareOath => "Software OATH token",
        }
    }
    fn from_type(t: &str) -> Option<Kind> {
        KINDS.iter().copied().find(|k| k.odata_type() == t)
    }
}

const KEY_MODELS: [&str; 4] = ["NFC key", "USB-C key", "Bio key", "Dual key"];
const DEVICES: [&str; 5] = ["Pixel 8", "iPhone 15", "Galaxy S24", "iPhone 13", "Surface Laptop"];

/// A new method of `kind` (ids and values from `r`).
pub fn new_method(kind: Kind, r: &mut Mix, u: &UserRec, created: i64) -> Value {
    let id = fmt_guid(r.guid());
    let t = kind.odata_type();
    match kind {
        Kind::Phone => json!({
            "@odata.type": t, "id": id,
            "phoneNumber": format!("+1 555{:07}", r.below(10_000_000)),
            "phoneType": (["mobile", "alternateMobile", "office"][r.below(3) as usize]),
            "smsSignInState": (["notAllowedByPolicy", "notEnabled", "ready"][r.below(3) as usize]),
        }),
        Kind::Authenticator => json!({
            "@odata.type": t, "id": id,
            "displayName": DEVICES[r.below(DEVICES.len() as u64) as usize],
            "deviceTag": "SoftwareTokenActivated",
            "phoneAppVersion": format!("6.{}.{}", 2400 + r.below(200), r.below(10)),
            "createdDateTime": fmt_time(created),
        }),
        Kind::Fido2 => json!({
            "@odata.type": t, "id": id,
            "displayName": format!("Key {}", 1 + r.below(9)),
            "createdDateTime": fmt_time(created),
            "aaGuid": fmt_guid(r.guid()),
            "model": KEY_MODELS[r.below(KEY_MODELS.len() as u64) as usize],
            "attestationCertificates": [format!("{:040x}", r.guid())],
            "attestationLevel": if r.pct(80) { "attested" } else { "notAttested" },
        }),
        Kind::Email => json!({
            "@odata.type": t, "id": id,
            "emailAddress": format!("{}@home-mail.example", u.local_part()),
        }),
        Kind::WindowsHello => json!({
            "@odata.type": t, "id": id,
            "displayName": format!("{}'s laptop", super::super::gen::given_name(u.given)),
            "createdDateTime": fmt_time(created),
            "keyStrength": if r.pct(90) { "normal" } else { "weak" },
        }),
        Kind::SoftwareOath => json!({"@odata.type": t, "id": id, "secretKey": null}),
    }
}

/// The methods a user has without any mutation: password for members plus 0–3 others, none
/// registered after `latest` (unix seconds).
pub fn generated(seed: u64, u: &UserRec, latest: i64) -> Vec<Value> {
    let mut r = Mix::new(seed ^ 0x4155_5448, u.id as u64 ^ (u.id >> 64) as u64);
    let guest = u.flags & flags::GUEST != 0;
    let mut out = Vec::new();
    if !guest {
        out.push(json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": PASSWORD_METHOD_ID,
            "password": null,
            "createdDateTime": fmt_time(u.created),
        }));
    }
    let count = if guest { r.below(2) } else { r.below(4) };
    let mut kinds: Vec<Kind> = Vec::new();
    while (kinds.len() as u64) < count {
        let k = KINDS[r.below(KINDS.len() as u64) as usize];
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    for k in kinds {
        let created = (u.created + 86_400 + r.below(200 * 86_400) as i64).min(latest);
        out.push(new_method(k, &mut r, u, created));
    }
    out
}

fn kinds_of(methods: &[Value]) -> Vec<Kind> {
    methods.iter().filter_map(|m| m["@odata.type"].as_str().and_then(Kind::from_type)).collect()
}

/// One `userRegistrationDetails` row.
pub fn registration_row(meta: &TenantMeta, u: &UserRec, methods: &[Value], updated: i64, is_admin: bool) -> Value {
    let kinds = kinds_of(methods);
    let has = |k: Kind| kinds.contains(&k);
    let guest = u.is_guest();
    let mfa = kinds.iter().any(|k| !matches!(k, Kind::Email));
    let sspr_registered = has(Kind::Phone) || has(Kind::Email) || has(Kind::Authenticator);
    let sspr_enabled = !guest;
    let preferred = if has(Kind::Authenticator) {
        "push"
    } else if has(Kind::SoftwareOath) {
        "oath"
    } else if has(Kind::Phone) {
        "sms"
    } else {
        "none"
    };
    let system: Vec<&str> = if has(Kind::Fido2) {
        vec!["Fido2"]
    } else if has(Kind::Authenticator) {
        vec!["push"]
    } else if has(Kind::Phone) {
        vec!["sms"]
    } else {
        vec![]
    };
    let registered: Vec<&str> = kinds.iter().map(|k| k.registered_name()).collect();
    json!({
        "id": u.id_str(),
        "userPrincipalName": u.upn(meta),
        "userDisplayName": u.display_name(),
        "userType": if guest { "guest" } else { "member" },
        "isAdmin": is_admin,
        "isSsprRegistered": sspr_registered,
        "isSsprEnabled": sspr_enabled,
        "isSsprCapable": sspr_registered && sspr_enabled,
        "isMfaRegistered": mfa,
        "isMfaCapable": mfa && u.flags & flags::ENABLED != 0,
        "isPasswordlessCapable": has(Kind::Fido2) || has(Kind::WindowsHello),
        "methodsRegistered": registered,
        "isSystemPreferredAuthenticationMethodEnabled": true,
        "systemPreferredAuthenticationMethods": system,
        "userPreferredMethodForSecondaryAuthentication": preferred,
        "lastUpdatedDateTime": super::query::fmt_ticks(updated * super::query::TICKS, true),
    })
}

/// The tenant-wide authentication methods policy (singleton).
pub fn default_policy(seed: u64, created: i64) -> Value {
    let mut r = Mix::new(seed, 0x414D_504F);
    let all = |extra: Value| {
        let mut t = json!({"targetType": "group", "id": "all_users", "isRegistrationRequired": false});
        if let (Some(o), Value::Object(e)) = (t.as_object_mut(), extra) {
            o.extend(e);
        }
        json!([t])
    };
    let state = |r: &mut Mix, pct| if r.pct(pct) { "enabled" } else { "disabled" };
    json!({
        "id": "authenticationMethodsPolicy",
        "displayName": "Authentication Methods Policy",
        "description": "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
        "lastModifiedDateTime": super::query::fmt_ticks(created * super::query::TICKS, true),
        "policyVersion": "1.5",
        "policyMigrationState": "migrationComplete",
        "registrationEnforcement": {
            "authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1, "state": "default", "excludeTargets": [],
                "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]
            }
        },
        "authenticationMethodConfigurations": [
            {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": state(&mut r, 60),
             "isSelfServiceRegistrationAllowed": true, "isAttestationEnforced": true,
             "keyRestrictions": {"isEnforced": false, "enforcementType": "block", "aaGuids": []},
             "includeTargets": all(json!({})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "id": "MicrosoftAuthenticator",
             "state": "enabled", "isSoftwareOathEnabled": false,
             "includeTargets": all(json!({"authenticationMode": "any"})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration", "id": "Sms", "state": state(&mut r, 70),
             "includeTargets": all(json!({"isUsableForSignIn": true})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "id": "TemporaryAccessPass",
             "state": state(&mut r, 40), "defaultLifetimeInMinutes": 60, "defaultLength": 8, "minimumLifetimeInMinutes": 60,
             "maximumLifetimeInMinutes": 480, "isUsableOnce": false, "includeTargets": all(json!({})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.emailAuthenticationMethodConfiguration", "id": "Email", "state": state(&mut r, 50),
             "allowExternalIdToUseEmailOtp": "default", "includeTargets": all(json!({})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethodConfiguration", "id": "SoftwareOath",
             "state": state(&mut r, 30), "includeTargets": all(json!({})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "disabled",
             "isOfficePhoneAllowed": false, "includeTargets": all(json!({})), "excludeTargets": []},
            {"@odata.type": "#microsoft.graph.x509CertificateAuthenticationMethodConfiguration", "id": "X509Certificate",
             "state": "disabled", "certificateUserBindings": [], "includeTargets": all(json!({})), "excludeTargets": []}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::graph::gen::{gen_meta, gen_user};

    #[test]
    fn methods_are_deterministic_and_typed() {
        let meta = gen_meta(1);
        for n in 1..50 {
            let u = gen_user(1, n, 10, None);
            let a = generated(5, &u, i64::MAX);
            assert_eq!(a, generated(5, &u, i64::MAX));
            assert!(a.iter().all(|m| m["@odata.type"].as_str().unwrap().starts_with("#microsoft.graph.")));
            assert_eq!(!u.is_guest(), a.iter().any(|m| m["id"] == PASSWORD_METHOD_ID));
            let row = registration_row(&meta, &u, &a, 1_700_000_000, false);
            assert_eq!(row["methodsRegistered"].as_array().unwrap().len(), a.len() - usize::from(!u.is_guest()));
        }
        let p = default_policy(3, 1_700_000_000);
        assert_eq!(p["authenticationMethodConfigurations"].as_array().unwrap().len(), 8);
    }
}
