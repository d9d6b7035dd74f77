//! Directory entities of the Graph simulator: groups (+ members), directory roles (+ members), RBAC,
//! applications, service principals (+ app role assignments), devices (+ owners), contacts, and `$batch`.
//!
//! Hooks used by the rest of the simulator (each a single call): [`generate`] at start-up,
//! [`resolve`] in the router, [`batch`] before routing, [`truth_into`] and [`mutate_into`] in the control API.

// Handlers return `Resp` (a large hyper response) as their error, and take the router's full context.
#![allow(clippy::result_large_err, clippy::too_many_arguments)]

mod batch;
mod delta;
mod dir;
mod gen;
mod lists;
mod model;
mod mutate;
mod paging;
mod rbac;
mod render;
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
