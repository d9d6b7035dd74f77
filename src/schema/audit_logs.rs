//! `directory_audit_logs`: directory audit events read in overlapping time windows (deduplicated by id),
//! with the initiator and targets flattened; retention 7 days (Free) or 30 days (P1/P2).

use super::{derived, prop, Kind, Licence, RecordType, Target};

pub static DIRECTORY_AUDIT_LOGS: RecordType = RecordType {
    key: "directory_audit_logs",
    name: "Directory Audit Logs",
    description: "Audit trail of administrative actions in the tenant",
    fields: &[
        prop("activity_date_time", "Time", Kind::Timestamp, "activityDateTime"),
        prop("activity_display_name", "Activity", Kind::Text, "activityDisplayName"),
        prop("category", "Category", Kind::Text, "category"),
        prop(
            "result",
            "Result",
            Kind::Enum { values: &["success", "failure", "timeout", "unknownFutureValue"], open: true },
            "result",
        ),
        prop("result_reason", "Result reason", Kind::Text, "resultReason"),
        prop("logged_by_service", "Logged by", Kind::Text, "loggedByService"),
        prop("operation_type", "Operation", Kind::Text, "operationType"),
        prop("correlation_id", "Correlation ID", Kind::Text, "correlationId"),
        derived("initiated_by_user_id", "Initiated by user", Kind::Text),
        derived("initiated_by_user_principal_name", "Initiated by (UPN)", Kind::Text),
        derived("initiated_by_user_display_name", "Initiated by (name)", Kind::Text),
        derived("initiated_by_app_id", "Initiated by app", Kind::Text),
        derived("initiated_by_app_display_name", "Initiated by app (name)", Kind::Text),
        derived("initiated_by_service_principal_id", "Initiated by service principal", Kind::Text),
        derived("ip_address", "IP address", Kind::Text),
        derived("target_ids", "Target IDs", Kind::TextList),
        derived("target_types", "Target types", Kind::TextList),
        derived("target_display_names", "Target names", Kind::TextList),
        derived("target_user_principal_names", "Target UPNs", Kind::TextList),
        derived("target_count", "Targets", Kind::Int),
        derived("target_resources_json", "Targets (JSON)", Kind::Text),
        derived("additional_details_json", "Additional details (JSON)", Kind::Text),
    ],
    target: Target::Custom { title_field: "activity_display_name" },
    is_snapshot: false,
    portal_url: None,
    permissions: &["AuditLog.Read.All"],
    licence: Licence::Free,
};
