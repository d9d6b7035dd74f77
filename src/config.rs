//! Worker configuration: the fixed environment contract of DESIGN.md section 2, resolved once per process
//! and shared read-only by every invocation.

use std::path::PathBuf;
use std::time::Duration;

use crate::net::HostPolicy;

/// Everything one worker process needs to know; built by the CLI from flags and environment.
#[derive(Clone, Debug)]
pub struct Config {
    /// Identity platform root, e.g. `https://login.microsoftonline.com` (`ENTRA_AUTHORITY_HOST`).
    pub authority_host: String,
    /// Graph root without version, e.g. `https://graph.microsoft.com` (`ENTRA_GRAPH_URL`).
    pub graph_url: String,
    /// Extra trusted roots in PEM (`ENTRA_EXTRA_CA_PEM`), for the simulator or a corporate proxy.
    pub extra_ca_pem: Option<PathBuf>,
    /// Hosts the worker may call on the DevRev side (`AIRSYNC_ALLOWED_HOSTS`).
    pub allowed_hosts: HostPolicy,
    /// Soft timeout of one invocation (`AIRSYNC_SOFT_TIMEOUT_SECS`); the hard timeout is 1.3 times it.
    pub soft_timeout: Duration,
    /// Items per artifact (the protocol's default batch size is 2,000).
    pub batch_size: usize,
    /// First back-off step of the platform retry policy (protocol §4.5: 2 s; tests shorten it).
    pub platform_retry_base: Duration,
    /// Per-request timeout of platform calls (protocol §4.5: 30 s).
    pub platform_timeout: Duration,
    /// Retries of one Graph request before giving up (throttled requests then become DELAYED).
    pub graph_max_retries: usize,
    /// First back-off step for Graph retries without `Retry-After`.
    pub graph_retry_base: Duration,
    /// The throttling buckets the worker keeps to (Graph's documented limits by default).
    pub limits: crate::graph::limiter::Limits,
}

impl Config {
    pub const DEFAULT_AUTHORITY_HOST: &'static str = "https://login.microsoftonline.com";
    pub const DEFAULT_GRAPH_URL: &'static str = "https://graph.microsoft.com";

    /// The hard timeout: after it the invocation is abandoned and answers the phase's ERROR. It is 1.3
    /// times the soft timeout (780 s for the default 600 s), and never less than 2 s more than it, so that
    /// the work after a very short soft timeout (one page, flush, state save) has room to finish.
    pub fn hard_timeout(&self) -> Duration {
        self.soft_timeout.mul_f64(1.3).max(self.soft_timeout + Duration::from_secs(2))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            authority_host: Self::DEFAULT_AUTHORITY_HOST.to_string(),
            graph_url: Self::DEFAULT_GRAPH_URL.to_string(),
            extra_ca_pem: None,
            allowed_hosts: HostPolicy::parse("*.devrev.ai"),
            soft_timeout: Duration::from_secs(600),
            batch_size: 2000,
            platform_retry_base: Duration::from_secs(2),
            platform_timeout: Duration::from_secs(30),
            graph_max_retries: 6,
            graph_retry_base: Duration::from_millis(500),
            limits: crate::graph::limiter::Limits::default(),
        }
    }
}
