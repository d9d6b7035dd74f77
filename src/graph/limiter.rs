//! One rate limiter per tenant: the identity bucket charged in resource units (RU) per request, the
//! reports bucket (5 requests / 10 s) and the conditional-access bucket (1 request / s), each with a pause
//! gate that a 429 or 503 closes for the whole bucket until its `Retry-After` has passed.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// Which throttling bucket a request draws from (graph-api.md §4.3–4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bucket {
    Identity,
    Reports,
    ConditionalAccess,
}

/// The identity bucket's size by tenant size: S (< 50 users), M (50–500), L (> 500), RU per 10 s.
pub fn identity_quota_for_users(users: u64) -> u32 {
    match users {
        0..50 => 3_500,
        50..=500 => 5_000,
        _ => 8_000,
    }
}

/// The bucket and RU cost of a GET, from the documented cost table and modifiers.
pub fn cost_of(path: &str, query: &str) -> (Bucket, u32) {
    let p = path.trim_start_matches("/v1.0").trim_start_matches("/beta").trim_end_matches('/');
    // graph-api.md §4.4/§8.12: the reports limits cover `authenticationMethod` too, the per-user method
    // reads (`/users/{id}/authentication/methods` and its typed sub-collections) among them.
    let per_user_methods = p.starts_with("/users/") && p.contains("/authentication/");
    if p.starts_with("/auditLogs/") || p.starts_with("/reports/") || per_user_methods {
        return (Bucket::Reports, 1);
    }
    if p.starts_with("/identity/conditionalAccess") || p.starts_with("/identityProtection") {
        return (Bucket::ConditionalAccess, 1);
    }
    let segments: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
    let base: i32 = match segments.as_slice() {
        ["users"] => 2,
        ["applications"] => 2,
        ["applications", _, "extensionProperties"] => 2,
        ["groups", _, "members"] => 3,
        ["groups", _, "transitiveMembers"] => 5,
        ["oauth2PermissionGrants", ..] => 2,
        ["servicePrincipals", _, "appRoleAssignments"] => 2,
        ["subscribedSkus"] => 3,
        _ => 1,
    };
    let has = |opt: &str| query.split('&').any(|kv| kv.starts_with(opt));
    let mut cost = base;
    if has("$select=") || has("%24select=") {
        cost -= 1;
    }
    if has("$expand=") || has("%24expand=") {
        cost += 1;
    }
    let small_top = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("$top=").or_else(|| kv.strip_prefix("%24top=")))
        .and_then(|v| v.parse::<u32>().ok())
        .is_some_and(|t| t < 20);
    if small_top {
        cost -= 1;
    }
    (Bucket::Identity, cost.max(1) as u32)
}

/// The bucket sizes the worker keeps to. The defaults are Graph's documented limits (the identity bucket
/// starts at the smallest tenant size); tests against an unthrottled simulator may raise them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub identity_ru_per_10s: u32,
    pub reports_per_10s: u32,
    pub conditional_access_per_s: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { identity_ru_per_10s: 3_500, reports_per_10s: 5, conditional_access_per_s: 1 }
    }
}

struct Gate {
    limiter: RwLock<Arc<DefaultDirectRateLimiter>>,
    paused_until: Mutex<Option<Instant>>,
}

/// How much slower than Graph's rate the request-counted buckets (reports, conditional access) refill in the
/// worker: Graph counts a request when it arrives, and arrivals jitter (connection set-up, scheduling), so
/// two requests sent exactly one refill apart can arrive less than one refill apart and be refused.
const REQUEST_BUCKET_MARGIN_PCT: u32 = 10;

fn limiter(per_period: u32, period: Duration, margin_pct: u32) -> Arc<DefaultDirectRateLimiter> {
    let n = NonZeroU32::new(per_period.max(1)).unwrap_or(NonZeroU32::MIN);
    let interval = period / n.get() * (100 + margin_pct) / 100;
    let quota = Quota::with_period(interval).unwrap_or_else(|| Quota::per_second(n)).allow_burst(n);
    Arc::new(RateLimiter::direct(quota))
}

