//! Throttling for the policy/report/log routes: the reports bucket (5 / 10 s per app+tenant), the
//! conditional-access bucket (1 / s per tenant, 429 without `Retry-After`) and the identity RU bucket.

use super::super::errors::graph_error_with;
use super::super::gen::Mix;
use super::super::http::{Ctx, Resp};
use super::super::state::{Bucket, Shared};
use super::super::token::Claims;
use super::super::users::Query;
use super::access::ThrottleBucket;
use hyper::StatusCode;
use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub struct Buckets {
    reports: HashMap<String, Bucket>,
    ca: HashMap<String, Bucket>,
    /// Number of 429s issued (drives the seeded integer/decimal `Retry-After` choice).
    issued: u64,
}

fn fixed(capacity: f64, per_sec: f64) -> Bucket {
    Bucket { capacity, tokens: capacity, per_sec, last: Instant::now() }
}

/// RU cost of an identity request: base, −1 with `$select`, +1 with `$expand`, −1 with `$top` < 20; ≥ 1.
pub fn identity_ru(base: u32, q: &Query) -> u32 {
    let mut cost = base as i64;
    if q.get("$select").is_some() {
        cost -= 1;
    }
    if q.get("$expand").is_some() {
        cost += 1;
    }
    if q.get("$top").and_then(|t| t.trim().parse::<u32>().ok()).is_some_and(|t| t < 20) {
        cost -= 1;
    }
    cost.max(1) as u32
}

/// `Retry-After` for a wait of `secs`: seeded, sometimes an integer (rounded up), sometimes decimal.
pub fn retry_after(seed: u64, n: u64, secs: f64) -> String {
    let secs = secs.max(0.001);
    if Mix::new(seed ^ 0x5254_4146, n).pct(50) {
        format!("{:.3}", secs.max(0.1))
    } else {
        format!("{}", secs.ceil().max(1.0) as u64)
    }
}

/// Charge the request. `Ok(Some(p))`: used share of the identity bucket (for
/// `x-ms-throttle-limit-percentage`); `Err`: the 429 to send. No-op unless throttling is on.
pub fn charge(
    sh: &Shared,
    ctx: &Ctx,
    claims: &Claims,
    bucket: ThrottleBucket,
    ru: u32,
) -> Result<Option<f64>, Box<Resp>> {
    if !sh.opts.throttling {
        return Ok(None);
    }
    let (app, tid) = (&claims.appid, &claims.tid);
    let (taken, n) = {
        let Ok(mut b) = sh.policies.buckets.lock() else { return Ok(None) };
        let taken = match bucket {
            ThrottleBucket::Reports => {
                b.reports.entry(format!("{app}/{tid}")).or_insert_with(|| fixed(5.0, 0.5)).take(1.0).map(|_| None)
            }
            ThrottleBucket::ConditionalAccess => {
                b.ca.entry(tid.clone()).or_insert_with(|| fixed(1.0, 1.0)).take(1.0).map(|_| None)
            }
            ThrottleBucket::Identity { .. } => {
                let users = sh.tenant.read().map(|t| t.user_count()).unwrap_or(0);
                match sh.throttle.lock() {
                    Ok(mut m) => m
                        .entry(format!("{app}/{tid}"))
                        .or_insert_with(|| Bucket::for_tenant(users))
                        .take(ru as f64)
                        .map(Some),
                    Err(_) => Ok(None),
                }
            }
        };
        if taken.is_err() {
            b.issued += 1;
        }
        (taken, b.issued)
    };
    let wait = match taken {
        Ok(p) => return Ok(p),
        Err(w) => w,
    };
    let seed = sh.opts.seed;
    let (message, mut headers): (String, Vec<(&str, String)>) = match bucket {
        ThrottleBucket::Identity { .. } => (
            format!("Too many requests from Identifier:{app}+{tid} under category:throttle.aad.ags.appId.large. Please try again later."),
            vec![
                ("retry-after", retry_after(seed, n, wait)),
                ("x-ms-throttle-scope", format!("Tenant_Application/ReadWrite/{app}/{tid}")),
                ("x-ms-throttle-information", "ResourceUnitLimitExceeded".into()),
            ],
        ),
        ThrottleBucket::Reports => (
            "Please retry again later.".into(),
            vec![
                ("retry-after", retry_after(seed, n, wait)),
                ("x-ms-throttle-scope", format!("Tenant_Application/Read/{app}/{tid}")),
                ("x-ms-throttle-information", "RequestLimitExceeded".into()),
            ],
        ),
        // Documented: identity protection and conditional access send no Retry-After.
        ThrottleBucket::ConditionalAccess => (
            "Please retry again later.".into(),
            vec![
                ("x-ms-throttle-scope", format!("Tenant/Read/{app}/{tid}")),
                ("x-ms-throttle-information", "RequestLimitExceeded".into()),
            ],
        ),
    };
    headers.retain(|(_, v)| !v.is_empty());
    Err(Box::new(graph_error_with(ctx, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", &message, &headers)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seeded_and_mixed() {
        let vals: Vec<String> = (0..40).map(|n| retry_after(7, n, 1.234)).collect();
        assert_eq!(vals, (0..40).map(|n| retry_after(7, n, 1.234)).collect::<Vec<_>>());
        assert!(vals.iter().any(|v| v == "2"));
        assert!(vals.iter().any(|v| v == "1.234"));
        assert!(vals.iter().all(|v| v.parse::<f64>().unwrap() > 0.0));
    }

    #[test]
    fn ru_modifiers() {
        let q = |s: &str| Query::parse(Some(s));
        assert_eq!(identity_ru(3, &q("")), 3);
        assert_eq!(identity_ru(3, &q("$select=id&$top=5")), 1);
        assert_eq!(identity_ru(1, &q("$select=id")), 1);
        assert_eq!(identity_ru(1, &q("$expand=tasks")), 2);
    }
}
