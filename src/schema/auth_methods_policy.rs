//! `authentication_methods_policy`: the tenant-wide singleton (id `authenticationMethodsPolicy`) with its
//! registration campaign and the state of every method configuration; a full read each sync.

use super::{derived, Field, Kind, Licence, RecordType, Source, Target};

pub static AUTHENTICATION_METHODS_POLICY: RecordType = RecordType {
    key: "authentication_methods_policy",
    name: "Authentication Methods Policy",
    description:
        "Tenant-wide policy: which authentication methods are allowed, for whom, and the registration campaign",
    fields: &[
        Field { key: "display_name", name: "Name", kind: Kind::Text, source: Source::Prop("displayName") },
        Field { key: "description", name: "Description", kind: Kind::Text, source: Source::Prop("description") },
        Field {
            key: "policy_version",
            name: "Policy version",
            kind: Kind::Text,
            source: Source::Prop("policyVersion"),
        },
        Field {
            key: "policy_migration_state",
            name: "Migration state",
            kind: Kind::Text,
            source: Source::Prop("policyMigrationState"),
        },
        Field {
            key: "modified_at",
            name: "Last modified",
            kind: Kind::Timestamp,
            source: Source::Prop("lastModifiedDateTime"),
        },
        derived(
            "registration_campaign_state",
            "Registration campaign state",
            Kind::Enum { values: &["default", "enabled", "disabled", "unknownFutureValue"], open: true },
        ),
        derived("registration_snooze_days", "Registration snooze (days)", Kind::Int),
        derived("registration_include_targets", "Registration campaign targets", Kind::TextList),
        derived("enabled_methods", "Enabled methods", Kind::TextList),
        derived("disabled_methods", "Disabled methods", Kind::TextList),
        derived("method_configuration_count", "Method configurations", Kind::Int),
        derived("method_configurations_json", "Method configurations (JSON)", Kind::Text),
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: true,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_IAM/AuthenticationMethodsMenuBlade/~/AdminAuthMethods",
    ),
    permissions: &["Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"],
    licence: Licence::Free,
};
