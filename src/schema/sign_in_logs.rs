//! `sign_in_logs`: interactive user sign-ins read in overlapping time windows (deduplicated by id), with
//! status, device, location and Conditional Access results flattened; needs Entra ID P1 or P2.

use super::{derived, prop, Kind, Licence, RecordType, Target};

const RISK_LEVELS: Kind =
    Kind::Enum { values: &["none", "low", "medium", "high", "hidden", "unknownFutureValue"], open: true };

/// Flattened nested fields: (field key, name, kind, JSON pointer inside the sign-in).
pub const NESTED_FIELDS: &[(&str, &str, Kind, &str)] = &[
    ("status_error_code", "Error code", Kind::Int, "/status/errorCode"),
    ("status_failure_reason", "Failure reason", Kind::Text, "/status/failureReason"),
    ("status_additional_details", "Status details", Kind::Text, "/status/additionalDetails"),
    ("device_id", "Device ID", Kind::Text, "/deviceDetail/deviceId"),
    ("device_display_name", "Device", Kind::Text, "/deviceDetail/displayName"),
    ("device_operating_system", "Operating system", Kind::Text, "/deviceDetail/operatingSystem"),
    ("device_browser", "Browser", Kind::Text, "/deviceDetail/browser"),
    ("device_is_compliant", "Device compliant", Kind::Bool, "/deviceDetail/isCompliant"),
    ("device_is_managed", "Device managed", Kind::Bool, "/deviceDetail/isManaged"),
    ("device_trust_type", "Device trust type", Kind::Text, "/deviceDetail/trustType"),
    ("location_city", "City", Kind::Text, "/location/city"),
    ("location_state", "State", Kind::Text, "/location/state"),
    ("location_country", "Country or region", Kind::Text, "/location/countryOrRegion"),
];

pub static SIGN_IN_LOGS: RecordType = RecordType {
    key: "sign_in_logs",
    name: "Sign-In Logs",
    description: "User authentication events and sign-in activity (requires Microsoft Entra ID P1 or P2)",
    fields: &[
        derived("summary", "Sign-in", Kind::Text),
        prop("created_date_time", "Time", Kind::Timestamp, "createdDateTime"),
        prop("user_id", "User ID", Kind::Text, "userId"),
        prop("user_principal_name", "User principal name", Kind::Text, "userPrincipalName"),
        prop("user_display_name", "User", Kind::Text, "userDisplayName"),
        prop("app_id", "Application ID", Kind::Text, "appId"),
        prop("app_display_name", "Application", Kind::Text, "appDisplayName"),
        prop("resource_id", "Resource ID", Kind::Text, "resourceId"),
        prop("resource_display_name", "Resource", Kind::Text, "resourceDisplayName"),
        prop("ip_address", "IP address", Kind::Text, "ipAddress"),
        prop("client_app_used", "Client app", Kind::Text, "clientAppUsed"),
        prop("correlation_id", "Correlation ID", Kind::Text, "correlationId"),
        prop("is_interactive", "Interactive", Kind::Bool, "isInteractive"),
        prop(
            "conditional_access_status",
            "Conditional Access",
            Kind::Enum { values: &["success", "failure", "notApplied", "unknownFutureValue"], open: true },
            "conditionalAccessStatus",
        ),
        prop("risk_detail", "Risk detail", Kind::Text, "riskDetail"),
        prop("risk_level_aggregated", "Risk level (aggregated)", RISK_LEVELS, "riskLevelAggregated"),
        prop("risk_level_during_sign_in", "Risk level (sign-in)", RISK_LEVELS, "riskLevelDuringSignIn"),
        prop(
            "risk_state",
            "Risk state",
            Kind::Enum {
                values: &[
                    "none",
                    "confirmedSafe",
                    "remediated",
                    "dismissed",
                    "atRisk",
                    "confirmedCompromised",
                    "unknownFutureValue",
                ],
                open: true,
            },
            "riskState",
        ),
        prop("risk_event_types", "Risk events", Kind::TextList, "riskEventTypes_v2"),
        derived("status_error_code", "Error code", Kind::Int),
        derived("status_failure_reason", "Failure reason", Kind::Text),
        derived("status_additional_details", "Status details", Kind::Text),
        derived("device_id", "Device ID", Kind::Text),
        derived("device_display_name", "Device", Kind::Text),
        derived("device_operating_system", "Operating system", Kind::Text),
        derived("device_browser", "Browser", Kind::Text),
        derived("device_is_compliant", "Device compliant", Kind::Bool),
        derived("device_is_managed", "Device managed", Kind::Bool),
        derived("device_trust_type", "Device trust type", Kind::Text),
        derived("location_city", "City", Kind::Text),
        derived("location_state", "State", Kind::Text),
        derived("location_country", "Country or region", Kind::Text),
        derived("applied_ca_policy_ids", "Applied CA policies", Kind::TextList),
        derived("applied_ca_policy_results", "CA policy results", Kind::TextList),
    ],
    target: Target::Custom { title_field: "summary" },
    is_snapshot: false,
    portal_url: None,
    permissions: &["AuditLog.Read.All"],
    licence: Licence::P1,
};
