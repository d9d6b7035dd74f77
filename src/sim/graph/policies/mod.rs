//! Policies, reports, logs, licences and faults of the Graph simulator: endpoint routing, the shared
//! state, and the hooks the server calls (`route`, `dispatch`, `truth_each`/`truth_value`, `mutate`, `control`).

// Handlers return `Resp` (a large hyper response) as their error, and take the router's full context.
#![allow(clippy::result_large_err, clippy::too_many_arguments)]

pub mod access;
pub mod authmethods;
mod data;
pub mod events;
pub mod extensions;
pub mod faults;
pub mod licence;
mod logs;
mod mutate;
mod pim;
pub mod policy;
pub mod query;
mod routes;
mod simctl;
mod skus;
mod throttle;
mod truth;
mod workflows;

pub use faults::{FaultKind, FaultProfile};
pub use licence::Licence;
pub use simctl::{control, PolicyControl};
use truth::skus_now;
pub use truth::{each as truth_each, value as truth_value, LISTS as TRUTH_LISTS, VALUES as TRUTH_VALUES};

use super::errors::{graph_error, unauthenticated};
use super::http::{Ctx, Resp};
use super::state::Shared;
use super::tenant::Tenant;
use super::token::{verify, Claims};
use super::users::{Query, Reply};
use super::GraphSimOptions;
use access::{EndpointRule, Gate, ThrottleBucket};
use data::PolicyData;
use hyper::header::HeaderValue;
use hyper::{Method, StatusCode};
use logs::Log;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

/// Runtime knobs (`POST /_sim/policies/settings`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyKnobs {
    /// Force `getAvailableExtensionProperties` to answer empty (`Some(true)`) or full (`Some(false)`);
    /// `None`: empty only when the tenant has more than 1,000 service principals (the known issue).
    pub extension_properties_empty: Option<bool>,
    /// Conditional access on a tenant without P1 answers 200 with an empty list instead of 403.
    pub ca_unlicensed_empty: bool,
    /// The next N `getAvailableExtensionProperties` calls answer 200 with a truncated JSON body (as the
    /// hostile fault profile may, but on this route only).
    pub extension_properties_truncated: u32,
}

/// Everything this module keeps in the shared server state.
pub struct PolicyState {
    pub(crate) data: RwLock<PolicyData>,
    pub(crate) knobs: RwLock<PolicyKnobs>,
    pub(crate) buckets: Mutex<throttle::Buckets>,
    pub(crate) faults: Mutex<faults::FaultState>,
}

impl PolicyState {
    pub fn new(opts: &GraphSimOptions, tenant: &Tenant, now: i64) -> PolicyState {
        PolicyState {
            data: RwLock::new(PolicyData::generate(opts.seed, opts.licence, tenant, now)),
            knobs: RwLock::new(PolicyKnobs::default()),
            buckets: Mutex::new(Default::default()),
            faults: Mutex::new(faults::FaultState::new(opts.faults, opts.seed)),
        }
    }
}

