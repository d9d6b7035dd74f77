//! The `users` record type: members and guests, mapped to DevRev `devu`. The `email` field is the
//! `mail` property only (never a guest's `#EXT#` UPN), so it is derived, not copied.

use super::{Field, Kind, RecordType, Source, Target};

pub static USERS: RecordType = RecordType {
    key: "users",
    name: "Users",
    description: "Entra ID user accounts, members and guests",
    fields: &[
        Field { key: "display_name", name: "Display name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field {
            key: "user_principal_name",
            name: "User principal name",
            kind: Kind::Text,
            source: Source::Prop("userPrincipalName"),
        },
        Field { key: "email", name: "Email", kind: Kind::Text, source: Source::Derived },
        Field { key: "given_name", name: "Given name", kind: Kind::Text, source: Source::Prop("givenName") },
        Field { key: "surname", name: "Surname", kind: Kind::Text, source: Source::Prop("surname") },
        Field {
            key: "account_enabled",
            name: "Account enabled",
            kind: Kind::Bool,
            source: Source::Prop("accountEnabled"),
        },
        Field {
            key: "user_type",
            name: "User type",
            kind: Kind::Enum { values: &["Member", "Guest", "unknownFutureValue"], open: true },
            source: Source::Prop("userType"),
        },
        Field { key: "job_title", name: "Job title", kind: Kind::Text, source: Source::Prop("jobTitle") },
        Field { key: "department", name: "Department", kind: Kind::Text, source: Source::Prop("department") },
        Field { key: "company_name", name: "Company", kind: Kind::Text, source: Source::Prop("companyName") },
        Field { key: "employee_id", name: "Employee ID", kind: Kind::Text, source: Source::Prop("employeeId") },
        Field {
            key: "usage_location",
            name: "Usage location",
            kind: Kind::Text,
            source: Source::Prop("usageLocation"),
        },
        Field { key: "creation_type", name: "Creation type", kind: Kind::Text, source: Source::Prop("creationType") },
        Field {
            key: "external_user_state",
            name: "External user state",
            kind: Kind::Text,
            source: Source::Prop("externalUserState"),
        },
        Field {
            key: "on_premises_sync_enabled",
            name: "Synced from on-premises",
            kind: Kind::Bool,
            source: Source::Prop("onPremisesSyncEnabled"),
        },
        Field {
            key: "proxy_addresses",
            name: "Proxy addresses",
            kind: Kind::TextList,
            source: Source::Prop("proxyAddresses"),
        },
        Field { key: "other_mails", name: "Other emails", kind: Kind::TextList, source: Source::Prop("otherMails") },
        Field {
            key: "created_at",
            name: "Created in Entra ID",
            kind: Kind::Timestamp,
            source: Source::Prop("createdDateTime"),
        },
        Field { key: "assigned_sku_ids", name: "Assigned licence SKUs", kind: Kind::TextList, source: Source::Derived },
    ],
    target: Target::Stock {
        object_type: "devu",
        fields: &[("display_name", "display_name"), ("full_name", "display_name"), ("email", "email")],
    },
    is_snapshot: false,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_UsersAndTenants/UserProfileMenuBlade/~/overview/userId/{id}",
    ),
    permissions: &["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    licence: super::Licence::Free,
};

/// The Graph properties the users delta selects beyond the copied fields (derived fields' sources).
pub const EXTRA_SELECT: &[&str] = &["id", "mail", "assignedLicenses", "onPremisesExtensionAttributes"];
