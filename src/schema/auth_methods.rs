//! `authentication_methods`: one record per registered method of a user, from the registration report where the
//! licence allows it (`<userId>_<reportName>`), else from the per-user API (`<userId>_<methodId>`); never secrets.

use super::{derived, prop, Kind, Licence, RecordType, Target};

/// The method types Graph knows today (the `@odata.type` without `#microsoft.graph.`); open-ended.
pub const METHOD_TYPES: &[&str] = &[
    "passwordAuthenticationMethod",
    "phoneAuthenticationMethod",
    "emailAuthenticationMethod",
    "fido2AuthenticationMethod",
    "microsoftAuthenticatorAuthenticationMethod",
    "windowsHelloForBusinessAuthenticationMethod",
    "softwareOathAuthenticationMethod",
    "temporaryAccessPassAuthenticationMethod",
    "platformCredentialAuthenticationMethod",
    "externalAuthenticationMethod",
    "hardwareOathAuthenticationMethod",
    "securityQuestion",
    "unknownFutureValue",
];

/// The registration report's `methodsRegistered` names (graph-api.md §8.12), each with the method type it
/// stands for and a title; a name not listed keeps its own name as the type (the enum is open).
pub const REGISTERED_METHODS: &[(&str, &str, &str)] = &[
    ("mobilePhone", "phoneAuthenticationMethod", "Phone (mobile)"),
    ("alternateMobilePhone", "phoneAuthenticationMethod", "Phone (alternate mobile)"),
    ("officePhone", "phoneAuthenticationMethod", "Phone (office)"),
    ("email", "emailAuthenticationMethod", "Email"),
    ("microsoftAuthenticatorPush", "microsoftAuthenticatorAuthenticationMethod", "Microsoft Authenticator (push)"),
    (
        "microsoftAuthenticatorPasswordless",
        "microsoftAuthenticatorAuthenticationMethod",
        "Microsoft Authenticator (passwordless)",
    ),
    ("softwareOneTimePasscode", "softwareOathAuthenticationMethod", "Software OATH token"),
    ("hardwareOneTimePasscode", "hardwareOathAuthenticationMethod", "Hardware OATH token"),
    ("fido2", "fido2AuthenticationMethod", "FIDO2 security key"),
    ("passKeyDeviceBound", "fido2AuthenticationMethod", "Passkey (device-bound)"),
    ("passKeyDeviceBoundAuthenticator", "fido2AuthenticationMethod", "Passkey in Microsoft Authenticator"),
    ("passKeyDeviceBoundWindowsHello", "fido2AuthenticationMethod", "Passkey in Windows Hello"),
    ("windowsHelloForBusiness", "windowsHelloForBusinessAuthenticationMethod", "Windows Hello for Business"),
    ("temporaryAccessPass", "temporaryAccessPassAuthenticationMethod", "Temporary Access Pass"),
    ("macOsSecureEnclaveKey", "platformCredentialAuthenticationMethod", "macOS Secure Enclave key"),
    ("externalAuthMethod", "externalAuthenticationMethod", "External authentication method"),
    ("securityQuestion", "securityQuestion", "Security questions"),
];

pub static AUTHENTICATION_METHODS: RecordType = RecordType {
    key: "authentication_methods",
    name: "Authentication Methods",
    description: "MFA and sign-in methods registered by users (phone, authenticator app, FIDO2 key, …); never secrets",
    fields: &[
        derived("user_id", "User", Kind::Reference("users")),
        derived("user_principal_name", "User principal name", Kind::Text),
        derived("method_id", "Method ID", Kind::Text),
        derived("method_type", "Method type", Kind::Enum { values: METHOD_TYPES, open: true }),
        derived("display_name", "Name", Kind::Text),
        prop("created_at", "Registered at", Kind::Timestamp, "createdDateTime"),
        prop("phone_number", "Phone number", Kind::Text, "phoneNumber"),
        prop(
            "phone_type",
            "Phone type",
            Kind::Enum { values: &["mobile", "alternateMobile", "office", "unknownFutureValue"], open: true },
            "phoneType",
        ),
        prop("sms_sign_in_state", "SMS sign-in state", Kind::Text, "smsSignInState"),
        prop("email_address", "Email address", Kind::Text, "emailAddress"),
        prop("device_tag", "Device tag", Kind::Text, "deviceTag"),
        prop("phone_app_version", "Authenticator app version", Kind::Text, "phoneAppVersion"),
        prop("aa_guid", "FIDO2 AAGUID", Kind::Text, "aaGuid"),
        prop("model", "Model", Kind::Text, "model"),
        prop("attestation_level", "Attestation level", Kind::Text, "attestationLevel"),
        prop("key_strength", "Key strength", Kind::Text, "keyStrength"),
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: false,
    portal_url: None,
    permissions: &["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"],
    licence: Licence::Free,
};
