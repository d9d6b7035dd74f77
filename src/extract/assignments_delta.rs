//! App role assignments from `directoryObjects/delta?$filter=isof('microsoft.graph.appRoleAssignment')` (role names
//! from one `$batch` of the pages' new resources, cached per invocation); a refused delta (403) falls back to the snapshot.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use super::assignments::{self, named_assignment_at, ITEM};
use super::delta::{DeltaPages, PageNormalizer, Records, Round};
use super::record::{deletion, str_prop};
use super::snapshot::SnapshotDiff;
use super::{ExtractCtx, ExtractError, Extractor, Stop};
use crate::airsync::state::TypeState;
use crate::graph::json::{view, Field, Json};
use crate::graph::GraphError;

/// The first request of a round (graph-api.md §8.9: the only change signal for app role assignments).
pub const DELTA_PATH: &str = "/v1.0/directoryObjects/delta?$filter=isof('microsoft.graph.appRoleAssignment')";

/// The delta round, and the snapshot read used for a sync in which the delta is refused.
pub struct AppRoleAssignments {
    delta: DeltaPages,
    snapshot: SnapshotDiff,
}

pub fn extractor() -> AppRoleAssignments {
    AppRoleAssignments {
        delta: DeltaPages {
            record_type: ITEM,
            initial_path: DELTA_PATH.into(),
            pages: Box::new(DeltaAssignmentPages::default()),
            full_list: None,
        },
        snapshot: SnapshotDiff::new(assignments::extractor()),
    }
}

/// Whether the saved cursor belongs to a fallback snapshot read under way (a `servicePrincipals` page).
fn reading_snapshot(state: &TypeState) -> bool {
    state.next_link.as_deref().is_some_and(|l| !l.contains("/directoryObjects/"))
}

#[async_trait::async_trait]
impl Extractor for AppRoleAssignments {
    fn record_type(&self) -> &'static str {
        ITEM
    }

    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError> {
        if !reading_snapshot(state) {
            match self.delta.run(ctx, state).await {
                Err(ExtractError::Graph(GraphError::Permission { code, message })) => {
                    tracing::warn!(
                        record_type = ITEM,
                        %code,
                        %message,
                        "the app role assignments delta (directoryObjects/delta, needs User.Read.All) was refused; \
                         reading every service principal's assignments instead for this sync"
                    );
                    state.next_link = None;
                    state.delta_link = None;
                    state.delta_at = None;
                }
                Ok(Stop::Finished) => {
                    // Ids of an earlier fallback snapshot mean nothing to the delta.
                    state.snapshot = None;
                    return Ok(Stop::Finished);
                }
                other => return other,
            }
        }
        self.snapshot.run(ctx, state).await
    }
}

/// The resources whose role names are kept at most (the large preset meets about 7,500).
const NAMES_KEPT: usize = 10_000;

/// One resource's app roles as (id, display name) pairs: a resource has a few, found by a scan, and a map
/// per resource would add its table to each of up to [`NAMES_KEPT`] entries.
type RoleNames = Box<[(Box<str>, Box<str>)]>;

/// Resource service principal id → its app roles' names, filled as pages name new resources.
#[derive(Default)]
struct DeltaAssignmentPages {
    names: Mutex<HashMap<Box<str>, RoleNames>>,
}

impl DeltaAssignmentPages {
    /// Reads the `appRoles` of the resources not yet known, in one `$batch` (a gone resource names nothing).
    async fn learn(&self, ctx: &ExtractCtx, items: &[Json<'_>]) -> Result<(), ExtractError> {
        let wanted: Vec<Box<str>> = {
            let known = self.names.lock().map_err(|_| GraphError::Malformed("role name cache poisoned".into()))?;
            let mut seen = HashSet::new();
            items
                .iter()
                .filter(|a| a.field("@removed").is_none())
                .filter_map(|a| str_prop(a, "resourceId"))
                .filter(|r| !known.contains_key(*r) && seen.insert(*r))
                .map(Box::from)
                .collect()
        };
        if wanted.is_empty() {
            return Ok(());
        }
        let urls: Vec<String> =
            wanted.iter().map(|id| format!("/servicePrincipals/{id}?$select=id,appRoles")).collect();
        let mut learnt = Vec::with_capacity(wanted.len());
        for (id, result) in wanted.into_iter().zip(ctx.graph.batch_get(&urls).await) {
            let names = match result {
                Ok(sp) => assignments::role_names(&view(&sp)).into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
                Err(GraphError::NotFound(_)) => RoleNames::default(),
                Err(e) => return Err(e.into()),
            };
            learnt.push((id, names));
        }
        let mut known = self.names.lock().map_err(|_| GraphError::Malformed("role name cache poisoned".into()))?;
        if known.len() + learnt.len() > NAMES_KEPT {
            // Memory stays bounded on any tenant: keep only what this page needs (a resource met again
            // later is read again).
            let page: HashSet<&str> = items.iter().filter_map(|a| str_prop(a, "resourceId")).collect();
            known.retain(|resource, _| page.contains(&**resource));
        }
        known.extend(learnt);
        Ok(())
    }
}

#[async_trait::async_trait]
impl PageNormalizer for DeltaAssignmentPages {
    async fn page(&self, ctx: &ExtractCtx, _: Round, items: &[Json<'_>]) -> Result<Records, ExtractError> {
        self.learn(ctx, items).await?;
        let known = self.names.lock().map_err(|_| GraphError::Malformed("role name cache poisoned".into()))?;
        let mut out = Vec::with_capacity(items.len());
        for a in items {
            let Some(id) = str_prop(a, "id") else { continue };
            if str_prop(a, "@odata.type").is_some_and(|t| !t.ends_with("appRoleAssignment")) {
                continue;
            }
            if let Some(removed) = a.field("@removed") {
                out.push((ITEM, deletion(id, removed, ctx.sync_time).into()));
                continue;
            }
            let name = str_prop(a, "resourceId")
                .and_then(|r| known.get(r))
                .zip(str_prop(a, "appRoleId"))
                .and_then(|(names, role)| names.iter().find(|(id, _)| **id == *role))
                .map(|(_, name)| &**name);
            out.extend(named_assignment_at(a, name, ctx.sync_time).map(|r| (ITEM, r.into())));
        }
        Ok(out)
    }
}
