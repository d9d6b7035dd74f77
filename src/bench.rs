//! The `bench` command: the Graph simulator (latency model + real throttling) and the platform emulator in
//! this process, the worker as its own `serve` process (so its CPU and memory are its own), one full
//! import or incremental sync, and one JSON object with wall time, the lower bound, requests, RU, CPU, RSS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::graph::json::{view, Json};
pub use crate::sim::graph::Preset;
use crate::sim::graph::{GraphSim, GraphSimOptions, MutationSpec};
use crate::sim::platform::{Connection, Driver, DriverOptions, HttpWorker, PlatformOptions, PlatformSim};
use crate::sim::truth::Truth;

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value = "small")]
    pub preset: Preset,
    #[arg(long, value_enum, default_value = "full")]
    pub mode: Mode,
    /// Fixed latency per Graph request.
    #[arg(long, default_value_t = 80)]
    pub latency_ms: u64,
    /// Extra latency per object returned.
    #[arg(long, default_value_t = 10)]
    pub per_object_us: u64,
    /// Print only the JSON object.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Incremental,
}

/// Which record type a simulator route serves (for per-type request and RU counts).
fn record_type_of(route: &str) -> &'static str {
    let path = route.split_whitespace().nth(1).unwrap_or(route);
    let p = path.trim_start_matches("/v1.0").trim_start_matches("/beta");
    for (prefix, rt) in [
        ("/users/delta", "users"),
        ("/groups", "groups"),
        ("/directoryRoles", "directory_roles"),
        ("/roleManagement/directory/roleAssignments", "role_members"),
        ("/roleManagement/directory/roleEligibility", "pim_eligible_roles"),
        ("/applications", "applications"),
        ("/servicePrincipals", "service_principals"),
        ("/directoryObjects/delta", "app_role_assignments"),
        ("/directoryObjects/microsoft.graph.delta", "app_role_assignments"),
        ("/devices", "devices"),
        ("/contacts", "org_contacts"),
        ("/reports/authenticationMethods", "user_registration_details"),
        ("/policies/authenticationMethodsPolicy", "authentication_methods_policy"),
        ("/identity/conditionalAccess", "conditional_access_policies"),
        ("/identityGovernance/lifecycleWorkflows", "lifecycle_workflows"),
        ("/subscribedSkus", "license_assignments"),
        ("/auditLogs/directoryAudits", "directory_audit_logs"),
        ("/auditLogs/signIns", "sign_in_logs"),
        ("/$batch", "batch"),
        ("/organization", "organization"),
        ("/users", "users"),
    ] {
        if p.starts_with(prefix) {
            return rt;
        }
    }
    if route.contains("oauth2") {
        return "token";
    }
    "other"
}

fn per_type(stats: &Value, key: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    if let Some(routes) = stats.get(key).and_then(Value::as_object) {
        for (route, n) in routes {
            *out.entry(record_type_of(route).to_string()).or_default() += n.as_u64().unwrap_or(0);
        }
    }
    out
}

/// CPU seconds (user + system) and peak RSS in MiB of a process, from /proc.
fn process_usage(pid: u32) -> (f64, f64) {
    let cpu = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.get(s.rfind(')')? + 2..)?.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(0.0);
    (cpu, rss)
}

/// The lower bound of DESIGN.md section 9 and BENCHMARKS.md, from the tenant and Graph's cost model alone.
pub struct LowerBound {
    /// The longest chain of requests that must be sequential: the pages of one delta round, as the server
    /// paged it, times the latency.
    pub chain_s: f64,
    pub chain_route: String,
    pub chain_pages: u64,
    /// The resource units any client must spend, over the identity bucket's rate.
    pub ru_s: f64,
    pub min_ru: u64,
    pub quota: u64,
    /// The report requests any client must make beyond the bucket's first five, over 5 requests / 10 s.
    pub reports_s: f64,
    pub report_requests: u64,
}

impl LowerBound {
    pub fn seconds(&self) -> f64 {
        self.chain_s.max(self.ru_s).max(self.reports_s)
    }
}

/// Largest page of the log endpoints (`signIns` documented, `directoryAudits` assumed the same) and of the
/// registration report (assumed), graph-api.md §4.4, §8.12, §8.16.
const LOG_PAGE: u64 = 1000;
const REPORT_PAGE: u64 = 999;

