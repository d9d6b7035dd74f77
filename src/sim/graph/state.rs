//! Shared server state: tenant, registered apps, token sealer, statistics, throttling buckets,
//! injectable faults, and the simulated clock (real time plus an adjustable offset).

use super::errors::{bad_request, graph_error_with};
use super::http::{Ctx, Resp};
use super::tenant::Tenant;
use super::tokens::Sealer;
use super::{AppRegistration, GraphSimOptions};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

pub struct Shared {
    pub opts: GraphSimOptions,
    /// `https://127.0.0.1:PORT`
    pub origin: String,
    pub tenant_id: String,
    pub domain: String,
    pub tenant: RwLock<Tenant>,
    pub directory: RwLock<super::directory::Directory>,
    pub apps: RwLock<HashMap<String, AppRegistration>>,
    pub sealer: Sealer,
    pub stats: Mutex<Stats>,
    pub throttle: Mutex<HashMap<String, Bucket>>,
    pub faults: Mutex<Faults>,
    pub clock_offset: AtomicI64,
    pub policies: super::policies::PolicyState,
    /// Deletion times of the objects in the recycle bin (`/directory/deletedItems`).
    pub recycle: super::recycle::DeletedTimes,
}

impl Shared {
    /// Consumes one use of the `throttle_next` fault: `Some(Retry-After)` if this request is throttled.
    pub fn take_throttle(&self) -> Option<String> {
        let mut f = self.faults.lock().ok()?;
        if f.throttle_next == 0 {
            return None;
        }
        f.throttle_next -= 1;
        Some(f.throttle_retry_after.clone())
    }

    /// The faults a delta round started from a token issued at `issued_at` meets: a 410 `resyncRequired`
    /// pointing at `location` (consuming one use of `gone_next`), or 400 `syncStateNotFound` for a token
    /// older than its lifetime; else how many changes to replay.
    pub fn delta_token_faults(&self, ctx: &Ctx, issued_at: i64, location: String) -> Result<u64, Box<Resp>> {
        let (gone, ttl, replay) = match self.faults.lock() {
            Ok(mut f) => {
                let gone = f.gone_next > 0;
                if gone {
                    f.gone_next -= 1;
                }
                (gone, f.delta_token_ttl_days, f.replay_changes)
            }
            Err(_) => (false, 7, 0),
        };
        if gone {
            let msg = "The delta token is no longer valid, and the app must reset the sync state.";
            return Err(Box::new(graph_error_with(
                ctx,
                StatusCode::GONE,
                "resyncRequired",
                msg,
                &[("location", location)],
            )));
        }
        if ttl > 0 && self.now() - issued_at > ttl as i64 * 86_400 {
            let msg = "The sync state generation is not found. The delta token is expired and data must be synchronized again.";
            return Err(Box::new(bad_request(ctx, "syncStateNotFound", msg)));
        }
        Ok(replay)
    }

    /// Simulated "now" in unix seconds.
    pub fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset.load(Ordering::Relaxed)
    }
}

/// Faults and knobs settable through `POST /_sim/faults`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Delta tokens older than this many simulated days answer 400 `syncStateNotFound`.
    pub delta_token_ttl_days: u64,
    /// The next N delta-token calls answer 410 Gone with a `Location` to restart.
    pub gone_next: u32,
    /// Change rounds also replay this many change-log entries from before the token.
    pub replay_changes: u64,
    /// Insert an empty `value` page (with a nextLink) at the start of every delta round.
    pub empty_first_page: bool,
    /// The next N Graph requests (including `$batch` envelopes) answer 429 `TooManyRequests`.
    pub throttle_next: u32,
    /// The `Retry-After` those 429s carry (integer or decimal seconds, as Graph sends both).
    pub throttle_retry_after: String,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            delta_token_ttl_days: 7,
            gone_next: 0,
            replay_changes: 0,
            empty_first_page: false,
            throttle_next: 0,
            throttle_retry_after: "1".into(),
        }
    }
}

/// Request and RU counters for `/_sim/stats`.
#[derive(Default, Debug)]
pub struct Stats {
    pub requests: u64,
    pub per_route: BTreeMap<String, u64>,
    pub ru: u64,
    pub ru_per_route: BTreeMap<String, u64>,
    pub throttled: u64,
    pub errors: BTreeMap<u16, u64>,
    pub objects: u64,
    /// Sub-requests answered inside `$batch` envelopes (each also counted under its own route).
    pub batch_items: u64,
}

impl Stats {
    pub fn record(&mut self, route: &str, status: u16, ru: u32, objects: usize) {
        self.requests += 1;
        *self.per_route.entry(route.to_string()).or_default() += 1;
        self.ru += ru as u64;
        if ru > 0 {
            *self.ru_per_route.entry(route.to_string()).or_default() += ru as u64;
        }
        if status == 429 {
            self.throttled += 1;
        }
        if status >= 400 {
            *self.errors.entry(status).or_default() += 1;
        }
        self.objects += objects as u64;
    }

    pub fn to_json(&self) -> Value {
        json!({
            "requests_total": self.requests,
            "requests_per_route": self.per_route,
            "ru_total": self.ru,
            "ru_per_route": self.ru_per_route,
            "throttled_429": self.throttled,
            "errors_by_status": self.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>(),
            "objects_returned": self.objects,
            "batch_items": self.batch_items,
        })
    }
}

/// RU token bucket for one app+tenant pair (refills continuously).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub capacity: f64,
    pub tokens: f64,
    pub per_sec: f64,
    pub last: Instant,
}

impl Bucket {
    /// Capacity per 10 s by tenant size (§4.3): S < 50 users, M 50–500, L > 500.
    pub fn for_tenant(users: usize) -> Bucket {
        let cap = if users < 50 {
            3500.0
        } else if users <= 500 {
            5000.0
        } else {
            8000.0
        };
        Bucket { capacity: cap, tokens: cap, per_sec: cap / 10.0, last: Instant::now() }
    }

    /// Take `cost` RU. `Err(seconds to wait)` if the bucket is short.
    pub fn take(&mut self, cost: f64) -> Result<f64, f64> {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.per_sec).min(self.capacity);
        if self.tokens >= cost {
            self.tokens -= cost;
            Ok(1.0 - self.tokens / self.capacity)
        } else {
            Err((cost - self.tokens) / self.per_sec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_sizes_and_exhaustion() {
        assert_eq!(Bucket::for_tenant(49).capacity, 3500.0);
        assert_eq!(Bucket::for_tenant(50).capacity, 5000.0);
        assert_eq!(Bucket::for_tenant(501).capacity, 8000.0);
        let mut b = Bucket::for_tenant(10);
        for _ in 0..1750 {
            assert!(b.take(2.0).is_ok());
        }
        let wait = b.take(2.0).expect_err("empty");
        assert!(wait > 0.0 && wait < 1.0, "{wait}");
    }

    #[test]
    fn stats_record() {
        let mut s = Stats::default();
        s.record("GET /v1.0/users", 200, 2, 100);
        s.record("GET /v1.0/users", 429, 0, 0);
        let v = s.to_json();
        assert_eq!(v["requests_total"], 2);
        assert_eq!(v["ru_per_route"]["GET /v1.0/users"], 2);
        assert_eq!(v["throttled_429"], 1);
        assert_eq!(v["errors_by_status"]["429"], 1);
    }
}
