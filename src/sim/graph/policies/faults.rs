//! Fault profiles (`none`, `flaky`, `hostile`) for Graph routes: seeded bursts of 5xx and connection
//! resets; hostile adds trickled bodies, truncated JSON, resets mid-body and wrong content types.

use super::super::errors::{graph_error, graph_error_with};
use super::super::gen::Mix;
use super::super::http::{Ctx, Resp};
use super::super::state::Shared;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::HeaderValue;
use hyper::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};
use std::time::Duration;

/// Which faults the simulator injects into Graph routes (never into the token endpoint or `/_sim/`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultProfile {
    #[default]
    None,
    /// Bursts of 500/502/503/504 (503 with and without `Retry-After`) and connection resets.
    Flaky,
    /// Flaky plus slow (trickled) bodies, truncated JSON, resets mid-body, wrong content types.
    Hostile,
}

impl FromStr for FaultProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(FaultProfile::None),
            "flaky" => Ok(FaultProfile::Flaky),
            "hostile" => Ok(FaultProfile::Hostile),
            _ => Err(format!("unknown fault profile '{s}' (supported: none, flaky, hostile)")),
        }
    }
}

/// One injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Status500,
    Status502,
    Status503,
    Status503RetryAfter,
    Status504,
    Reset,
    Trickle,
    Truncated,
    ResetMidBody,
    WrongContentType,
}

impl FaultKind {
    pub const ALL: [FaultKind; 10] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Status503RetryAfter,
        FaultKind::Status504,
        FaultKind::Reset,
        FaultKind::Trickle,
        FaultKind::Truncated,
        FaultKind::ResetMidBody,
        FaultKind::WrongContentType,
    ];
    const EARLY: [FaultKind; 6] = [
        FaultKind::Status500,
        FaultKind::Status502,
        FaultKind::Status503,
        FaultKind::Status503RetryAfter,
        FaultKind::Status504,
        FaultKind::Reset,
    ];
    const BODY: [FaultKind; 4] =
        [FaultKind::Trickle, FaultKind::Truncated, FaultKind::ResetMidBody, FaultKind::WrongContentType];
}

/// The profile's seeded state: one draw per Graph request, in arrival order.
pub struct FaultState {
    pub profile: FaultProfile,
    rng: Mix,
    burst_left: u32,
    pub requests: u64,
    /// `(request number, fault)`, the first 100,000 faults.
    pub log: Vec<(u64, FaultKind)>,
}

impl FaultState {
    pub fn new(profile: FaultProfile, seed: u64) -> FaultState {
        FaultState { profile, rng: Mix::new(seed, 0x4641_554C), burst_left: 0, requests: 0, log: Vec::new() }
    }

    /// The fault (if any) for the next request.
    pub fn draw(&mut self) -> Option<(FaultKind, u64)> {
        let n = self.requests;
        self.requests += 1;
        let (burst_pct, body_pct) = match self.profile {
            FaultProfile::None => return None,
            FaultProfile::Flaky => (4, 0),
            FaultProfile::Hostile => (6, 8),
        };
        let r = &mut self.rng;
        let kind = if self.burst_left > 0 {
            self.burst_left -= 1;
            Some(FaultKind::EARLY[r.below(6) as usize])
        } else if r.pct(burst_pct) {
            self.burst_left = r.below(3) as u32;
            Some(FaultKind::EARLY[r.below(6) as usize])
        } else if r.pct(body_pct) {
            Some(FaultKind::BODY[r.below(4) as usize])
        } else {
            None
        };
        let kind = kind?;
        let param = r.next_u64();
        if self.log.len() < 100_000 {
            self.log.push((n, kind));
        }
        Some((kind, param))
    }
}

/// Marks a response whose connection must be dropped instead of answered.
#[derive(Clone, Copy, Debug)]
struct ResetMarker;

/// How the body of a response is delivered.
#[derive(Clone, Copy, Debug)]
struct BodyPlan {
    /// Bytes sent before the body ends (`None`: all).
    cut: Option<usize>,
    /// After the cut, fail the stream (connection reset) instead of ending cleanly.
    fail: bool,
    chunk: usize,
    delay: Option<Duration>,
}

/// The fault planned for one request: early (answer instead of the route) or applied to the answer.
pub struct Plan(Option<(FaultKind, u64)>);

pub fn draw(sh: &Shared) -> Plan {
    Plan(sh.policies.faults.lock().ok().and_then(|mut f| f.draw()))
}

impl Plan {
    /// A response replacing the route's answer (5xx or connection reset), if this fault is early.
    pub fn early(&self, sh: &Shared, ctx: &Ctx) -> Option<Resp> {
        let (kind, param) = self.0?;
        let mut r = match kind {
            FaultKind::Status500 => graph_error(
                ctx,
                StatusCode::INTERNAL_SERVER_ERROR,
                "generalException",
                "An unspecified error has occurred.",
            ),
            FaultKind::Status502 => graph_error(ctx, StatusCode::BAD_GATEWAY, "BadGateway", "Bad Gateway."),
            FaultKind::Status503 => graph_error(
                ctx,
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            ),
            FaultKind::Status503RetryAfter => {
                let secs = 0.2 + (param % 1800) as f64 / 1000.0;
                graph_error_with(
                    ctx,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please retry later.",
                    &[("retry-after", super::throttle::retry_after(sh.opts.seed, param, secs))],
                )
            }
            FaultKind::Status504 => graph_error(
                ctx,
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeout",
                "The gateway did not receive a response from the upstream in time.",
            ),
            FaultKind::Reset => {
                let mut r = graph_error(ctx, StatusCode::INTERNAL_SERVER_ERROR, "Reset", "connection reset");
                r.extensions_mut().insert(ResetMarker);
                r
            }
            _ => return None,
        };
        r.headers_mut().insert("x-sim-fault", HeaderValue::from_static("1"));
        Some(r)
    }

