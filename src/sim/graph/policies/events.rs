//! Directory-audit and sign-in event records (compact, rendered on demand) and their Graph JSON:
//! activity kinds with category/service/operation, initiators, targets, sign-in apps and statuses.

use super::super::gen::{fmt_guid, Mix, LOCATIONS};
use super::query::fmt_ticks;
use serde_json::{json, Value};

/// (activityDisplayName, category, loggedByService, operationType, target type)
pub const AUDIT_KINDS: [(&str, &str, &str, &str, &str); 14] = [
    ("Update user", "UserManagement", "Core Directory", "Update", "User"),
    ("Add user", "UserManagement", "Core Directory", "Add", "User"),
    ("Reset user password", "UserManagement", "Core Directory", "Update", "User"),
    ("User registered security info", "UserManagement", "Authentication Methods", "Add", "User"),
    ("User changed default security info", "UserManagement", "Authentication Methods", "Update", "User"),
    ("User deleted security info", "UserManagement", "Authentication Methods", "Delete", "User"),
    ("Add conditional access policy", "Policy", "Conditional Access", "Add", "Policy"),
    ("Update conditional access policy", "Policy", "Conditional Access", "Update", "Policy"),
    ("Delete conditional access policy", "Policy", "Conditional Access", "Delete", "Policy"),
    ("Add eligible member to role in PIM completed (permanent)", "RoleManagement", "PIM", "Add", "Role"),
    ("Update eligible member of role in PIM completed", "RoleManagement", "PIM", "Update", "Role"),
    ("Remove eligible member from role in PIM completed", "RoleManagement", "PIM", "Delete", "Role"),
    ("Create workflow", "WorkflowManagement", "Lifecycle Workflows", "Add", "Workflow"),
    ("Update workflow", "WorkflowManagement", "Lifecycle Workflows", "Update", "Workflow"),
];
pub const K_UPDATE_USER: u8 = 0;
pub const K_ADD_USER: u8 = 1;
pub const K_RESET_PASSWORD: u8 = 2;
pub const K_SEC_REGISTERED: u8 = 3;
pub const K_SEC_CHANGED: u8 = 4;
pub const K_SEC_DELETED: u8 = 5;
pub const K_CA_ADD: u8 = 6;
pub const K_PIM_ADD: u8 = 9;
pub const K_WF_ADD: u8 = 12;
/// Kinds 12/13 plus this pseudo-kind render as "Delete workflow".
pub const K_WF_DELETE: u8 = 14;

/// Who did it.
#[derive(Clone, Debug)]
pub enum Initiator {
    User { id: u128, upn: Box<str> },
    App { app_id: u128, name: &'static str },
}

/// A target of an audit event.
#[derive(Clone, Debug)]
pub struct Target {
    pub id: Box<str>,
    pub name: Option<Box<str>>,
    pub upn: Option<Box<str>>,
    pub kind: &'static str,
}

impl Target {
    pub fn user(id: u128, upn: &str) -> Target {
        Target { id: fmt_guid(id).into(), name: None, upn: Some(upn.into()), kind: "User" }
    }
    pub fn named(id: &str, name: &str, kind: &'static str) -> Target {
        Target { id: id.into(), name: Some(name.into()), upn: None, kind }
    }
}

#[derive(Clone, Debug)]
pub struct AuditRec {
    pub seq: u32,
    pub ticks: i64,
    pub kind: u8,
    pub success: bool,
    pub corr: u128,
    pub by: Initiator,
    pub targets: Vec<Target>,
    /// `resultReason` / the modified property name.
    pub detail: Box<str>,
}

fn kind_row(kind: u8) -> (&'static str, &'static str, &'static str, &'static str) {
    if kind == K_WF_DELETE {
        return ("Delete workflow", "WorkflowManagement", "Lifecycle Workflows", "Delete");
    }
    let k = AUDIT_KINDS[kind as usize % AUDIT_KINDS.len()];
    (k.0, k.1, k.2, k.3)
}

impl AuditRec {
    pub fn id(&self) -> String {
        let (_, _, service, _) = kind_row(self.kind);
        let prefix = match service {
            "Core Directory" => "Directory",
            "Authentication Methods" => "AuthMethods",
            "Conditional Access" => "CA",
            "PIM" => "PIM",
            _ => "LCW",
        };
        let tag: String = (0..5).map(|i| (b'A' + ((self.corr >> (i * 5)) % 26) as u8) as char).collect();
        format!("{prefix}_{}_{tag}_{}", fmt_guid(self.corr), self.seq)
    }