/// The reports-bucket requests (graph-api.md §4.4) any client needs for the extracted types: each window
/// read at the largest page, at least one request per log endpoint per sync; the registration report in
/// full (full sync), or per user named by the audit events (incremental) unless reading it all is cheaper.
/// `since`: the incremental window start (the previous sync start minus the overlap); None for a full sync.
pub fn report_requests(truth: &dyn Truth, since: Option<chrono::DateTime<chrono::Utc>>) -> u64 {
    let extracted = |rt: &str| crate::schema::record_type(rt).is_some();
    let licensed = truth.value("licence").as_str().is_some_and(|l| l != "Free");
    let in_window = |e: &Value, time: &str| match since {
        None => true,
        Some(since) => crate::extract::norm::parse_ts(e.get(time).map(view).as_ref()).is_none_or(|t| t >= since),
    };
    let events = |key: &str, time: &str| {
        let mut n = 0;
        truth.each(key, &mut |e| n += usize::from(in_window(e, time)));
        n
    };
    // The audit events of an incremental window (few), for the per-user types' triggers.
    let mut window_audits = Vec::new();
    if since.is_some() {
        truth.each("directoryAudits", &mut |e| {
            if in_window(e, "activityDateTime") {
                window_audits.push(e.clone());
            }
        });
    }
    let window_views: Vec<Json> = window_audits.iter().map(view).collect();
    let window = |n: usize| (n as u64).div_ceil(LOG_PAGE).max(1);
    let mut n = 0;
    if extracted("directory_audit_logs") {
        n += window(events("directoryAudits", "activityDateTime"));
    }
    if extracted("sign_in_logs") && licensed {
        n += window(events("signIns", "createdDateTime"));
    }
    if extracted("authentication_methods") && !licensed {
        // No report: the per-user method reads, each a reports-bucket request (graph-api.md §8.12).
        n += match since {
            None => users_with_methods(truth),
            Some(_) => {
                crate::extract::security_info::changes(&window_views, crate::extract::security_info::Triggers::Methods)
                    .len() as u64
            }
        };
    }
    if extracted("user_registration_details") && licensed {
        let rows = truth.count("userRegistrationDetails") as u64;
        let full = rows.div_ceil(REPORT_PAGE).max(1);
        n += match since {
            None => full,
            Some(_) => {
                let named = crate::extract::security_info::changes(
                    &window_views,
                    crate::extract::security_info::Triggers::MethodsAndRoles,
                );
                (named.len() as u64).min(full)
            }
        };
    }
    n
}

/// Users with at least one authentication method in the tenant.
fn users_with_methods(truth: &dyn Truth) -> u64 {
    let mut ids = std::collections::HashSet::new();
    truth.each("authenticationMethods", &mut |m| {
        if let Some(id) = m.get("userId").and_then(Value::as_str) {
            ids.insert(id.to_string());
        }
    });
    ids.len() as u64
}

