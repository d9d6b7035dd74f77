//! `entra-airsync check`: "Test connection" done properly — a real token, the granted application
//! permissions from its `roles` claim, the licence probes, and per record type: available or skipped (why).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::cli::WorkerArgs;
use crate::config::Config;
use crate::engine::plan::{self, LicenceSource, Plan};
use crate::graph::auth::TokenSource;
use crate::graph::limiter::TenantLimiter;
use crate::graph::{GraphClient, GraphError};
use crate::{extract, net, schema};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The tenant: its ID (GUID) or a verified domain such as contoso.onmicrosoft.com.
    #[arg(long, env = "ENTRA_TENANT_ID")]
    pub tenant: String,
    /// The Application (client) ID of the app registration.
    #[arg(long, env = "ENTRA_CLIENT_ID")]
    pub client_id: String,
    /// The client secret's Value.
    #[arg(long, env = "ENTRA_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: String,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub worker: WorkerArgs,
}

/// The product documentation's advice for "Authentication failed" / "Invalid credentials".
pub const AUTH_ADVICE: &[&str] = &[
    "Verify Tenant ID, Client ID, and Client Secret are correct",
    "Ensure no extra spaces when copying credentials",
    "Check if client secret has expired (create a new one if needed)",
    "Confirm admin consent was granted",
];

/// The product documentation's advice for "Permission denied" / "Insufficient privileges".
pub const PERMISSION_ADVICE: &[&str] = &[
    "Verify all required permissions are granted",
    "Ensure admin consent was clicked (green checkmarks in Azure Portal)",
    "Wait 5-10 minutes after granting consent (propagation delay)",
    "Try revoking and re-granting admin consent",
];

/// What `check` found.
#[derive(Debug)]
pub struct CheckReport {
    pub plan: Plan,
    /// Directory extensions found for users, or why they could not be discovered.
    pub extensions: Result<usize, String>,
}

impl CheckReport {
    pub fn to_json(&self) -> Value {
        json!({
            "roles": self.plan.roles,
            "licence": self.plan.licence.map(plan::licence_name),
            "licence_source": self.plan.licence_source,
            "record_types": self.plan.types,
            "directory_extensions": self.extensions.as_ref().ok(),
            "directory_extensions_error": self.extensions.as_ref().err(),
        })
    }

    /// The human-readable report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        match &self.plan.roles {
            Some(roles) if roles.is_empty() => {
                out.push_str("Permission denied: the app has no Microsoft Graph application permission.\n");
                for a in PERMISSION_ADVICE {
                    out.push_str(&format!("  - {a}\n"));
                }
            }
            Some(roles) => {
                let mut roles = roles.clone();
                roles.sort();
                out.push_str(&format!("Granted application permissions ({}):\n", roles.len()));
                for r in roles {
                    out.push_str(&format!("  {r}\n"));
                }
            }
            None => out.push_str("Granted application permissions: unknown (the access token is not a readable JWT)\n"),
        }
        let licence = self.plan.licence.map_or("unknown", plan::licence_name);
        let source = match self.plan.licence_source {
            LicenceSource::SubscribedSkus => "from subscribedSkus",
            LicenceSource::Probes => "from probes of the licensed endpoints",
            LicenceSource::Unknown => "not determined",
        };
        out.push_str(&format!("\nLicence: {licence} ({source})\n"));
        match &self.extensions {
            Ok(n) => out.push_str(&format!(
                "Custom fields: onPremisesExtensionAttributes 1-15 and {n} directory extension(s)\n"
            )),
            Err(why) => out.push_str(&format!(
                "Custom fields: onPremisesExtensionAttributes 1-15; directory extensions not discovered: {why}\n"
            )),
        }
        let width = self.plan.types.iter().map(|t| t.record_type.len()).max().unwrap_or(12).max(12);
        out.push_str(&format!("\n{:<width$}  {}\n", "record type", "status"));
        for t in &self.plan.types {
            match &t.reason {
                None => match plan::incremental_note(t.record_type, self.plan.roles.as_deref()) {
                    Some(note) => out.push_str(&format!(
                        "{:<width$}  available for full syncs; incremental syncs skip it: {note}\n",
                        t.record_type
                    )),
                    None => out.push_str(&format!("{:<width$}  available\n", t.record_type)),
                },
                Some(reason) => out.push_str(&format!("{:<width$}  skipped: {reason}\n", t.record_type)),
            }
        }
        let skipped = self.plan.types.iter().filter(|t| t.skip.is_some()).count();
        out.push_str(&format!(
            "\n{} of {} record types available; skipped types are not synced and cost no requests.\n",
            self.plan.types.len() - skipped,
            self.plan.types.len()
        ));
        out
    }
}

/// The failure message of a token error, with the documentation's troubleshooting steps.
pub fn auth_failure_text(e: &GraphError) -> String {
    let mut text = e.to_string();
    if !text.starts_with("Authentication failed") {
        text = format!("Authentication failed: {text}");
    }
    text.push_str("\nIf the test fails, verify:\n");
    for a in AUTH_ADVICE {
        text.push_str(&format!("  - {a}\n"));
    }
    text
}

/// Runs the check against a tenant. Credentials that do not yield a token are an error (with advice).
pub async fn check(cfg: &Config, tenant: &str, client_id: &str, client_secret: &str) -> Result<CheckReport, String> {
    let http = net::build_client(cfg.extra_ca_pem.as_deref(), None).map_err(|e| e.to_string())?;
    let tokens = TokenSource::client_secret(&cfg.authority_host, http.clone(), tenant, client_id, client_secret)
        .map_err(|e| auth_failure_text(&e))?;
    tokens.token().await.map_err(|e| auth_failure_text(&e))?;
    let graph = GraphClient::new(
        http,
        &cfg.graph_url,
        tokens,
        Arc::new(TenantLimiter::new(3_500)),
        cfg.graph_max_retries,
        cfg.graph_retry_base,
    )
    .map_err(|e| e.to_string())?;
    let types: Vec<&'static schema::RecordType> =
        extract::all().iter().filter_map(|ex| schema::record_type(ex.record_type())).collect();
    let plan = plan::make(&graph, &types, &Default::default()).await.map_err(|e| match e {
        GraphError::Auth(_) => auth_failure_text(&e),
        other => other.to_string(),
    })?;
    use extract::custom_fields::{APPLICATION_READ, DIRECTORY_READ};
    let roles = plan.roles.as_deref();
    let extensions = if !plan::has_any(roles, DIRECTORY_READ) && !plan::has_any(roles, APPLICATION_READ) {
        Err("Permission denied: grant the Microsoft Graph application permission Directory.Read.All (or Application.Read.All) and admin consent".to_string())
    } else {
        extract::custom_fields::discover(&graph, roles).await.map(|found| found.len()).map_err(|e| e.to_string())
    };
    Ok(CheckReport { plan, extensions })
}

pub async fn run(args: CheckArgs) -> Result<(), String> {
    let cfg = args.worker.config();
    let report = check(&cfg, &args.tenant, &args.client_id, &args.client_secret).await?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
