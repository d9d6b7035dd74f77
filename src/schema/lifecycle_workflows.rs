//! `lifecycle_workflows`: joiner / mover / leaver workflows with their execution conditions (scope rule and
//! time-based trigger, read from their nested objects) and tasks; needs Entra ID Governance; full read each sync.

use super::{derived, prop, Kind, Licence, RecordType, Target};

pub static LIFECYCLE_WORKFLOWS: RecordType = RecordType {
    key: "lifecycle_workflows",
    name: "Lifecycle Workflows",
    description: "Automated user lifecycle workflows (requires Microsoft Entra ID Governance)",
    fields: &[
        prop("display_name", "Name", Kind::Text, "displayName"),
        prop("description", "Description", Kind::Text, "description"),
        prop(
            "category",
            "Category",
            Kind::Enum { values: &["joiner", "leaver", "mover", "unknownFutureValue"], open: true },
            "category",
        ),
        prop("is_enabled", "Enabled", Kind::Bool, "isEnabled"),
        prop("is_scheduling_enabled", "Scheduled", Kind::Bool, "isSchedulingEnabled"),
        prop("version", "Version", Kind::Int, "version"),
        prop("created_at", "Created", Kind::Timestamp, "createdDateTime"),
        prop("modified_at", "Last modified", Kind::Timestamp, "lastModifiedDateTime"),
        prop("next_schedule_run_at", "Next scheduled run", Kind::Timestamp, "nextScheduleRunDateTime"),
        derived("execution_conditions_type", "Execution conditions", Kind::Text),
        derived("scope_rule", "Scope rule", Kind::Text),
        derived("trigger_type", "Trigger", Kind::Text),
        derived("trigger_time_based_attribute", "Trigger attribute", Kind::Text),
        derived("trigger_offset_in_days", "Trigger offset (days)", Kind::Int),
        derived("task_count", "Tasks", Kind::Int),
        derived("task_names", "Task names", Kind::TextList),
        derived("task_definition_ids", "Task definitions", Kind::TextList),
        derived("tasks_json", "Tasks (JSON)", Kind::Text),
    ],
    target: Target::Custom { title_field: "display_name" },
    is_snapshot: true,
    portal_url: Some(
        "https://entra.microsoft.com/#view/Microsoft_AAD_LifecycleManagement/WorkflowOverviewBlade/workflowId/{id}",
    ),
    permissions: &["LifecycleWorkflows.Read.All", "LifecycleWorkflows.ReadWrite.All"],
    licence: Licence::Governance,
};