    pub fn render(&self) -> Value {
        let (name, category, service, op) = kind_row(self.kind);
        let initiated = match &self.by {
            Initiator::User { id, upn } => json!({"app": null, "user": {
                "id": fmt_guid(*id), "displayName": null, "userPrincipalName": upn,
                "ipAddress": format!("203.0.113.{}", 1 + (id % 250)), "userType": null, "homeTenantId": null, "homeTenantName": null
            }}),
            Initiator::App { app_id, name } => json!({"user": null, "app": {
                "appId": fmt_guid(*app_id), "displayName": name, "servicePrincipalId": fmt_guid(app_id.rotate_left(17)),
                "servicePrincipalName": name
            }}),
        };
        let modified = if self.kind == K_UPDATE_USER {
            json!([{"displayName": &*self.detail, "oldValue": null, "newValue": "\"updated\""}])
        } else {
            json!([])
        };
        let targets: Vec<Value> = self
            .targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({
                    "id": &*t.id, "displayName": t.name.as_deref(), "type": t.kind,
                    "userPrincipalName": t.upn.as_deref(), "groupType": null,
                    "modifiedProperties": if i == 0 { modified.clone() } else { json!([]) },
                })
            })
            .collect();
        let reason = if self.kind == K_UPDATE_USER { "" } else { &*self.detail };
        json!({
            "id": self.id(),
            "category": category,
            "correlationId": fmt_guid(self.corr),
            "result": if self.success { "success" } else { "failure" },
            "resultReason": reason,
            "activityDisplayName": name,
            "activityDateTime": fmt_ticks(self.ticks, true),
            "loggedByService": service,
            "operationType": op,
            "initiatedBy": initiated,
            "targetResources": targets,
            "additionalDetails": [{"key": "User-Agent", "value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}],
        })
    }
}

/// (displayName, appId)
pub const SIGN_IN_APPS: [(&str, &str); 6] = [
    ("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"),
    ("Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"),
    ("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"),
    ("Graph Explorer", "de8bc8b5-d9f9-48b1-a8ad-b748da725064"),
    ("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000"),
    ("My Apps", "2793995e-0a7d-40d7-bd35-6968ba142197"),
];
/// (errorCode, failureReason)
const STATUSES: [(u32, &str); 5] = [
    (0, "Other."),
    (50126, "Error validating credentials due to invalid username or password."),
    (50074, "Strong Authentication is required."),
    (53003, "Access has been blocked by Conditional Access policies."),
    (50140, "This error occurred due to 'Keep me signed in' interrupt when the user was signing in."),
];
const CITIES: [&str; 10] =
    ["Redmond", "London", "Berlin", "Paris", "Pune", "Osaka", "Recife", "Toronto", "Perth", "Utrecht"];
const CLIENTS: [(&str, &str, &str); 4] = [
    ("Windows 10", "Edge 122.0.0", "Browser"),
    ("MacOs", "Safari 17.2", "Browser"),
    ("Ios", "Mobile Safari", "Mobile Apps and Desktop clients"),
    ("Android", "Chrome Mobile 121", "Mobile Apps and Desktop clients"),
];

#[derive(Clone, Debug)]
pub struct SignInRec {
    pub seq: u32,
    pub ticks: i64,
    pub id: u128,
    pub corr: u128,
    pub user_id: u128,
    pub upn: Box<str>,
    pub display: Box<str>,
    pub app: u8,
    pub status: u8,
    pub loc: u8,
    pub client: u8,
    pub ip: u8,
    /// A conditional access policy evaluated at the time: (id, displayName, applied).
    pub ca: Option<(Box<str>, Box<str>, bool)>,
}

impl SignInRec {
    /// A sign-in of user (`id`, `upn`, `display`) at `ticks`.
    pub fn draw(r: &mut Mix, seq: u32, ticks: i64, user: (u128, &str, String), ca: Option<(&str, &str)>) -> SignInRec {
        let status = if r.pct(85) { 0 } else { 1 + r.below(STATUSES.len() as u64 - 1) as u8 };
        SignInRec {
            seq,
            ticks,
            id: r.guid(),
            corr: r.guid(),
            user_id: user.0,
            upn: user.1.into(),
            display: user.2.into(),
            app: r.below(SIGN_IN_APPS.len() as u64) as u8,
            status,
            loc: r.below(CITIES.len() as u64) as u8,
            client: r.below(CLIENTS.len() as u64) as u8,
            ip: r.below(250) as u8,
            ca: ca.map(|(id, name)| (id.into(), name.into(), status != 3 || r.pct(50))),
        }
    }

