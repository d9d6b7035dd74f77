//! Lifecycle workflows with their `executionConditions` and `tasks` (from a small task-definition
//! catalogue), and the create/update/delete changes of mutations.

use super::super::gen::{fmt_guid, Mix, DEPARTMENTS};
use super::query::{fmt_ticks, TICKS};
use serde_json::{json, Value};

/// (taskDefinitionId, displayName, category)
const TASKS: [(&str, &str, &str); 9] = [
    ("1b555e50-7f65-41d5-b514-5894a026d10d", "Generate TAP And Send Email", "joiner"),
    ("6fc52c9d-398b-4305-9763-15f42c1676fc", "Enable User Account", "joiner"),
    ("70b29d51-b59a-4773-9280-8841dfd3f2ea", "Send Welcome Email", "joiner"),
    ("22085229-5809-45e8-97fd-270d28d66910", "Add user to groups", "joiner,leaver"),
    ("1dfdfcc7-52fa-4c2e-bf3a-e3919cc12950", "Disable User Account", "leaver"),
    ("b3a31406-2a15-4c9a-b25b-a658fa5f07fc", "Remove user from all groups", "leaver"),
    ("8fa97d28-3e52-4985-b3a9-a1126f9b8b4e", "Remove all licenses for user", "leaver"),
    ("8d18588d-9ad3-4c0f-99d0-ec215f0e3dff", "Delete User", "leaver"),
    ("52853a3e-f4e5-4eb8-bb24-1ac09a1da935", "Send email on user's last day", "leaver"),
];

fn tasks_for(r: &mut Mix, category: &str) -> Vec<Value> {
    let fitting: Vec<&(&str, &str, &str)> =
        TASKS.iter().filter(|t| t.2.split(',').any(|c| c == category || category == "mover")).collect();
    let n = 1 + r.below(4.min(fitting.len() as u64)) as usize;
    let start = r.below(fitting.len() as u64) as usize;
    (0..n)
        .map(|i| {
            let (def, name, _) = fitting[(start + i) % fitting.len()];
            json!({
                "id": fmt_guid(r.guid()),
                "arguments": [],
                "category": category,
                "continueOnError": r.pct(30),
                "description": name,
                "displayName": name,
                "executionSequence": i + 1,
                "isEnabled": true,
                "taskDefinitionId": def,
            })
        })
        .collect()
}

pub fn new_workflow(r: &mut Mix, n: usize, created: i64) -> Value {
    let category = ["joiner", "leaver", "mover"][[0, 0, 1, 1, 2][r.below(5) as usize]];
    let dept = DEPARTMENTS[r.below(DEPARTMENTS.len() as u64) as usize];
    let (attr, offset) = match category {
        "joiner" => ("employeeHireDate", -(r.below(7) as i64)),
        "leaver" => ("employeeLeaveDateTime", r.below(7) as i64),
        _ => ("employeeHireDate", 0),
    };
    let stamp = fmt_ticks(created * TICKS + r.below(TICKS as u64) as i64, true);
    json!({
        "@odata.type": "#microsoft.graph.identityGovernance.workflow",
        "id": fmt_guid(r.guid()),
        "category": category,
        "displayName": format!("{} {} ({n})", dept, match category { "joiner" => "onboarding", "leaver" => "offboarding", _ => "move" }),
        "description": format!("Lifecycle tasks for {category}s in {dept}"),
        "isEnabled": r.pct(85),
        "isSchedulingEnabled": r.pct(60),
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "deletedDateTime": null,
        "version": 1,
        "nextScheduleRunDateTime": null,
        "executionConditions": {
            "@odata.type": "#microsoft.graph.identityGovernance.triggerAndScopeBasedConditions",
            "scope": {
                "@odata.type": "#microsoft.graph.identityGovernance.ruleBasedSubjectSet",
                "rule": format!("(department eq '{dept}')")
            },
            "trigger": {
                "@odata.type": "#microsoft.graph.identityGovernance.timeBasedAttributeTrigger",
                "timeBasedAttribute": attr,
                "offsetInDays": offset
            }
        },
        "tasks": tasks_for(r, category),
    })
}

/// 2 + users/200 workflows, at most 50 (the documented per-tenant limit).
pub fn generate(seed: u64, users: usize, now: i64) -> Vec<Value> {
    let mut r = Mix::new(seed, 0x4C43_5700);
    let n = (2 + users / 200).min(50);
    (1..=n)
        .map(|i| {
            let created = now - 500 * 86_400 + r.below(490 * 86_400) as i64;
            new_workflow(&mut r, i, created)
        })
        .collect()
}

/// An update: toggle enablement or replace the tasks; bumps `version` and `lastModifiedDateTime`.
pub fn update(w: &mut Value, r: &mut Mix, now_ticks: i64) {
    if r.pct(50) {
        let on = w["isEnabled"].as_bool().unwrap_or(true);
        w["isEnabled"] = json!(!on);
    } else {
        let cat = w["category"].as_str().unwrap_or("joiner").to_string();
        w["tasks"] = Value::Array(tasks_for(r, &cat));
    }
    w["version"] = json!(w["version"].as_u64().unwrap_or(1) + 1);
    w["lastModifiedDateTime"] = json!(fmt_ticks(now_ticks, true));
}

/// The list representation: without `tasks` unless expanded.
pub fn listed(w: &Value, expand_tasks: bool) -> Value {
    let mut v = w.clone();
    if !expand_tasks {
        if let Some(o) = v.as_object_mut() {
            o.remove("tasks");
        }
    }
    v
}