impl Gate {
    fn new(per_period: u32, period: Duration, margin_pct: u32) -> Gate {
        Gate { limiter: RwLock::new(limiter(per_period, period, margin_pct)), paused_until: Mutex::new(None) }
    }

    /// Waits while the bucket is paused.
    async fn wait_open(&self) {
        loop {
            let until = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => break,
            }
        }
    }

    async fn acquire(&self, cost: u32) {
        self.wait_open().await;
        let limiter = self.limiter.read().unwrap_or_else(|p| p.into_inner()).clone();
        let n = NonZeroU32::new(cost.max(1)).unwrap_or(NonZeroU32::MIN);
        if limiter.until_n_ready(n).await.is_err() {
            // Costlier than the whole bucket: wait for one full refill instead.
            let _ = limiter.until_ready().await;
        }
        // A pause that began while this request waited for its units holds it too: it is sent once the
        // pause is over, with the units it already holds (at most one such request per waiting caller).
        self.wait_open().await;
    }

    fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut current = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if current.is_none_or(|c| c < until) {
            *current = Some(until);
        }
    }
}

/// The limiter shared by every request to one tenant within a worker.
pub struct TenantLimiter {
    identity: Gate,
    reports: Gate,
    conditional_access: Gate,
}

impl TenantLimiter {
    /// `identity_ru` per 10 s; the reports and conditional-access buckets are fixed by Graph.
    pub fn new(identity_ru: u32) -> TenantLimiter {
        TenantLimiter::with_limits(&Limits { identity_ru_per_10s: identity_ru, ..Limits::default() })
    }

    pub fn with_limits(limits: &Limits) -> TenantLimiter {
        TenantLimiter {
            identity: Gate::new(limits.identity_ru_per_10s, Duration::from_secs(10), 0),
            reports: Gate::new(limits.reports_per_10s, Duration::from_secs(10), REQUEST_BUCKET_MARGIN_PCT),
            conditional_access: Gate::new(
                limits.conditional_access_per_s,
                Duration::from_secs(1),
                REQUEST_BUCKET_MARGIN_PCT,
            ),
        }
    }

    fn gate(&self, bucket: Bucket) -> &Gate {
        match bucket {
            Bucket::Identity => &self.identity,
            Bucket::Reports => &self.reports,
            Bucket::ConditionalAccess => &self.conditional_access,
        }
    }

    /// Waits until the bucket is open and has `cost` units.
    pub async fn acquire(&self, bucket: Bucket, cost: u32) {
        self.gate(bucket).acquire(cost).await;
    }

    /// Closes the bucket for `wait` (a 429 or 503 with `Retry-After`, or the backoff without one).
    pub fn pause(&self, bucket: Bucket, wait: Duration) {
        tracing::debug!(?bucket, wait_ms = wait.as_millis() as u64, "bucket paused");
        self.gate(bucket).pause(wait);
    }

    /// Resizes the identity bucket once the tenant size is known.
    pub fn set_identity_quota(&self, ru_per_10s: u32) {
        *self.identity.limiter.write().unwrap_or_else(|p| p.into_inner()) =
            limiter(ru_per_10s, Duration::from_secs(10), 0);
    }