    pub fn render(&self) -> Value {
        let (app, app_id) = SIGN_IN_APPS[self.app as usize % SIGN_IN_APPS.len()];
        let (code, reason) = STATUSES[self.status as usize % STATUSES.len()];
        let (os, browser, client) = CLIENTS[self.client as usize % CLIENTS.len()];
        let loc = self.loc as usize % CITIES.len();
        let applied: Vec<Value> = self
            .ca
            .iter()
            .map(|(id, name, hit)| {
                json!({
                    "id": &**id, "displayName": &**name,
                    "enforcedGrantControls": if *hit { json!(["Mfa"]) } else { json!([]) },
                    "enforcedSessionControls": [],
                    "result": if !*hit { "notApplied" } else if code == 53003 { "failure" } else { "success" },
                })
            })
            .collect();
        let ca_status = match applied.first().map(|a| a["result"].as_str().unwrap_or("")) {
            Some("failure") => "failure",
            Some("success") => "success",
            _ => "notApplied",
        };
        json!({
            "id": fmt_guid(self.id),
            "createdDateTime": fmt_ticks(self.ticks, false),
            "userDisplayName": &*self.display,
            "userPrincipalName": &*self.upn,
            "userId": fmt_guid(self.user_id),
            "appId": app_id,
            "appDisplayName": app,
            "ipAddress": format!("198.51.100.{}", 1 + self.ip),
            "clientAppUsed": client,
            "correlationId": fmt_guid(self.corr),
            "conditionalAccessStatus": ca_status,
            "isInteractive": true,
            "riskDetail": "none",
            "riskLevelAggregated": "none",
            "riskLevelDuringSignIn": "none",
            "riskState": "none",
            "riskEventTypes_v2": [],
            "resourceDisplayName": "Microsoft Graph",
            "resourceId": "00000003-0000-0000-c000-000000000000",
            "status": {"errorCode": code, "failureReason": reason, "additionalDetails": null},
            "deviceDetail": {"deviceId": "", "displayName": null, "operatingSystem": os, "browser": browser,
                             "isCompliant": null, "isManaged": null, "trustType": null},
            "location": {"city": CITIES[loc], "state": null, "countryOrRegion": LOCATIONS[loc % LOCATIONS.len()],
                         "geoCoordinates": {"altitude": null, "latitude": null, "longitude": null}},
            "appliedConditionalAccessPolicies": applied,
        })
    }
}

/// Ordering key of an event: newest first means descending `(ticks, seq)`.
pub trait Event {
    fn key(&self) -> (i64, u32);
    fn render(&self) -> Value;
}

impl Event for AuditRec {
    fn key(&self) -> (i64, u32) {
        (self.ticks, self.seq)
    }
    fn render(&self) -> Value {
        AuditRec::render(self)
    }
}

impl Event for SignInRec {
    fn key(&self) -> (i64, u32) {
        (self.ticks, self.seq)
    }
    fn render(&self) -> Value {
        SignInRec::render(self)
    }
}
