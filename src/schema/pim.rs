//! `pim_eligible_roles`: Privileged Identity Management role eligibility schedules (who may activate which
//! directory role, where, until when); needs Entra ID P2 or Governance; a full read each sync.

use super::{derived, prop, Kind, Licence, RecordType, Target};

pub static PIM_ELIGIBLE_ROLES: RecordType = RecordType {
    key: "pim_eligible_roles",
    name: "PIM Eligible Roles",
    description: "Privileged Identity Management role eligibility (requires Microsoft Entra ID P2 or Governance)",
    fields: &[
        derived("display_name", "Name", Kind::Text),
        prop("principal_id", "Principal", Kind::Text, "principalId"),
        prop("role_definition_id", "Role definition", Kind::Text, "roleDefinitionId"),
        prop("directory_scope_id", "Directory scope", Kind::Text, "directoryScopeId"),
        prop("app_scope_id", "App scope", Kind::Text, "appScopeId"),
        prop("status", "Status", Kind::Text, "status"),
        prop(
            "member_type",
            "Member type",
            Kind::Enum { values: &["Direct", "Group", "Inherited", "unknownFutureValue"], open: true },
            "memberType",
        ),
        prop("created_using", "Created using", Kind::Text, "createdUsing"),
        prop("created_at", "Created", Kind::Timestamp, "createdDateTime"),
        prop("modified_at", "Last modified", Kind::Timestamp, "modifiedDateTime"),
        derived("schedule_start", "Eligible from", Kind::Timestamp),
        derived("schedule_end", "Eligible until", Kind::Timestamp),
        derived(
            "expiration_type",
            "Expiration",
            Kind::Enum {
                values: &["notSpecified", "noExpiration", "afterDateTime", "afterDuration", "unknownFutureValue"],
                open: true,
            },
        ),
        derived("expiration_duration", "Expiration duration", Kind::Text),
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: true,
    portal_url: None,
    permissions: &[
        "RoleEligibilitySchedule.Read.Directory",
        "RoleEligibilitySchedule.ReadWrite.Directory",
        "RoleManagement.Read.Directory",
        "RoleManagement.Read.All",
        "RoleManagement.ReadWrite.Directory",
    ],
    licence: Licence::P2,
};
