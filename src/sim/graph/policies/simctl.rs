//! Runtime controls: `/_sim/policies/…` (settings, fault log, fault profile) and the
//! [`PolicyControl`] handle returned by `GraphSim::policies()`.

use super::super::errors::graph_error;
use super::super::http::{json_response, Ctx, Resp};
use super::super::state::Shared;
use super::{extensions, faults, FaultProfile, PolicyKnobs};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};

/// Control endpoints under `/_sim/policies/`: `GET|POST settings`, `GET faults`, `POST fault-profile`.
pub fn control(sh: &Shared, ctx: &Ctx, method: &Method, path: &str, body: &[u8]) -> Option<Resp> {
    let rest = path.strip_prefix("/_sim/policies/")?;
    let ok = |v: Value| json_response(ctx, StatusCode::OK, &v, false, &[]);
    let bad = |m: String| graph_error(ctx, StatusCode::BAD_REQUEST, "Request_BadRequest", &m);
    Some(match (method, rest) {
        (&Method::GET, "settings") => ok(knobs_json(sh)),
        (&Method::POST, "settings") => match serde_json::from_slice::<PolicyKnobs>(body) {
            Ok(k) => {
                set_knobs(sh, k);
                ok(knobs_json(sh))
            }
            Err(e) => bad(format!("invalid settings: {e}")),
        },
        (&Method::GET, "faults") => ok(fault_log(sh)),
        (&Method::POST, "fault-profile") => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            match v["profile"].as_str().map(str::parse::<FaultProfile>) {
                Some(Ok(p)) => {
                    set_fault_profile(sh, p, v["seed"].as_u64());
                    ok(fault_log(sh))
                }
                Some(Err(e)) => bad(e),
                None => bad("expected {\"profile\": \"none|flaky|hostile\", \"seed\"?: n}".into()),
            }
        }
        _ => graph_error(ctx, StatusCode::NOT_FOUND, "UnknownError", &format!("No control endpoint {method} {path}")),
    })
}

fn knobs_json(sh: &Shared) -> Value {
    sh.policies.knobs.read().map(|k| serde_json::to_value(&*k).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

pub(crate) fn set_knobs(sh: &Shared, k: PolicyKnobs) {
    if let Ok(mut cur) = sh.policies.knobs.write() {
        *cur = k;
    }
}

/// Switch the fault profile; the seeded sequence restarts (from `seed`, default the tenant seed).
pub(crate) fn set_fault_profile(sh: &Shared, p: FaultProfile, seed: Option<u64>) {
    if let Ok(mut f) = sh.policies.faults.lock() {
        *f = faults::FaultState::new(p, seed.unwrap_or(sh.opts.seed));
    }
}

/// `{"profile", "requests", "faults": [[requestNumber, kind], …]}`.
pub(crate) fn fault_log(sh: &Shared) -> Value {
    match sh.policies.faults.lock() {
        Ok(f) => json!({"profile": f.profile, "requests": f.requests, "faults": f.log}),
        Err(_) => Value::Null,
    }
}

/// Handle on this module's runtime controls, from [`super::GraphSim::policies`].
pub struct PolicyControl<'a>(pub(crate) &'a Shared);

impl PolicyControl<'_> {
    pub fn set_knobs(&self, k: PolicyKnobs) {
        set_knobs(self.0, k)
    }
    /// The current knobs (counters such as `extension_properties_truncated` count down as they fire).
    pub fn knobs(&self) -> PolicyKnobs {
        self.0.policies.knobs.read().map(|k| k.clone()).unwrap_or_default()
    }
    pub fn set_fault_profile(&self, p: FaultProfile, seed: Option<u64>) {
        set_fault_profile(self.0, p, seed)
    }
    /// The faults injected so far (see [`control`]).
    pub fn fault_log(&self) -> Value {
        fault_log(self.0)
    }
    /// Deletes every object of a snapshot family (`conditional_access`, `pim` or `workflows`), each logged
    /// as Entra logs it; returns how many were deleted (an unknown family deletes nothing).
    pub fn delete_all(&self, family: &str) -> usize {
        super::mutate::delete_all(self.0, family, self.0.now())
    }
    /// The applications owning directory extensions (for the directory part's `/applications`).
    pub fn extension_apps(&self) -> Vec<extensions::ExtensionApp> {
        self.0.policies.data.read().map(|d| d.ext_apps.clone()).unwrap_or_default()
    }
}
