//! `user_registration_details`: one record per user (id = user id) from the authentication-methods
//! registration report (MFA / SSPR / passwordless registration state); needs Entra ID P1 or P2.

use super::{prop, Field, Kind, Licence, RecordType, Source, Target};

pub static USER_REGISTRATION_DETAILS: RecordType = RecordType {
    key: "user_registration_details",
    name: "User Registration Details",
    description:
        "Per-user authentication method registration state (MFA, SSPR, passwordless) from the registration report",
    fields: &[
        Field { key: "user_id", name: "User", kind: Kind::Reference("users"), source: Source::Derived },
        prop("user_principal_name", "User principal name", Kind::Text, "userPrincipalName"),
        prop("user_display_name", "User display name", Kind::Text, "userDisplayName"),
        prop(
            "user_type",
            "User type",
            Kind::Enum { values: &["member", "guest", "unknownFutureValue"], open: true },
            "userType",
        ),
        prop("is_admin", "Is admin", Kind::Bool, "isAdmin"),
        prop("is_mfa_registered", "MFA registered", Kind::Bool, "isMfaRegistered"),
        prop("is_mfa_capable", "MFA capable", Kind::Bool, "isMfaCapable"),
        prop("is_sspr_registered", "SSPR registered", Kind::Bool, "isSsprRegistered"),
        prop("is_sspr_enabled", "SSPR enabled", Kind::Bool, "isSsprEnabled"),
        prop("is_sspr_capable", "SSPR capable", Kind::Bool, "isSsprCapable"),
        prop("is_passwordless_capable", "Passwordless capable", Kind::Bool, "isPasswordlessCapable"),
        prop("methods_registered", "Methods registered", Kind::TextList, "methodsRegistered"),
        prop(
            "is_system_preferred_method_enabled",
            "System-preferred MFA enabled",
            Kind::Bool,
            "isSystemPreferredAuthenticationMethodEnabled",
        ),
        prop(
            "system_preferred_methods",
            "System-preferred methods",
            Kind::TextList,
            "systemPreferredAuthenticationMethods",
        ),
        prop(
            "user_preferred_secondary_method",
            "User-preferred secondary method",
            Kind::Text,
            "userPreferredMethodForSecondaryAuthentication",
        ),
        prop("last_updated_at", "Last updated", Kind::Timestamp, "lastUpdatedDateTime"),
    ],
    target: Target::Custom { title_field: "user_principal_name" },
    is_snapshot: false,
    portal_url: None,
    permissions: &["AuditLog.Read.All"],
    licence: Licence::P1,
};