    /// Apply a body fault to the route's answer.
    pub fn apply(&self, mut resp: Resp) -> Resp {
        let Some((kind, param)) = self.0 else { return resp };
        let len_hint = resp.body().size_hint().exact().unwrap_or(0) as usize;
        let cut_at = |p: u64| if len_hint > 1 { 1 + (p % (len_hint as u64 - 1)) as usize } else { 0 };
        let plan = match kind {
            FaultKind::Trickle => {
                let chunk = 64 + (param % 448) as usize;
                let chunks = len_hint.div_ceil(chunk).max(1) as u64;
                let budget_ms = 300 + (param >> 16) % 1200;
                Some(BodyPlan {
                    cut: None,
                    fail: false,
                    chunk,
                    delay: Some(Duration::from_millis((budget_ms / chunks).max(1))),
                })
            }
            FaultKind::Truncated => {
                Some(BodyPlan { cut: Some(cut_at(param)), fail: false, chunk: usize::MAX, delay: None })
            }
            FaultKind::ResetMidBody => {
                let delay = Some(Duration::from_millis(30));
                Some(BodyPlan { cut: Some(cut_at(param)), fail: true, chunk: usize::MAX, delay })
            }
            FaultKind::WrongContentType => {
                let html = "<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Service Unavailable</h1><p>The gateway could not complete the request.</p></body></html>";
                let status = resp.status();
                let mut headers = resp.headers().clone();
                headers.insert("content-type", HeaderValue::from_static("text/html; charset=utf-8"));
                let mut r = Response::new(http_body_util::Full::new(Bytes::from_static(html.as_bytes())));
                *r.status_mut() = status;
                *r.headers_mut() = headers;
                resp = r;
                None
            }
            _ => None,
        };
        if let Some(p) = plan {
            resp.extensions_mut().insert(p);
        }
        resp
    }
}

/// Why a response was not delivered (hyper closes the connection on it).
#[derive(Debug)]
pub struct InjectedReset;

impl std::fmt::Display for InjectedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("injected connection reset")
    }
}

impl std::error::Error for InjectedReset {}

/// The body type the server writes: the route's bytes, possibly cut, trickled or failing.
pub struct FaultBody {
    data: Bytes,
    pos: usize,
    end: usize,
    total: usize,
    fail: bool,
    chunk: usize,
    delay: Option<Duration>,
    need_sleep: bool,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = InjectedReset;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, InjectedReset>>> {
        let this = self.get_mut();
        // Pause between chunks (and before a reset, so that what was sent reaches the client).
        if this.need_sleep {
            if let Some(d) = this.delay {
                let s = this.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep(d)));
                if s.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            this.sleep = None;
            this.need_sleep = false;
        }
        if this.pos >= this.end {
            if this.fail {
                this.fail = false;
                return Poll::Ready(Some(Err(InjectedReset)));
            }
            return Poll::Ready(None);
        }
        let next = this.end.min(this.pos.saturating_add(this.chunk));
        let frame = this.data.slice(this.pos..next);
        this.pos = next;
        this.need_sleep = this.delay.is_some();
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.end && !self.fail
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.total as u64)
    }
}

/// Turn a handler's response into what hyper writes: `Err` drops the connection (injected reset).
pub async fn deliver(resp: Resp) -> Result<Response<FaultBody>, InjectedReset> {
    if resp.extensions().get::<ResetMarker>().is_some() {
        return Err(InjectedReset);
    }
    let plan = resp.extensions().get::<BodyPlan>().copied();
    let (parts, body) = resp.into_parts();
    let data = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(never) => match never {},
    };
    let len = data.len();
    let body = match plan {
        None => FaultBody {
            data,
            pos: 0,
            end: len,
            total: len,
            fail: false,
            chunk: usize::MAX,
            delay: None,
            need_sleep: false,
            sleep: None,
        },
        Some(p) => {
            let end = p.cut.unwrap_or(len).min(len);
            // A clean truncation announces the short length; a reset mid-body announces the full one.
            let total = if p.fail { len } else { end };
            FaultBody {
                data,
                pos: 0,
                end,
                total,
                fail: p.fail,
                chunk: p.chunk.max(1),
                delay: p.delay,
                need_sleep: false,
                sleep: None,
            }
        }
    };
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_seeded_and_cover_every_kind() {
        let run = |p, seed| {
            let mut s = FaultState::new(p, seed);
            (0..3000).map(|_| s.draw().map(|x| x.0)).collect::<Vec<_>>()
        };
        assert_eq!(run(FaultProfile::Hostile, 9), run(FaultProfile::Hostile, 9));
        assert_ne!(run(FaultProfile::Hostile, 9), run(FaultProfile::Hostile, 10));
        assert!(run(FaultProfile::None, 9).iter().all(Option::is_none));
        let flaky = run(FaultProfile::Flaky, 9);
        assert!(flaky.iter().flatten().all(|k| FaultKind::EARLY.contains(k)));
        let hostile = run(FaultProfile::Hostile, 9);
        for k in FaultKind::ALL {
            assert!(hostile.contains(&Some(k)), "{k:?}");
        }
        let rate = hostile.iter().filter(|k| k.is_some()).count() as f64 / 3000.0;
        assert!((0.1..0.3).contains(&rate), "{rate}");
        assert_eq!("HOSTILE".parse::<FaultProfile>(), Ok(FaultProfile::Hostile));
        assert!("chaos".parse::<FaultProfile>().is_err());
    }
}
