//! Directory entities of the Graph simulator (groups, roles, RBAC, apps, SPs, devices, contacts) and `$batch`;
//! hooks: `generate` (start-up), `resolve`/`batch` (router), `truth_into`/`mutate_into` (control API), CLI args.

mod batch;
mod delta;
mod dir;
mod gen;
mod lists;
mod model;
mod mutate;
mod mutate_apps;
mod objects;
mod paging;
mod rbac;
mod render;
mod render_apps;
mod render_devices;
mod routes;
mod tokens;
mod truth;
mod words;

pub use batch::batch;
pub use dir::Directory;
pub use routes::{resolve, Endpoint};

use super::state::Shared;
use super::tenant::Tenant;
use super::{GraphSimOptions, MutationSpec};
use serde_json::{json, Value};

/// `sim graph` flags for the directory counts (each defaults from `--users`, docs/contracts.md §3).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DirectoryArgs {
    /// Number of groups (default users / 5).
    #[arg(long)]
    pub groups: Option<usize>,
    /// Number of devices (default users / 2).
    #[arg(long)]
    pub devices: Option<usize>,
    /// Number of app registrations (default users / 20 + 5).
    #[arg(long)]
    pub applications: Option<usize>,
    /// Number of service principals (default applications × 2 + 10).
    #[arg(long)]
    pub service_principals: Option<usize>,
    /// Number of organizational contacts (default users / 20).
    #[arg(long)]
    pub contacts: Option<usize>,
    /// Total group memberships (default 5 per user).
    #[arg(long)]
    pub memberships: Option<usize>,
}

impl DirectoryArgs {
    /// Default options carrying these counts.
    pub fn options(&self) -> GraphSimOptions {
        GraphSimOptions {
            groups: self.groups,
            devices: self.devices,
            applications: self.applications,
            service_principals: self.service_principals,
            contacts: self.contacts,
            memberships: self.memberships,
            ..GraphSimOptions::default()
        }
    }
}

/// Generate the directory for a freshly generated tenant.
pub fn generate(opts: &GraphSimOptions, t: &Tenant) -> Directory {
    let users = t.users_after(None, usize::MAX);
    gen::generate(opts, &users, &t.meta)
}

/// Add the directory's keys to the truth object.
pub fn truth_into(sh: &Shared, out: &mut Value) {
    if let Ok(d) = sh.directory.read() {
        truth::truth_into(&d, out);
    }
}

/// Apply `spec.directory` changes after the tenant's own mutation, and always drop links to users
/// that no longer exist; with `spec.directory > 0` the summary goes under `"directory"` in `out`.
/// Call with the tenant's write lock held.
pub fn mutate_into(sh: &Shared, t: &Tenant, spec: &MutationSpec, now: i64, out: &mut Value) {
    let users = t.users_after(None, usize::MAX);
    let summary = match sh.directory.write() {
        Ok(mut d) if spec.directory > 0 => d.mutate(&users, spec.directory, spec.seed, now),
        Ok(mut d) => {
            d.reconcile(&users);
            return;
        }
        Err(_) => json!({"error": "directory lock poisoned"}),
    };
    if let Some(o) = out.as_object_mut() {
        o.insert("directory".into(), summary);
    }
}
