//! Discovery of the users' directory extensions: `getAvailableExtensionProperties`, else every application's
//! paged `extensionProperties` through `$batch`; requests a missing permission would refuse are not sent.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::airsync::state::{ConnectorState, Status};
use crate::graph::json::{Field, Json};
use crate::graph::{GraphClient, GraphError};
use crate::schema::custom_fields::{from_extension_property, user_custom_fields};
use crate::schema::CustomField;

pub const AVAILABLE_PATH: &str = "/v1.0/directoryObjects/getAvailableExtensionProperties";
pub const APPLICATIONS_PATH: &str = "/v1.0/applications?$select=id&$top=999";

/// Permissions that let the worker call `getAvailableExtensionProperties`.
pub const DIRECTORY_READ: &[&str] = &["Directory.Read.All", "Directory.ReadWrite.All"];
/// Permissions that let the worker list applications and their extension properties.
pub const APPLICATION_READ: &[&str] =
    &["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];

fn granted(roles: Option<&[String]>, any_of: &[&str]) -> bool {
    roles.is_none_or(|r| r.iter().any(|g| any_of.contains(&g.as_str())))
}

fn to_fields(items: &[Value]) -> Vec<CustomField> {
    let mut fields: Vec<CustomField> = items.iter().filter_map(from_extension_property).collect();
    fields.sort_by(|a, b| a.key.cmp(&b.key));
    fields.dedup_by(|a, b| a.key == b.key);
    fields
}

/// The properties of an `extensionProperty` a custom field is made of (what is remembered in the state).
const KEPT: [&str; 5] = ["name", "dataType", "isMultiValued", "targetObjects", "appDisplayName"];

/// The user-targeted extension properties among `items`, trimmed to what a custom field is made of.
fn user_targeted(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter(|ep| from_extension_property(ep).is_some())
        .map(|ep| Value::Object(KEPT.iter().filter_map(|k| Some((k.to_string(), ep.get(*k)?.clone()))).collect()))
        .collect()
}

/// The user-targeted directory extensions of the tenant. `roles` are the granted application permissions
/// (None when unknown). Refusals (403/404/400) mean "none found"; auth, throttling and outages are errors.
pub async fn discover(graph: &GraphClient, roles: Option<&[String]>) -> Result<Vec<CustomField>, GraphError> {
    Ok(to_fields(&discover_properties(graph, roles).await?))
}

/// As [`discover`], as the (trimmed) `extensionProperty` objects.
async fn discover_properties(graph: &GraphClient, roles: Option<&[String]>) -> Result<Vec<Value>, GraphError> {
    if granted(roles, DIRECTORY_READ) {
        match graph.post_json(AVAILABLE_PATH, &json!({})).await {
            Ok(body) => {
                let found = user_targeted(&graph.all_items(&body).await?);
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            Err(e @ (GraphError::Permission { .. } | GraphError::NotFound(_) | GraphError::Rejected { .. })) => {
                tracing::warn!(error = %e, "getAvailableExtensionProperties refused; trying the applications");
            }
            Err(e) => return Err(e),
        }
    }
    if !granted(roles, APPLICATION_READ) {
        tracing::warn!(
            "no permission to discover directory extensions (grant Directory.Read.All or Application.Read.All)"
        );
        return Ok(Vec::new());
    }
    match per_application(graph).await {
        Ok(items) => Ok(user_targeted(&items)),
        Err(e @ GraphError::Permission { .. }) => {
            tracing::warn!(error = %e, "applications cannot be listed; no directory extensions discovered");
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// The directory extensions for this invocation, remembered in `state`. A discovery that fails (an outage,
/// a malformed answer) falls back to the extensions of the last successful one: sending users without
/// fields they have would lose those values until the users next change. Token failures and throttling
/// are always errors (ERROR / DELAYED); so is any failure when nothing was ever discovered.
pub async fn discover_remembered(
    graph: &GraphClient,
    roles: Option<&[String]>,
    state: &mut ConnectorState,
) -> Result<Vec<CustomField>, GraphError> {
    match discover_properties(graph, roles).await {
        Ok(found) => {
            let fields = to_fields(&found);
            state.extension_properties = Some(found);
            Ok(fields)
        }
        Err(e @ (GraphError::Auth(_) | GraphError::Throttled { .. })) => Err(e),
        Err(e) => match &state.extension_properties {
            Some(known) => {
                tracing::warn!(error = %e, extensions = known.len(), "directory extensions could not be discovered; using those of the last discovery");
                Ok(to_fields(known))
            }
            None => Err(e),
        },
    }
}

/// The users' custom fields for one invocation of a data phase: those the metadata phase discovered and
/// remembered, else discovered now (only while the users record type still runs; see
/// [`discover_remembered`] for failures).
pub async fn for_data_phase(
    graph: &GraphClient,
    state: &mut ConnectorState,
) -> Result<Arc<Vec<CustomField>>, GraphError> {
    let users_running = state.types.get("users").is_some_and(|s| matches!(s.status, Status::Pending | Status::Running));
    if !users_running {
        return Ok(Arc::new(user_custom_fields(&[])));
    }
    // The metadata phase of this sync discovered them just before (and remembered them): on a tenant where
    // `getAvailableExtensionProperties` answers empty, discovering again costs one read per application.
    if let Some(known) = &state.extension_properties {
        return Ok(Arc::new(user_custom_fields(&to_fields(known))));
    }
    let token = graph.tokens().token().await?;
    let roles = crate::engine::plan::token_roles(&token);
    let discovered = discover_remembered(graph, roles.as_deref(), state).await?;
    Ok(Arc::new(user_custom_fields(&discovered)))
}

/// Every application's extension properties (paged application list, `$batch` per page).
async fn per_application(graph: &GraphClient) -> Result<Vec<Value>, GraphError> {
    let mut found = Vec::new();
    let mut next = Some(APPLICATIONS_PATH.to_string());
    let mut is_link = false;
    while let Some(url) = next {
        let page = graph.get_page(&url, is_link).await?;
        let urls: Vec<String> = page
            .items()
            .iter()
            .filter_map(|a| a.field("id").and_then(Json::as_str))
            .map(|id| format!("/applications/{id}/extensionProperties"))
            .collect();
        for result in graph.batch_get(&urls).await {
            match result {
                Ok(body) => found.extend(graph.all_items(&body).await?),
                Err(GraphError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        next = page.next_link;
        is_link = true;
    }
    Ok(found)
}
