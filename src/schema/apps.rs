//! Applications and service principals (custom objects), the app roles they define, and the app role
//! assignments granted on each service principal (a snapshot, read every sync).

use super::{Field, Kind, Licence, RecordType, Source, Target};

const APP_PERMISSIONS: &[&str] = &["Application.Read.All", "Directory.Read.All", "Application.ReadWrite.All"];

pub static APPLICATIONS: RecordType = RecordType {
    key: "applications",
    name: "Applications",
    description: "App registrations in the tenant",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "app_id", name: "Application (client) ID", kind: Kind::Text, source: Source::Prop("appId") },
        Field {
            key: "sign_in_audience",
            name: "Sign-in audience",
            kind: Kind::Enum {
                values: &[
                    "AzureADMyOrg",
                    "AzureADMultipleOrgs",
                    "AzureADandPersonalMicrosoftAccount",
                    "PersonalMicrosoftAccount",
                    "unknownFutureValue",
                ],
                open: true,
            },
            source: Source::Prop("signInAudience"),
        },
        Field {
            key: "publisher_domain",
            name: "Publisher domain",
            kind: Kind::Text,
            source: Source::Prop("publisherDomain"),
        },
        Field {
            key: "identifier_uris",
            name: "Identifier URIs",
            kind: Kind::TextList,
            source: Source::Prop("identifierUris"),
        },
        Field { key: "tags", name: "Tags", kind: Kind::TextList, source: Source::Prop("tags") },
        Field {
            key: "created_at",
            name: "Created in Entra ID",
            kind: Kind::Timestamp,
            source: Source::Prop("createdDateTime"),
        },
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    // The portal addresses app registrations by appId, so the link is derived by the normalizer.
    portal_url: None,
    permissions: APP_PERMISSIONS,
    licence: Licence::Free,
};

/// The app registration's page in the Entra portal (addressed by appId).
pub const APPLICATION_PORTAL_URL: &str =
    "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/";

pub static SERVICE_PRINCIPALS: RecordType = RecordType {
    key: "service_principals",
    name: "Service principals",
    description: "Enterprise applications, managed identities and other service principals",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "app_id", name: "Application (client) ID", kind: Kind::Text, source: Source::Prop("appId") },
        Field {
            key: "service_principal_type",
            name: "Type",
            kind: Kind::Enum {
                values: &["Application", "ManagedIdentity", "Legacy", "SocialIdp", "unknownFutureValue"],
                open: true,
            },
            source: Source::Prop("servicePrincipalType"),
        },
        Field {
            key: "account_enabled",
            name: "Enabled for sign-in",
            kind: Kind::Bool,
            source: Source::Prop("accountEnabled"),
        },
        Field {
            key: "app_owner_organization_id",
            name: "Owner tenant ID",
            kind: Kind::Text,
            source: Source::Prop("appOwnerOrganizationId"),
        },
        Field {
            key: "app_role_assignment_required",
            name: "Assignment required",
            kind: Kind::Bool,
            source: Source::Prop("appRoleAssignmentRequired"),
        },
        Field { key: "tags", name: "Tags", kind: Kind::TextList, source: Source::Prop("tags") },
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/ManagedAppMenuBlade/~/Overview/objectId/{id}",
    ),
    permissions: APP_PERMISSIONS,
    licence: Licence::Free,
};

/// Graph properties the service principals delta selects beyond the copied ones.
pub const SERVICE_PRINCIPALS_EXTRA_SELECT: &[&str] = &["id", "appRoles"];

/// Fields are read from one `appRole` object inside a service principal's `appRoles`.
pub static APP_ROLES: RecordType = RecordType {
    key: "app_roles",
    name: "App roles",
    description: "Roles a service principal defines for users, groups and applications",
    fields: &[
        Field {
            key: "service_principal_id",
            name: "Service principal",
            kind: Kind::Reference("service_principals"),
            source: Source::Derived,
        },
        Field { key: "app_role_id", name: "App role ID", kind: Kind::Text, source: Source::Prop("id") },
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "description", name: "Description", kind: Kind::Text, source: Source::Prop("description") },
        Field { key: "value", name: "Claim value", kind: Kind::Text, source: Source::Prop("value") },
        Field { key: "is_enabled", name: "Enabled", kind: Kind::Bool, source: Source::Prop("isEnabled") },
        Field {
            key: "allowed_member_types",
            name: "Allowed member types",
            kind: Kind::TextList,
            source: Source::Prop("allowedMemberTypes"),
        },
        Field { key: "origin", name: "Origin", kind: Kind::Text, source: Source::Prop("origin") },
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    portal_url: None,
    permissions: APP_PERMISSIONS,
    licence: Licence::Free,
};

/// Fields are read from one `appRoleAssignment` of `directoryObjects/delta` (or, in the fallback,
/// `/servicePrincipals/{id}/appRoleAssignedTo`).
pub static APP_ROLE_ASSIGNMENTS: RecordType = RecordType {
    key: "app_role_assignments",
    name: "App role assignments",
    description: "Users, groups and service principals granted app roles on each service principal",
    fields: &[
        Field { key: "principal_id", name: "Principal", kind: Kind::Text, source: Source::Prop("principalId") },
        Field {
            key: "principal_type",
            name: "Principal type",
            kind: Kind::Enum { values: &["User", "Group", "ServicePrincipal", "unknownFutureValue"], open: true },
            source: Source::Prop("principalType"),
        },
        Field {
            key: "principal_display_name",
            name: "Principal name",
            kind: Kind::Text,
            source: Source::Prop("principalDisplayName"),
        },
        Field {
            key: "resource_id",
            name: "Resource service principal",
            kind: Kind::Reference("service_principals"),
            source: Source::Prop("resourceId"),
        },
        Field {
            key: "resource_display_name",
            name: "Resource name",
            kind: Kind::Text,
            source: Source::Prop("resourceDisplayName"),
        },
        Field { key: "app_role_id", name: "App role ID", kind: Kind::Text, source: Source::Prop("appRoleId") },
        Field { key: "app_role_name", name: "App role", kind: Kind::Text, source: Source::Derived },
        Field {
            key: "created_at",
            name: "Assigned at",
            kind: Kind::Timestamp,
            source: Source::Prop("createdDateTime"),
        },
    ],
    target: Target::Custom { title_field: "principal_display_name" },
    is_snapshot: false,
    portal_url: None,
    permissions: APP_PERMISSIONS,
    licence: Licence::Free,
};