/// The endpoints of this module.
#[derive(Clone, Copy, Debug)]
enum Endpoint<'a> {
    AuthMethods(&'a str, Option<&'a str>),
    Registration(Option<&'a str>),
    MethodsPolicy,
    Ca(Option<&'a str>),
    Pim(Option<&'a str>),
    Workflows(Option<&'a str>, bool),
    Skus,
    Log(Log),
    AvailableExtensions,
    AppExtensions(&'a str),
}

impl<'a> Endpoint<'a> {
    fn parse(rest: &[&'a str]) -> Option<Endpoint<'a>> {
        Some(match rest {
            ["users", u, "authentication", "methods"] => Endpoint::AuthMethods(u, None),
            ["users", u, "authentication", "methods", m] => Endpoint::AuthMethods(u, Some(m)),
            ["reports", "authenticationMethods", "userRegistrationDetails"] => Endpoint::Registration(None),
            ["reports", "authenticationMethods", "userRegistrationDetails", id] => Endpoint::Registration(Some(id)),
            ["policies", "authenticationMethodsPolicy"] => Endpoint::MethodsPolicy,
            ["identity", "conditionalAccess", "policies"] => Endpoint::Ca(None),
            ["identity", "conditionalAccess", "policies", id] => Endpoint::Ca(Some(id)),
            ["roleManagement", "directory", "roleEligibilitySchedules"] => Endpoint::Pim(None),
            ["roleManagement", "directory", "roleEligibilitySchedules", id] => Endpoint::Pim(Some(id)),
            ["identityGovernance", "lifecycleWorkflows", "workflows"] => Endpoint::Workflows(None, false),
            ["identityGovernance", "lifecycleWorkflows", "workflows", id] => Endpoint::Workflows(Some(id), false),
            ["identityGovernance", "lifecycleWorkflows", "workflows", id, "tasks"] => {
                Endpoint::Workflows(Some(id), true)
            }
            ["subscribedSkus"] => Endpoint::Skus,
            ["auditLogs", "directoryAudits"] => Endpoint::Log(Log::DirectoryAudits),
            ["auditLogs", "signIns"] | ["auditLogs", "signins"] => Endpoint::Log(Log::SignIns),
            ["directoryObjects", "getAvailableExtensionProperties"]
            | ["directoryObjects", "microsoft.graph.getAvailableExtensionProperties"] => Endpoint::AvailableExtensions,
            ["applications", id, "extensionProperties"] => Endpoint::AppExtensions(id),
            [app, "extensionProperties"] if app.starts_with("applications(") => {
                Endpoint::AppExtensions(&app["applications".len()..])
            }
            _ => return None,
        })
    }

    fn rule(self) -> &'static EndpointRule {
        match self {
            Endpoint::AuthMethods(..) => &access::AUTH_METHODS,
            Endpoint::Registration(_) => &access::REGISTRATION_DETAILS,
            Endpoint::MethodsPolicy => &access::AUTH_METHODS_POLICY,
            Endpoint::Ca(_) => &access::CONDITIONAL_ACCESS,
            Endpoint::Pim(_) => &access::PIM_ELIGIBILITY,
            Endpoint::Workflows(..) => &access::WORKFLOWS,
            Endpoint::Skus => &access::SUBSCRIBED_SKUS,
            Endpoint::Log(Log::DirectoryAudits) => &access::DIRECTORY_AUDITS,
            Endpoint::Log(Log::SignIns) => &access::SIGN_INS,
            Endpoint::AvailableExtensions => &access::AVAILABLE_EXTENSIONS,
            Endpoint::AppExtensions(_) => &access::APP_EXTENSIONS,
        }
    }

    fn method(self) -> Method {
        match self {
            Endpoint::AvailableExtensions => Method::POST,
            _ => Method::GET,
        }
    }

    fn label(self, ver: &str) -> String {
        let item = match self {
            Endpoint::AuthMethods(_, Some(_))
            | Endpoint::Registration(Some(_))
            | Endpoint::Ca(Some(_))
            | Endpoint::Pim(Some(_))
            | Endpoint::Workflows(Some(_), false) => "/{id}",
            Endpoint::Workflows(Some(_), true) => "/{id}/tasks",
            _ => "",
        };
        format!("{} /{ver}/{}{item}", self.method(), self.rule().name)
    }
}

/// Percent-decode the few characters that appear in key segments (`'`, `=`, `@`, `#`).
fn decode(seg: &str) -> String {
    seg.replace("%27", "'").replace("%3D", "=").replace("%3d", "=").replace("%40", "@").replace("%23", "#")
}

/// Server hook: answer the request if its path is one of this module's endpoints (None otherwise).
/// Authenticates the bearer token, then [`dispatch`]es; adds latency and records statistics.
#[allow(clippy::too_many_arguments)]
pub async fn route(
    sh: &Shared,
    ctx: &mut Ctx,
    method: &Method,
    ver: &str,
    rest: &[&str],
    q: &Query,
    authorization: Option<&str>,
    body: &[u8],
) -> Option<Resp> {
    let decoded: Vec<String> = rest.iter().map(|s| decode(s)).collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let ep = Endpoint::parse(&segs)?;
    let label = ep.label(ver);
    let token = authorization.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")));
    let claims = match token.map(str::trim).filter(|t| !t.is_empty()) {
        None => Err("Access token is empty."),
        Some(t) => verify(sh, t),
    };
    let (resp, n) = match claims {
        Err(msg) => (unauthenticated(ctx, msg), 0),
        Ok(claims) => serve(sh, ctx, method, ver, ep, q, &claims, body),
    };
    let us = sh.opts.latency_ms.saturating_mul(1000) + sh.opts.per_object_us.saturating_mul(n as u64);
    if us > 0 {
        tokio::time::sleep(Duration::from_micros(us)).await;
    }
    let ru = if resp.status() == StatusCode::OK { ctx.ru.unwrap_or(1) } else { 0 };
    if let Ok(mut s) = sh.stats.lock() {
        s.record(&label, resp.status().as_u16(), ru, n);
    }
    Some(resp)
}

/// `$batch` hook: answer one item for already-verified `claims` (None when the path is not ours).
#[allow(clippy::too_many_arguments)]
pub fn dispatch(
    sh: &Shared,
    ctx: &mut Ctx,
    method: &Method,
    ver: &str,
    rest: &[&str],
    q: &Query,
    claims: &Claims,
    body: &[u8],
) -> Option<Reply> {
    let decoded: Vec<String> = rest.iter().map(|s| decode(s)).collect();
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let ep = Endpoint::parse(&segs)?;
    Some(serve(sh, ctx, method, ver, ep, q, claims, body))
}

#[allow(clippy::too_many_arguments)]
fn serve(
    sh: &Shared,
    ctx: &mut Ctx,
    method: &Method,
    ver: &str,
    ep: Endpoint<'_>,
    q: &Query,
    claims: &Claims,
    body: &[u8],
) -> Reply {
    let rule = ep.rule();
    ctx.ru = Some(match rule.bucket {
        ThrottleBucket::Identity { ru } => throttle::identity_ru(ru, q),
        _ => 1,
    });
    if *method != ep.method() {
        let r = graph_error(
            ctx,
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        );
        return (r, 0);
    }
    let ca_empty = sh.policies.knobs.read().map(|k| k.ca_unlicensed_empty).unwrap_or(false);
    let gate = match access::check(ctx, claims, rule, sh.opts.licence, ca_empty) {
        Ok(g) => g,
        Err(r) => return (*r, 0),
    };
    let pct = match throttle::charge(sh, ctx, claims, rule.bucket, ctx.ru.unwrap_or(1)) {
        Ok(p) => p,
        Err(r) => return (*r, 0),
    };
    let (mut resp, n) = match ep {
        Endpoint::AuthMethods(u, m) => routes::auth_methods(sh, ctx, ver, u, m),
        Endpoint::Registration(id) => routes::registration_details(sh, ctx, ver, q, id),
        Endpoint::MethodsPolicy => routes::methods_policy(sh, ctx, ver),
        Endpoint::Ca(id) => routes::ca_policies(sh, ctx, ver, q, id, gate == Gate::Empty),
        Endpoint::Pim(id) => routes::pim(sh, ctx, ver, q, id),
        Endpoint::Workflows(id, tasks) => routes::lifecycle(sh, ctx, ver, q, id, tasks),
        Endpoint::Skus => routes::subscribed_skus(sh, ctx, ver, q),
        Endpoint::Log(log) => logs::list(sh, ctx, ver, q, log),
        Endpoint::AvailableExtensions => routes::available_extensions(sh, ctx, ver, body),
        Endpoint::AppExtensions(app) => routes::app_extensions(sh, ctx, ver, q, app),
    };
    if let Some(p) = pct.filter(|p| *p >= 0.8) {
        if let Ok(v) = HeaderValue::from_str(&format!("{p:.1}")) {
            resp.headers_mut().insert("x-ms-throttle-limit-percentage", v);
        }
    }
    (resp, n)
}

/// Apply `spec.activity` and add its summary to the mutation answer under `"activity"`.
pub fn mutate(sh: &Shared, spec: &super::MutationSpec, now: i64, answer: &mut Value) {
    if spec.activity == 0 {
        return;
    }
    let summary = mutate::apply(sh, spec.activity, spec.seed, now);
    if let Some(o) = answer.as_object_mut() {
        o.insert("activity".into(), summary);
    }
}

#[cfg(test)]
mod tests {
    use super::super::GraphSimArgs;
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        sim: GraphSimArgs,
    }

    #[test]
    fn cli_licence_and_fault_profile() {
        let o = Cli::parse_from(["x"]).sim.to_options().unwrap();
        assert_eq!((o.licence, o.faults), (Licence::Governance, FaultProfile::None));
        let o = Cli::parse_from(["x", "--faults", "hostile", "--licence", "p1"]).sim.to_options().unwrap();
        assert_eq!((o.licence, o.faults), (Licence::P1, FaultProfile::Hostile));
        assert!(Cli::try_parse_from(["x", "--licence", "e5"]).is_err());
    }

    #[test]
    fn endpoints_parse_to_rules() {
        let ep = Endpoint::parse(&["auditLogs", "signIns"]).unwrap();
        assert!(std::ptr::eq(ep.rule(), &access::SIGN_INS));
        assert_eq!(ep.label("v1.0"), "GET /v1.0/auditLogs/signIns");
        let ep = Endpoint::parse(&["applications(appId='x')", "extensionProperties"]).unwrap();
        assert!(matches!(ep, Endpoint::AppExtensions("(appId='x')")));
        assert_eq!(
            Endpoint::parse(&["directoryObjects", "getAvailableExtensionProperties"]).unwrap().method(),
            Method::POST
        );
        assert!(Endpoint::parse(&["users"]).is_none());
        assert_eq!(decode("a%40b%23EXT%23"), "a@b#EXT#");
    }
}
