//! The `sync` command: the same extraction against a tenant without DevRev. Artifacts (the same gzip
//! JSON Lines) and the state go to a folder, with a progress bar per record type, a summary table and
//! `report.html`. `--incremental` continues from the delta links of the previous run in that folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use crate::airsync::artifacts::{ArtifactSink, ArtifactStore};
use crate::airsync::event::Outcome;
use crate::airsync::state::WorkerState;
use crate::cli::WorkerArgs;
use crate::graph::auth::TokenSource;
use crate::graph::limiter::TenantLimiter;
use crate::graph::GraphClient;
use crate::report::History;
use crate::{engine, extract, net, schema};

#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// The folder for artifacts, `state.json`, `summary.json` and `report.html`.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue from the state in `--out` (delta links) instead of a full read.
    #[arg(long)]
    pub incremental: bool,
    #[arg(long, env = "ENTRA_TENANT_ID")]
    pub tenant: String,
    #[arg(long, env = "ENTRA_CLIENT_ID")]
    pub client_id: String,
    #[arg(long, env = "ENTRA_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,
    /// No progress bars (for logs and CI).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// Artifacts as numbered files in a folder.
struct DirStore {
    dir: PathBuf,
    next: AtomicUsize,
}

#[async_trait::async_trait]
impl ArtifactStore for DirStore {
    async fn put(&self, item_type: &str, gzip_jsonl: bytes::Bytes, _confirm: bool) -> Result<String, String> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("{item_type}-{n:05}.jsonl.gz");
        tokio::fs::write(self.dir.join(&name), &gzip_jsonl).await.map_err(|e| format!("cannot write {name}: {e}"))?;
        Ok(name)
    }
}

fn read_state(path: &Path) -> Result<WorkerState, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => WorkerState::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WorkerState::initial()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn bars(quiet: bool) -> (MultiProgress, Arc<Mutex<BTreeMap<String, ProgressBar>>>) {
    let multi = MultiProgress::new();
    if quiet {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    (multi, Arc::default())
}

pub async fn run(args: SyncArgs) -> Result<(), String> {
    let cfg = args.worker.config();
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let http = net::build_client(cfg.extra_ca_pem.as_deref(), None).map_err(|e| e.to_string())?;
    let tokens = TokenSource::client_secret(
        &cfg.authority_host,
        http.clone(),
        &args.tenant,
        &args.client_id,
        &args.client_secret,
    )
    .map_err(|e| e.to_string())?;
    tokens.token().await.map_err(|e| e.to_string())?;
    let limiter = Arc::new(TenantLimiter::with_limits(&cfg.limits));
    let graph = Arc::new(
        GraphClient::new(http, &cfg.graph_url, tokens, limiter, cfg.graph_max_retries, cfg.graph_retry_base)
            .map_err(|e| e.to_string())?,
    );
    let state_path = args.out.join("state.json");
    let mut state = if args.incremental { read_state(&state_path)? } else { WorkerState::initial() };
    let store = Arc::new(DirStore { dir: args.out.clone(), next: AtomicUsize::new(1) });
    let (multi, progress) = bars(args.quiet);
    let style = ProgressStyle::with_template("{spinner} {prefix:<28} {pos:>9} items  {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let observer: crate::airsync::artifacts::Observer = {
        let progress = progress.clone();
        let multi = multi.clone();
        Arc::new(move |item_type: &str| {
            let mut all = progress.lock().unwrap_or_else(|p| p.into_inner());
            let bar = all.entry(item_type.to_string()).or_insert_with(|| {
                let bar =
                    multi.add(ProgressBar::new_spinner().with_style(style.clone()).with_prefix(item_type.to_string()));
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            bar.inc(1);
        })
    };
    let metadata = ArtifactSink::new(store.clone(), cfg.batch_size);
    let token = graph.tokens().token().await.map_err(|e| e.to_string())?;
    let roles = engine::plan::token_roles(&token);
    let discovered = extract::custom_fields::discover(&graph, roles.as_deref()).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "directory extensions could not be discovered; only on-premises attributes");
        Vec::new()
    });
    let custom = Arc::new(schema::custom_fields::user_custom_fields(&discovered));
    metadata
        .put_single("external_domain_metadata", vec![schema::external_domain_metadata(&discovered)], true)
        .await
        .map_err(|e| e.to_string())?;

    let extractors = extract::all();
    let mode = if args.incremental { "INCREMENTAL" } else { "INITIAL" };
    engine::plan::start(&graph, &mut state.ours, &extractors, mode, Utc::now()).await.map_err(|e| e.to_string())?;
    let history = History::default();
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    loop {
        // A fresh sink per round: local mode has no event-size budget, but the engine's pause logic is shared.
        let sink = Arc::new(ArtifactSink::new(store.clone(), cfg.batch_size).with_observer(observer.clone()));
        let deadline = tokio::time::Instant::now() + cfg.soft_timeout;
        let (outcome, reports) = engine::run_data(
            &mut state.ours,
            &extractors,
            graph.clone(),
            sink.clone(),
            deadline,
            CancellationToken::new(),
            custom.clone(),
        )
        .await;
        sink.flush().await.map_err(|e| e.to_string())?;
        history.record(&reports, &graph.usage());
        for r in &reports {
            *sent.entry(r.record_type.clone()).or_default() = r.items;
        }
        match outcome {
            Outcome::Done => break,
            Outcome::Progress => continue,
            Outcome::Delayed { seconds } => tokio::time::sleep(Duration::from_secs(seconds)).await,
            Outcome::Error { message } => return Err(message),
        }
    }
    for bar in progress.lock().unwrap_or_else(|p| p.into_inner()).values() {
        bar.finish();
    }
    std::fs::write(&state_path, state.to_text()).map_err(|e| format!("cannot write {}: {e}", state_path.display()))?;

    let reports = history.reports();
    println!("\n{:<32} {:>10}  status", "record type", "items");
    let mut last = BTreeMap::new();
    for r in &reports {
        last.insert(r.record_type.clone(), r.clone());
    }
    for (rt, r) in &last {
        println!(
            "{:<32} {:>10}  {}{}",
            rt,
            r.items,
            r.status,
            r.reason.as_ref().map(|w| format!(" ({w})")).unwrap_or_default()
        );
    }
    let usage = history.usage();
    let requests: u64 = usage.values().map(|u| u.requests).sum();
    println!("\n{requests} Graph requests; artifacts, state.json and report.html are in {}", args.out.display());
    let counts = sent.iter().map(|(k, v)| (k.clone(), (*v, None))).collect();
    let subtitle = format!(
        "{} sync of tenant {} at {}",
        if args.incremental { "Incremental" } else { "Full" },
        args.tenant,
        Utc::now().to_rfc3339()
    );
    std::fs::write(
        args.out.join("report.html"),
        crate::report::render("entra-airsync sync", &subtitle, &history, &counts),
    )
    .map_err(|e| format!("cannot write report.html: {e}"))?;
    let summary = serde_json::json!({"mode": mode, "record_types": reports, "graph_usage": usage});
    std::fs::write(args.out.join("summary.json"), serde_json::to_string_pretty(&summary).unwrap_or_default())
        .map_err(|e| format!("cannot write summary.json: {e}"))
}
