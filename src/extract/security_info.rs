//! Which users' authentication methods (or registration state) changed: read from directory audit events
//! ("User registered security info", "Admin deleted security info", "Add user", role changes…) since the last sync.

use super::record::str_prop;
use crate::graph::json::{self, Field, Json};
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

/// Overlap with the previous sync (audit events can arrive late).
pub const OVERLAP: Duration = Duration::minutes(15);

/// One user whose security info changed, with any method ids the events named.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Change {
    pub user_id: String,
    pub user_principal_name: Option<String>,
    /// Method ids named by the events (targets other than the user, `additionalDetails` method ids).
    pub method_ids: Vec<String>,
}

/// The audit query for changes since `since` minus the overlap (open-ended, like the log windows: an
/// event stamped by a Graph clock ahead of ours is read now and again next time, never lost).
pub fn audit_url(since: DateTime<Utc>) -> String {
    format!(
        "/v1.0/auditLogs/directoryAudits?$filter=activityDateTime%20ge%20{}&$top=1000",
        super::norm::filter_floor(since - OVERLAP)
    )
}

/// Whether an audit activity is about a user's authentication methods.
pub fn is_security_info_activity(activity: &str) -> bool {
    let a = activity.to_ascii_lowercase();
    a.contains("security info") || a.contains("authentication method") || a.contains("strongauthentication")
}

/// A user appearing (created or restored): their methods and report row are new.
pub fn is_user_lifecycle_activity(activity: &str) -> bool {
    let a = activity.to_ascii_lowercase();
    a == "add user" || a == "restore user"
}

/// Which events a per-user record type re-reads users for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Triggers {
    /// Security info and users appearing (the methods themselves).
    Methods,
    /// Also role changes (the registration report's `isAdmin`).
    MethodsAndRoles,
}

fn triggered(event: &Json, activity: &str, triggers: Triggers) -> bool {
    if is_security_info_activity(activity) || is_user_lifecycle_activity(activity) {
        return true;
    }
    let role = str_prop(event, "category").is_some_and(|c| c.eq_ignore_ascii_case("RoleManagement"))
        || activity.to_ascii_lowercase().contains(" role");
    triggers == Triggers::MethodsAndRoles && role
}

/// The user and method ids one event names, if it is one of the `triggers`.
pub fn change_of(event: &Json, triggers: Triggers) -> Option<Change> {
    let activity = str_prop(event, "activityDisplayName")?;
    if !triggered(event, activity, triggers) {
        return None;
    }
    let targets: Vec<&Json> =
        event.field("targetResources").and_then(Json::as_array).map(|l| l.iter().collect()).unwrap_or_default();
    let is_user = |t: &Json| str_prop(t, "type").is_some_and(|k| k.eq_ignore_ascii_case("User"));
    let (user_id, upn) = match targets.iter().find(|t| is_user(t)) {
        Some(t) => (str_prop(t, "id")?.to_string(), str_prop(t, "userPrincipalName").map(str::to_string)),
        None if activity.to_ascii_lowercase().starts_with("user ") => {
            let user = json::pointer(event, "/initiatedBy/user")?;
            (str_prop(user, "id")?.to_string(), str_prop(user, "userPrincipalName").map(str::to_string))
        }
        None => return None,
    };
    let mut method_ids: Vec<String> =
        targets.iter().filter(|t| !is_user(t)).filter_map(|t| str_prop(t, "id").map(str::to_string)).collect();
    if let Some(details) = event.field("additionalDetails").and_then(Json::as_array) {
        for d in details {
            let key = str_prop(d, "key").unwrap_or("").to_ascii_lowercase();
            if key.contains("method") && key.contains("id") {
                if let Some(v) = str_prop(d, "value") {
                    method_ids.push(v.to_string());
                }
            }
        }
    }
    Some(Change { user_id, user_principal_name: upn, method_ids })
}

/// The changes named on one page of audit events, merged per user (in user id order).
pub fn changes(events: &[Json<'_>], triggers: Triggers) -> Vec<Change> {
    merge(events.iter().filter_map(|e| change_of(e, triggers)))
}

/// Changes merged per user (in user id order): the first UPN seen, every method id once.
pub fn merge(changes: impl IntoIterator<Item = Change>) -> Vec<Change> {
    let mut by_user: BTreeMap<String, Change> = BTreeMap::new();
    for c in changes {
        let entry = by_user
            .entry(c.user_id.clone())
            .or_insert_with(|| Change { user_id: c.user_id.clone(), ..Default::default() });
        if entry.user_principal_name.is_none() {
            entry.user_principal_name = c.user_principal_name;
        }
        for m in c.method_ids {
            if !entry.method_ids.contains(&m) {
                entry.method_ids.push(m);
            }
        }
    }
    by_user.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::json::{view, views};
    use serde_json::json;

    #[test]
    fn security_info_events_name_users_and_methods() {
        let events = vec![
            json!({"activityDisplayName": "User registered security info", "targetResources": [{"id": "u1", "type": "User", "userPrincipalName": "a@x.test"}]}),
            json!({"activityDisplayName": "Admin deleted security info", "targetResources": [{"id": "u1", "type": "User"}, {"id": "m9", "type": "Other"}]}),
            json!({"activityDisplayName": "User changed default security info", "targetResources": [],
                   "initiatedBy": {"user": {"id": "u2", "userPrincipalName": "b@x.test"}},
                   "additionalDetails": [{"key": "MethodId", "value": "m7"}]}),
            json!({"activityDisplayName": "Add member to group", "targetResources": [{"id": "u3", "type": "User"}]}),
            json!({"activityDisplayName": "Admin registered security info", "targetResources": []}),
            json!({"activityDisplayName": "Add eligible member to role in PIM completed (permanent)", "category": "RoleManagement",
                   "targetResources": [{"id": "r1", "type": "Role"}, {"id": "u4", "type": "User"}]}),
        ];
        let c = changes(&views(&events), Triggers::Methods);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0],
            Change {
                user_id: "u1".into(),
                user_principal_name: Some("a@x.test".into()),
                method_ids: vec!["m9".into()]
            }
        );
        assert_eq!(c[1].method_ids, ["m7"]);
        assert!(is_security_info_activity("Delete authentication method"));
        let with_roles = changes(&views(&events), Triggers::MethodsAndRoles);
        assert_eq!(with_roles.len(), 3);
        assert_eq!(with_roles[2].user_id, "u4");
        let added = json!({"activityDisplayName": "Add user", "targetResources": [{"id": "u5", "type": "User"}]});
        assert_eq!(changes(&[view(&added)], Triggers::Methods)[0].user_id, "u5");
    }
}
