//! The `bench` command: the Graph simulator (latency model + real throttling) and the platform emulator in
//! this process, the worker as its own `serve` process (so its CPU and memory are its own), one full
//! import or incremental sync, and one JSON object with wall time, the lower bound, requests, RU, CPU, RSS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::sim::graph::{GraphSim, GraphSimOptions, MutationSpec};
use crate::sim::platform::{verify, Connection, Driver, DriverOptions, HttpWorker, PlatformOptions, PlatformSim};

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

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Preset {
    Small,
    Medium,
    Large,
    Xl,
}

impl Preset {
    pub fn users(self) -> usize {
        match self {
            Preset::Small => 1_000,
            Preset::Medium => 10_000,
            Preset::Large => 100_000,
            Preset::Xl => 1_000_000,
        }
    }
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
        ("/devices", "devices"),
        ("/contacts", "org_contacts"),
        ("/reports/authenticationMethods", "authentication_methods"),
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

/// The lower bound of DESIGN.md section 9 and BENCHMARKS.md, from the tenant and the cost model alone.
pub struct LowerBound {
    pub chain_s: f64,
    pub ru_s: f64,
}

impl LowerBound {
    /// `chain_pages` / `chain_objects`: the pages and objects of the longest delta round, as the server
    /// paged it; `min_ru`: the RU any client must spend; `quota`: RU per 10 s.
    pub fn compute(
        chain_pages: u64,
        chain_objects: u64,
        latency_ms: u64,
        per_object_us: u64,
        min_ru: u64,
        quota: u64,
    ) -> LowerBound {
        let chain_s =
            chain_pages as f64 * latency_ms as f64 / 1000.0 + chain_objects as f64 * per_object_us as f64 / 1e6;
        let ru_s = min_ru as f64 / quota.max(1) as f64 * 10.0;
        LowerBound { chain_s, ru_s }
    }

    pub fn seconds(&self) -> f64 {
        self.chain_s.max(self.ru_s)
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

    let churn = if args.mode == Mode::Incremental {
        driver.initial_import().await?;
        let n = users / 100;
        let spec = MutationSpec {
            create: n / 4,
            update: n / 2,
            soft_delete: n / 8,
            hard_delete: n / 8,
            restore: 0,
            seed: args.seed + 1,
            ..MutationSpec::default()
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
    let delta_pages =
        stats.pointer("/requests_per_route/GET ~1v1.0~1users~1delta").and_then(Value::as_u64).unwrap_or(0);
    let changed: u64 = run.items_by_type.get("users").copied().unwrap_or(0) as u64;
    let chain_objects = if args.mode == Mode::Full { users as u64 } else { changed };
    let quota = crate::graph::limiter::identity_quota_for_users(users as u64) as u64;
    let bound =
        LowerBound::compute(delta_pages, chain_objects, args.latency_ms, args.per_object_us, delta_pages, quota);
    let report = verify(&platform.store(), &graph.truth());
    let truth = graph.truth();
    let count = |k: &str| truth.get(k).and_then(Value::as_array).map_or(0, |a| a.len() as u64);
    let prior = match args.mode {
        Mode::Full => {
            prior_connector_requests(users as u64, count("groups"), count("servicePrincipals"), count("devices"))
        }
        // The prior design re-reads its per-object fan-out on every sync.
        Mode::Incremental => {
            prior_connector_requests(users as u64, count("groups"), count("servicePrincipals"), count("devices"))
        }
    };
    let total_requests: u64 = requests.iter().filter(|(k, _)| k.as_str() != "token").map(|(_, v)| v).sum();
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
        "lower_bound": {"chain_s": bound.chain_s, "ru_s": bound.ru_s, "chain_pages": delta_pages, "identity_quota_ru_per_10s": quota},
        "ratio": wall_s / bound.seconds().max(1e-9),
        "requests": {"per_type": requests, "total": total_requests},
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
    fn the_lower_bound_is_the_larger_of_chain_and_ru() {
        let b = LowerBound::compute(667, 100_000, 80, 10, 667, 8_000);
        assert!((b.chain_s - (53.36 + 1.0)).abs() < 1e-6);
        assert!(b.ru_s < 1.0);
        assert_eq!(b.seconds(), b.chain_s);
        let ru_bound = LowerBound::compute(10, 10, 80, 10, 80_000, 8_000);
        assert_eq!(ru_bound.seconds(), 100.0);
    }

    #[test]
    fn routes_map_to_record_types() {
        assert_eq!(record_type_of("GET /v1.0/users/delta"), "users");
        assert_eq!(record_type_of("GET /v1.0/groups/delta"), "groups");
        assert_eq!(record_type_of("POST /{tenant}/oauth2/v2.0/token"), "token");
        assert_eq!(
            prior_connector_requests(100_000, 20_000, 5_000, 50_000),
            200_000 + 20_000 + 10_000 + 100_000 + 1000 + 200 + 50 + 500
        );
    }
}
