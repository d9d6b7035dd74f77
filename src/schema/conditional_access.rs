//! `conditional_access_policies`: every Conditional Access policy with its conditions, grant and session
//! controls flattened to lists (plus the raw objects as JSON text); needs Entra ID P1; a full read each sync.

use super::{Field, Kind, Licence, RecordType, Source, Target};

const fn derived(key: &'static str, name: &'static str, kind: Kind) -> Field {
    Field { key, name, kind, source: Source::Derived }
}

/// Flattened list fields: (field key, name, JSON pointer inside the policy).
pub const LIST_FIELDS: &[(&str, &str, &str)] = &[
    ("include_users", "Included users", "/conditions/users/includeUsers"),
    ("exclude_users", "Excluded users", "/conditions/users/excludeUsers"),
    ("include_groups", "Included groups", "/conditions/users/includeGroups"),
    ("exclude_groups", "Excluded groups", "/conditions/users/excludeGroups"),
    ("include_roles", "Included roles", "/conditions/users/includeRoles"),
    ("exclude_roles", "Excluded roles", "/conditions/users/excludeRoles"),
    ("include_applications", "Included applications", "/conditions/applications/includeApplications"),
    ("exclude_applications", "Excluded applications", "/conditions/applications/excludeApplications"),
    ("include_user_actions", "Included user actions", "/conditions/applications/includeUserActions"),
    ("client_app_types", "Client app types", "/conditions/clientAppTypes"),
    ("include_platforms", "Included platforms", "/conditions/platforms/includePlatforms"),
    ("exclude_platforms", "Excluded platforms", "/conditions/platforms/excludePlatforms"),
    ("include_locations", "Included locations", "/conditions/locations/includeLocations"),
    ("exclude_locations", "Excluded locations", "/conditions/locations/excludeLocations"),
    ("user_risk_levels", "User risk levels", "/conditions/userRiskLevels"),
    ("sign_in_risk_levels", "Sign-in risk levels", "/conditions/signInRiskLevels"),
    ("grant_built_in_controls", "Grant controls", "/grantControls/builtInControls"),
];

pub static CONDITIONAL_ACCESS_POLICIES: RecordType = RecordType {
    key: "conditional_access_policies",
    name: "Conditional Access Policies",
    description: "Policies controlling access based on conditions (users, apps, location, device, risk)",
    fields: &[
        Field { key: "display_name", name: "Name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field {
            key: "state",
            name: "State",
            kind: Kind::Enum {
                values: &["enabled", "disabled", "enabledForReportingButNotEnforced", "unknownFutureValue"],
                open: true,
            },
            source: Source::Prop("state"),
        },
        Field { key: "template_id", name: "Template", kind: Kind::Text, source: Source::Prop("templateId") },
        Field { key: "created_at", name: "Created", kind: Kind::Timestamp, source: Source::Prop("createdDateTime") },
        Field {
            key: "modified_at",
            name: "Last modified",
            kind: Kind::Timestamp,
            source: Source::Prop("modifiedDateTime"),
        },
        derived("include_users", "Included users", Kind::TextList),
        derived("exclude_users", "Excluded users", Kind::TextList),
        derived("include_groups", "Included groups", Kind::TextList),
        derived("exclude_groups", "Excluded groups", Kind::TextList),
        derived("include_roles", "Included roles", Kind::TextList),
        derived("exclude_roles", "Excluded roles", Kind::TextList),
        derived("include_applications", "Included applications", Kind::TextList),
        derived("exclude_applications", "Excluded applications", Kind::TextList),
        derived("include_user_actions", "Included user actions", Kind::TextList),
        derived("client_app_types", "Client app types", Kind::TextList),
        derived("include_platforms", "Included platforms", Kind::TextList),
        derived("exclude_platforms", "Excluded platforms", Kind::TextList),
        derived("include_locations", "Included locations", Kind::TextList),
        derived("exclude_locations", "Excluded locations", Kind::TextList),
        derived("user_risk_levels", "User risk levels", Kind::TextList),
        derived("sign_in_risk_levels", "Sign-in risk levels", Kind::TextList),
        derived("grant_built_in_controls", "Grant controls", Kind::TextList),
        derived("grant_operator", "Grant operator", Kind::Enum { values: &["AND", "OR"], open: true }),
        derived("grant_authentication_strength", "Authentication strength", Kind::Text),
        derived("sign_in_frequency_value", "Sign-in frequency", Kind::Int),
        derived("sign_in_frequency_type", "Sign-in frequency unit", Kind::Text),
        derived("persistent_browser_mode", "Persistent browser", Kind::Text),
        derived("conditions_json", "Conditions (JSON)", Kind::Text),
        derived("grant_controls_json", "Grant controls (JSON)", Kind::Text),
        derived("session_controls_json", "Session controls (JSON)", Kind::Text),
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: true,
    portal_url: Some("https://entra.microsoft.com/#view/Microsoft_AAD_ConditionalAccess/PolicyBlade/policyId/{id}"),
    permissions: &["Policy.Read.All", "Policy.Read.ConditionalAccess", "Policy.ReadWrite.ConditionalAccess"],
    licence: Licence::P1,
};
