//! Extractors: one per entity family, each implementing `Extractor`: read its Graph source from the
//! cursor in `TypeState`, normalize through `schema`, push records to the artifact sink, move the cursor.

mod delta;
pub mod users;
// Directory record types (ex-directory).
pub mod apps;
pub mod assignments;
pub mod assignments_delta;
pub mod contacts;
pub mod devices;
mod fanout;
pub mod groups;
pub mod licences;
pub mod line;
pub mod list;
pub mod record;
pub mod roles;
// Policies, reports, logs, custom fields (one block).
pub mod audit_feed;
pub mod authmethods;
pub mod custom_fields;
pub mod fullread;
pub mod logs;
pub mod norm;
pub mod policies;
pub mod security_info;
pub mod snapshot;
pub mod window;
pub mod workflows;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::airsync::artifacts::{ArtifactError, ArtifactSink};
use crate::airsync::state::TypeState;
use crate::graph::{GraphClient, GraphError};
use crate::schema::CustomField;

pub use delta::{DeltaExtractor, DeltaPages, PageNormalizer, PerEntry, Records, Round};
pub use list::ListExtractor;
pub use snapshot::SnapshotDiff;

/// What an extractor needs from the invocation.
pub struct ExtractCtx {
    pub graph: Arc<GraphClient>,
    pub sink: Arc<ArtifactSink>,
    /// The soft deadline: stop between pages once it has passed.
    pub deadline: Instant,
    /// Cancelled on shutdown (SIGTERM): stop between pages, as at the deadline.
    pub stop: CancellationToken,
    /// `modified_date` of changes found in this sync.
    pub sync_time: DateTime<Utc>,
    /// The users' custom fields of this invocation: on-premises attributes and discovered extensions.
    pub custom_fields: Arc<Vec<CustomField>>,
    /// The audit events read once for the audit log and the per-user types (`audit_feed::AuditFeed::none()`
    /// when nothing shares them).
    pub audit_feed: audit_feed::AuditFeed,
    /// Where the authentication methods come from in this sync (the registration report, or per user).
    pub methods: authmethods::MethodsSource,
}

impl ExtractCtx {
    pub fn should_pause(&self) -> bool {
        self.stop.is_cancelled() || Instant::now() >= self.deadline || self.sink.over_event_budget()
    }

    /// Resolves when the extractor must stop (deadline or shutdown).
    pub async fn paused(&self) {
        tokio::select! {
            _ = tokio::time::sleep_until(self.deadline) => {}
            _ = self.stop.cancelled() => {}
        }
    }
}

/// How an extractor run ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The record type is complete for this sync.
    Finished,
    /// Deadline or shutdown: the cursor is saved, continue in the next invocation.
    Paused,
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
}

#[async_trait::async_trait]
pub trait Extractor: Send + Sync {
    /// The record type (artifact item type) this extractor produces.
    fn record_type(&self) -> &'static str;
    /// Runs from the cursor in `state` until finished or paused; `state` is updated as pages complete.
    async fn run(&self, ctx: &ExtractCtx, state: &mut TypeState) -> Result<Stop, ExtractError>;
}

/// Every extractor, in extraction order.
pub fn all() -> Vec<Box<dyn Extractor>> {
    vec![
        Box::new(users::extractor()),
        // Directory record types (ex-directory).
        Box::new(groups::extractor()),
        Box::new(roles::extractor()),
        Box::new(roles::rbac_extractor()),
        Box::new(apps::applications()),
        Box::new(apps::service_principals()),
        Box::new(assignments_delta::extractor()),
        Box::new(devices::extractor()),
        Box::new(contacts::extractor()),
        // Policies, reports, logs (one block).
        Box::new(authmethods::authentication_methods()),
        Box::new(authmethods::user_registration_details()),
        Box::new(SnapshotDiff::new(policies::AuthMethodsPolicyExtractor)),
        Box::new(SnapshotDiff::new(policies::conditional_access())),
        Box::new(SnapshotDiff::new(policies::pim_eligible_roles())),
        Box::new(SnapshotDiff::new(workflows::lifecycle_workflows())),
        Box::new(window::directory_audit_logs()),
        Box::new(window::sign_in_logs()),
    ]
}