    /// Waits for every charge of one `$batch` envelope: Graph counts each item against its own bucket, so
    /// report and conditional-access items take one token each from theirs, identity items their RU.
    pub async fn acquire_all(&self, charges: &[(Bucket, u32)]) {
        let identity: u32 = charges.iter().filter(|(b, _)| *b == Bucket::Identity).map(|(_, c)| *c).sum();
        for (bucket, cost) in charges.iter().filter(|(b, _)| *b != Bucket::Identity) {
            self.acquire(*bucket, *cost).await;
        }
        if identity > 0 {
            self.acquire(Bucket::Identity, identity).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_documented_table() {
        assert_eq!(cost_of("/v1.0/users", "$select=id"), (Bucket::Identity, 1));
        assert_eq!(cost_of("/v1.0/users", ""), (Bucket::Identity, 2));
        assert_eq!(cost_of("/v1.0/users/delta", "$select=id"), (Bucket::Identity, 1));
        assert_eq!(cost_of("/v1.0/groups/g1/members", "$select=id"), (Bucket::Identity, 2));
        assert_eq!(cost_of("/v1.0/subscribedSkus", ""), (Bucket::Identity, 3));
        assert_eq!(cost_of("/v1.0/users", "$top=5"), (Bucket::Identity, 1));
        assert_eq!(cost_of("/v1.0/auditLogs/signIns", "$filter=x"), (Bucket::Reports, 1));
        assert_eq!(cost_of("/v1.0/identity/conditionalAccess/policies", ""), (Bucket::ConditionalAccess, 1));
        // graph-api.md §4.4: every reports-bucket endpoint the worker reads (also as `$batch` items), and
        // conditional access / identity protection.
        for path in [
            "/v1.0/auditLogs/directoryAudits",
            "/reports/authenticationMethods/userRegistrationDetails/u1",
            "/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "/v1.0/auditLogs/provisioning",
        ] {
            assert_eq!(cost_of(path, "$top=999").0, Bucket::Reports, "{path}");
        }
        for path in ["/v1.0/identity/conditionalAccess/namedLocations", "/v1.0/identityProtection/riskyUsers"] {
            assert_eq!(cost_of(path, "").0, Bucket::ConditionalAccess, "{path}");
        }
        assert_eq!(cost_of("/users/u1/authentication/methods", "").0, Bucket::Reports);
        assert_eq!(cost_of("/v1.0/users/u1/authentication/phoneMethods", "").0, Bucket::Reports);
        assert_eq!(cost_of("/v1.0/users/u1", "$select=id").0, Bucket::Identity);
        assert_eq!(identity_quota_for_users(10), 3_500);
        assert_eq!(identity_quota_for_users(400), 5_000);
        assert_eq!(identity_quota_for_users(100_000), 8_000);
    }

    #[tokio::test]
    async fn a_pause_holds_the_whole_bucket_and_only_that_bucket() {
        let l = TenantLimiter::new(8_000);
        l.pause(Bucket::Reports, Duration::from_millis(300));
        let t = std::time::Instant::now();
        l.acquire(Bucket::Identity, 1).await;
        assert!(t.elapsed() < Duration::from_millis(200), "identity is not paused");
        l.acquire(Bucket::Reports, 1).await;
        assert!(t.elapsed() >= Duration::from_millis(290), "reports waited for the pause");
    }

    #[tokio::test]
    async fn a_pause_that_begins_while_waiting_for_units_holds_the_request() {
        let l = std::sync::Arc::new(TenantLimiter::new(20)); // burst 20, then one unit every 500 ms
        for _ in 0..20 {
            l.acquire(Bucket::Identity, 1).await;
        }
        let t = std::time::Instant::now();
        let waiting = tokio::spawn({
            let l = l.clone();
            async move { l.acquire(Bucket::Identity, 1).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        l.pause(Bucket::Identity, Duration::from_millis(900));
        waiting.await.unwrap();
        assert!(t.elapsed() >= Duration::from_millis(900), "sent during the pause after {:?}", t.elapsed());
    }

    #[tokio::test]
    async fn the_reports_bucket_allows_five_per_ten_seconds() {
        let l = TenantLimiter::new(8_000);
        let t = std::time::Instant::now();
        for _ in 0..5 {
            l.acquire(Bucket::Reports, 1).await;
        }
        assert!(t.elapsed() < Duration::from_millis(500), "a full bucket serves five at once");
        let sixth = tokio::time::timeout(Duration::from_millis(500), l.acquire(Bucket::Reports, 1)).await;
        assert!(sixth.is_err(), "the sixth request waits for a refill");
    }

    #[tokio::test]
    async fn batch_items_draw_from_their_own_buckets() {
        let l = TenantLimiter::new(8_000);
        let items = [(Bucket::Reports, 1), (Bucket::Identity, 2), (Bucket::Reports, 1), (Bucket::Reports, 1)];
        l.acquire_all(&items).await;
        l.acquire(Bucket::Reports, 1).await;
        l.acquire(Bucket::Reports, 1).await;
        let sixth = tokio::time::timeout(Duration::from_millis(300), l.acquire(Bucket::Reports, 1)).await;
        assert!(sixth.is_err(), "three report items of a batch took three of the five tokens");
    }
}
