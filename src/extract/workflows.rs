//! Lifecycle workflows: the paged workflow list, enriched through `$batch` with each workflow's tasks (and
//! its full object when the list omits `executionConditions`); the normalizer reads the nested trigger.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::Value;

use super::fullread::FullReadExtractor;
use super::norm::{at, id_of, json_text, kind_at, live, odata_type, parse_ts, record};
use super::ExtractCtx;
use crate::graph::json::{to_owned, view, Field, Json};
use crate::graph::GraphError;
use crate::schema::{self, Kind, RecordType};

pub const WORKFLOWS_PATH: &str = "/v1.0/identityGovernance/lifecycleWorkflows/workflows";
const RELATIVE: &str = "/identityGovernance/lifecycleWorkflows/workflows";

/// A workflow (with `tasks` and `executionConditions`) → its record.
pub fn normalize_workflow(obj: &Json, sync_time: DateTime<Utc>) -> Option<Value> {
    let rt: &RecordType = &schema::LIFECYCLE_WORKFLOWS;
    let id = id_of(obj)?;
    let mut data = rt.copy_props(obj);
    let conditions = obj.field("executionConditions").filter(|v| !v.is_null());
    data.insert("execution_conditions_type".into(), conditions.and_then(odata_type).map_or(Value::Null, Value::String));
    data.insert("scope_rule".into(), kind_at(obj, "/executionConditions/scope/rule", Kind::Text));
    data.insert(
        "trigger_type".into(),
        at(obj, "/executionConditions/trigger").and_then(odata_type).map_or(Value::Null, Value::String),
    );
    data.insert(
        "trigger_time_based_attribute".into(),
        kind_at(obj, "/executionConditions/trigger/timeBasedAttribute", Kind::Text),
    );
    data.insert("trigger_offset_in_days".into(), kind_at(obj, "/executionConditions/trigger/offsetInDays", Kind::Int));
    let tasks = obj.field("tasks").and_then(Json::as_array);
    let pick = |key: &str| -> Value {
        tasks.map_or(Value::Null, |t| {
            Value::Array(t.iter().filter_map(|task| task.field(key).filter(|v| v.is_string()).map(to_owned)).collect())
        })
    };
    data.insert("task_count".into(), tasks.map_or(Value::Null, |t| Value::from(t.len() as u64)));
    data.insert("task_names".into(), pick("displayName"));
    data.insert("task_definition_ids".into(), pick("taskDefinitionId"));
    data.insert("tasks_json".into(), json_text(obj.field("tasks")));
    live(&mut data);
    Some(record(id, parse_ts(obj.field("createdDateTime")), sync_time, data))
}

/// Fills in `tasks` (and the full object when `executionConditions` is missing) for one page of workflows;
/// a workflow deleted meanwhile (404) is dropped; any other failure fails the record type.
fn enrich(ctx: &ExtractCtx, items: Vec<Value>) -> BoxFuture<'_, Result<Vec<Value>, GraphError>> {
    Box::pin(async move {
        let mut urls = Vec::new();
        let mut slots = Vec::new(); // (item index, is_tasks)
        for (i, item) in items.iter().enumerate() {
            let Some(id) = id_of(&view(item)).map(str::to_string) else { continue };
            if item.get("executionConditions").is_none() {
                urls.push(format!("{RELATIVE}/{id}"));
                slots.push((i, false));
            }
            if !item.get("tasks").is_some_and(Value::is_array) {
                urls.push(format!("{RELATIVE}/{id}/tasks"));
                slots.push((i, true));
            }
        }
        let results = ctx.graph.batch_get(&urls).await;
        let mut items: Vec<Option<Value>> = items.into_iter().map(Some).collect();
        for ((i, is_tasks), result) in slots.into_iter().zip(results) {
            let body = match result {
                Ok(body) => body,
                Err(GraphError::NotFound(_)) => {
                    items[i] = None;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let Some(Value::Object(item)) = items[i].as_mut() else { continue };
            if is_tasks {
                let mut tasks = body.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
                let mut next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
                while let Some(link) = next {
                    let page = ctx.graph.get_page(&link, true).await?;
                    tasks.extend(page.owned_items());
                    next = page.next_link;
                }
                item.insert("tasks".into(), Value::Array(tasks));
            } else if let Value::Object(full) = body {
                for (k, v) in full {
                    if !k.starts_with("@odata.context") {
                        item.entry(k).or_insert(v);
                    }
                }
            }
        }
        Ok(items.into_iter().flatten().collect())
    })
}

pub fn lifecycle_workflows() -> FullReadExtractor {
    FullReadExtractor {
        record_type: "lifecycle_workflows",
        path: WORKFLOWS_PATH.to_string(),
        normalize: normalize_workflow,
        enrich: Some(enrich),
    }
}