/// Computes the bound. Server-paged rounds and lists count as the server paged them (its choice, not the
/// worker's), the app role assignments' `directoryObjects/delta` round among them (their role names are in
/// the service principals round); fan-outs count at their cheapest documented form: devices/999 for owners (the list with `$expand`)
/// (the per-user method reads, only without the registration report, are reports-bucket requests); report requests as `report_requests`, the first five free
/// (the bucket starts full), then one per 2 s.
pub fn lower_bound(
    stats: &Value,
    truth: &dyn Truth,
    args: &BenchArgs,
    users: u64,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> LowerBound {
    let count = |k: &str| truth.count(k) as u64;
    let routes = stats.get("requests_per_route").and_then(Value::as_object).cloned().unwrap_or_default();
    let ru_routes = stats.get("ru_per_route").and_then(Value::as_object).cloned().unwrap_or_default();
    let (mut chain_route, mut chain_pages) = (String::new(), 0u64);
    let mut paged_ru = 0u64;
    for (route, n) in &routes {
        let n = n.as_u64().unwrap_or(0);
        let is_round = route.ends_with("/delta") || route.ends_with("microsoft.graph.delta");
        let is_list = route.ends_with("/roleAssignments")
            || route.ends_with("/subscribedSkus")
            || route.ends_with("/organization");
        if is_round && n > chain_pages {
            chain_route = route.clone();
            chain_pages = n;
        }
        if is_round || is_list {
            paged_ru += ru_routes.get(route).and_then(Value::as_u64).unwrap_or(n);
        }
    }
    let fan_out = match args.mode {
        Mode::Full => count("devices").div_ceil(999),
        Mode::Incremental => 0,
    };
    let min_ru = paged_ru + fan_out;
    let quota = crate::graph::limiter::identity_quota_for_users(users) as u64;
    let report_requests = report_requests(truth, if args.mode == Mode::Full { None } else { since });
    let chain_objects = if chain_route.contains("/users/") && args.mode == Mode::Full { users } else { 0 };
    LowerBound {
        chain_s: chain_pages as f64 * args.latency_ms as f64 / 1000.0
            + chain_objects as f64 * args.per_object_us as f64 / 1e6,
        chain_route,
        chain_pages,
        ru_s: min_ru as f64 / quota.max(1) as f64 * 10.0,
        min_ru,
        quota,
        reports_s: report_requests.saturating_sub(5) as f64 * 2.0,
        report_requests,
    }
}

/// Requests the prior connector's design makes on the same tenant (its documented pattern:
/// 2 per user, 1 per group, 2 per service principal, 2 per device, plus list pages).
pub fn prior_connector_requests(users: u64, groups: u64, service_principals: u64, devices: u64) -> u64 {
    let pages = |n: u64| n.div_ceil(100);
    2 * users
        + groups
        + 2 * service_principals
        + 2 * devices
        + pages(users)
        + pages(groups)
        + pages(service_principals)
        + pages(devices)
}

async fn start_worker(graph: &GraphSim, token: &str) -> anyhow::Result<(tokio::process::Child, String)> {
    let info = graph.info();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let exe = std::env::current_exe()?;
    let child = tokio::process::Command::new(exe)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--max-concurrency", "2"])
        .env("ENTRA_AUTHORITY_HOST", &info.authority_host)
        .env("ENTRA_GRAPH_URL", &info.graph_url)
        .env("ENTRA_EXTRA_CA_PEM", &info.ca_pem)
        .env("AIRSYNC_ALLOWED_HOSTS", "127.0.0.1")
        .env("AIRSYNC_INGRESS_TOKEN", token)
        .env("RUST_LOG", std::env::var("BENCH_WORKER_LOG").unwrap_or_else(|_| "warn".into()))
        .env("LOG_FORMAT", "json")
        .kill_on_drop(true)
        .spawn()?;
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{url}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok((child, url));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    anyhow::bail!("the worker process did not start listening")
}

pub async fn run(args: BenchArgs) -> anyhow::Result<Value> {
    let users = args.preset.users();
    let started = Instant::now();
    let graph = GraphSim::start(GraphSimOptions {
        users,
        seed: args.seed,
        latency_ms: args.latency_ms,
        per_object_us: args.per_object_us,
        throttling: true,
        ..GraphSimOptions::default()
    })
    .await?;
    let setup_s = started.elapsed().as_secs_f64();
    let info = graph.info();
    let platform = PlatformSim::start(PlatformOptions::default()).await?;
    let token = format!("bench-{}", uuid::Uuid::new_v4());
    let (child, url) = start_worker(&graph, &token).await?;
    let pid = child.id().unwrap_or(0);
    let worker = Arc::new(HttpWorker { url, bearer_token: Some(token) });
    let connection = Connection::entra(&info.tenant_id, &info.client_id, &info.client_secret);
    let options =
        DriverOptions { answer_timeout: Duration::from_secs(3600), delay_scale: 1.0, ..DriverOptions::default() };
    let driver = Driver::new(platform.clone(), worker, connection, options);

    let mut since = None;
    let churn = if args.mode == Mode::Incremental {
        // The incremental window starts at the initial sync's start minus the 15-minute overlap.
        since = Some(chrono::Utc::now() - crate::extract::window::OVERLAP);
        driver.initial_import().await?;
        // A scheduled sync starts with Graph's buckets refilled: wait one reports-bucket period (10 s,
        // untimed) so that the bound's "first five report requests are free" holds for the timed sync too.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let n = users / 100;
        let spec = MutationSpec {
            create: n / 4,
            update: n / 2,
            soft_delete: n / 8,
            hard_delete: n / 8,
            restore: 0,
            // 1 % churn for the directory types too (their counts scale with users), plus new activity.
            directory: (users / 1000).max(1),
            activity: (users / 1000).max(1),
            seed: args.seed + 1,
        };
        graph.reset_stats();
        Some(graph.mutate(&spec))
    } else {
        None
    };
    let (cpu_before, _) = process_usage(pid);
    let t = Instant::now();
    let run = match args.mode {
        Mode::Full => driver.initial_import().await?,
        Mode::Incremental => driver.incremental_sync().await?,
    };
    let wall_s = t.elapsed().as_secs_f64();
    let (cpu_after, peak_rss_mib) = process_usage(pid);
    drop(child);

    let stats = graph.stats();
    let requests = per_type(&stats, "requests_per_route");
    let ru = per_type(&stats, "ru_per_route");
    // The truth is read key by key from the simulator, and the store verified in place: at the xl preset
    // neither fits in memory twice.
    let report = platform.verify(&graph);
    let count = |k: &str| graph.count(k) as u64;
    let bound = lower_bound(&stats, &graph, &args, users as u64, since);
    let prior = match args.mode {
        Mode::Full => {
            prior_connector_requests(users as u64, count("groups"), count("servicePrincipals"), count("devices"))
        }
        // The prior design re-reads its per-object fan-out on every sync.
        Mode::Incremental => {
            prior_connector_requests(users as u64, count("groups"), count("servicePrincipals"), count("devices"))
        }
    };
    // Operations: every Graph call that is charged, each `$batch` item counted; HTTP requests: what went
    // over the wire (a batch envelope is one request).
    let operations: u64 =
        requests.iter().filter(|(k, _)| k.as_str() != "token" && k.as_str() != "batch").map(|(_, v)| v).sum();
    let batch_items = stats.get("batch_items").and_then(Value::as_u64).unwrap_or(0);
    let envelopes = requests.get("batch").copied().unwrap_or(0);
    let total_requests = operations.saturating_sub(batch_items) + envelopes;
    let state_bytes = platform.state_text(&driver.sync_unit()).map_or(0, |s| s.len());
    Ok(json!({
        "preset": format!("{:?}", args.preset).to_lowercase(),
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "users": users,
        "latency_ms": args.latency_ms,
        "per_object_us": args.per_object_us,
        "simulator_setup_s": setup_s,
        "wall_s": wall_s,
        "lower_bound_s": bound.seconds(),
        "lower_bound": {"chain_s": bound.chain_s, "ru_s": bound.ru_s, "reports_s": bound.reports_s, "report_requests": bound.report_requests, "longest_chain": bound.chain_route, "chain_pages": bound.chain_pages, "min_ru": bound.min_ru, "identity_quota_ru_per_10s": bound.quota},
        "ratio": wall_s / bound.seconds().max(1e-9),
        "requests": {"http_total": total_requests, "operations_total": operations, "batch_envelopes": envelopes, "batch_items": batch_items, "operations_per_type": requests},
        "ru": {"per_type": ru, "total": stats.get("ru_total")},
        "throttled_429": stats.get("throttled_429"),
        "worker_cpu_s": cpu_after - cpu_before,
        "worker_cpu_us_per_object": (cpu_after - cpu_before) * 1e6 / (run.items_by_type.values().sum::<usize>().max(1) as f64),
        "peak_rss_mib": peak_rss_mib,
        "state_bytes": state_bytes,
        "artifacts": run.artifacts,
        "items": run.items_by_type,
        "answers": run.answers.len(),
        "errors": run.errors,
        "verified": report.ok && run.errors.is_empty(),
        "mismatches": report.mismatches.iter().take(5).collect::<Vec<_>>(),
        "churn": churn,
        "prior_connector_requests": prior,
        "prior_connector_request_ratio": prior as f64 / total_requests.max(1) as f64,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_bound_is_the_largest_of_chain_ru_and_reports() {
        let args = BenchArgs {
            preset: Preset::Large,
            mode: Mode::Full,
            latency_ms: 80,
            per_object_us: 10,
            json: true,
            seed: 1,
        };
        let stats = json!({"requests_per_route": {"GET /v1.0/users/delta": 667, "GET /v1.0/groups/delta": 900, "GET /v1.0/users/{id}": 5,
                                                  "GET /v1.0/directoryObjects/delta": 300, "GET /v1.0/servicePrincipals/{id}": 40},
                           "ru_per_route": {"GET /v1.0/users/delta": 667, "GET /v1.0/groups/delta": 900, "GET /v1.0/directoryObjects/delta": 300}});
        let truth = json!({"servicePrincipals": vec![json!({}); 5000], "devices": vec![json!({}); 50000]});
        let b = lower_bound(&stats, &truth, &args, 100_000, None);
        assert_eq!((b.chain_route.as_str(), b.chain_pages), ("GET /v1.0/groups/delta", 900));
        assert!((b.chain_s - 72.0).abs() < 1e-9, "groups pages × 80 ms, no per-object term off the users round");
        // The assignments round counts as a round; no per-service-principal read (role names come from
        // the service principals round).
        assert_eq!(b.min_ru, 667 + 900 + 300 + 51);
        assert!((b.ru_s - 1918.0 / 8000.0 * 10.0).abs() < 1e-9);
        assert_eq!(b.seconds(), b.chain_s);
    }

    #[test]
    fn routes_map_to_record_types() {
        assert_eq!(record_type_of("GET /v1.0/users/delta"), "users");
        assert_eq!(record_type_of("GET /v1.0/groups/delta"), "groups");
        assert_eq!(record_type_of("GET /v1.0/directoryObjects/delta"), "app_role_assignments");
        assert_eq!(record_type_of("POST /{tenant}/oauth2/v2.0/token"), "token");
        assert_eq!(
            prior_connector_requests(100_000, 20_000, 5_000, 50_000),
            200_000 + 20_000 + 10_000 + 100_000 + 1000 + 200 + 50 + 500
        );
    }
}
