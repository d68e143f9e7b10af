//! Limits at the edge: typed answers for the bare size and time limits, and the per-token
//! mutation rate limit.

use super::BODY_LIMIT;
use crate::error::ApiError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the limiter forgets the tokens whose allowance has fully come back.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The per-token mutation limit: `governor`'s keyed GCRA limiter (equivalent to a token
/// bucket of `burst` refilled at `rate` per second), keyed by the access token's id. Only
/// authenticated tokens reach it, and once a minute it drops every token whose state is
/// indistinguishable from a fresh one, so its memory follows the tokens in active use.
pub struct RateLimiter {
    limiter: DefaultKeyedRateLimiter<uuid::Uuid>,
    started: Instant,
    /// Milliseconds after `started` when the next sweep is due.
    next_sweep: AtomicU64,
}

impl RateLimiter {
    /// `rate` mutations per second sustained (at least one per 1000 s), `burst` at once
    /// (at least 1).
    pub fn new(rate: f64, burst: f64) -> Self {
        let period = Duration::try_from_secs_f64(1.0 / rate.max(0.001)).unwrap_or(Duration::ZERO);
        let quota = Quota::with_period(period.max(Duration::from_nanos(1))).expect("a non-zero period");
        let burst = NonZeroU32::new(burst.clamp(1.0, f64::from(u32::MAX)) as u32).unwrap_or(NonZeroU32::MIN);
        RateLimiter {
            limiter: DefaultKeyedRateLimiter::keyed(quota.allow_burst(burst)),
            started: Instant::now(),
            next_sweep: AtomicU64::new(SWEEP_EVERY.as_millis() as u64),
        }
    }

    /// Takes one mutation from `token`'s allowance; `Err(wait)` when it has none left.
    pub fn take(&self, token: uuid::Uuid) -> Result<(), Duration> {
        self.take_n(token, 1)
    }

    /// Takes `n` mutations at once (a request with `n` aliased mutation fields makes `n`
    /// changes); `Err(wait)` when the allowance does not hold them all, and then takes none.
    /// A request larger than the whole burst waits as long as a full refill.
    pub fn take_n(&self, token: uuid::Uuid, n: usize) -> Result<(), Duration> {
        self.sweep_when_due();
        let Some(n) = NonZeroU32::new(u32::try_from(n.max(1)).unwrap_or(u32::MAX)) else { return Ok(()) };
        match self.limiter.check_key_n(&token, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.limiter.clock().now())),
            Err(_insufficient) => Err(Duration::from_secs(60)),
        }
    }

    /// The number of tokens the limiter currently holds state for.
    pub fn tracked_tokens(&self) -> usize {
        self.limiter.len()
    }

    /// Forgets idle tokens, at most once per [`SWEEP_EVERY`] (one caller does it).
    fn sweep_when_due(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        let due = self.next_sweep.load(Ordering::Relaxed);
        if now < due {
            return;
        }
        let next = now + SWEEP_EVERY.as_millis() as u64;
        if self.next_sweep.compare_exchange(due, next, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}

/// A GraphQL-shaped error response for failures before execution.
pub(super) fn error_response(status: StatusCode, e: ApiError) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": e.message(), "extensions": { "code": e.code() } }]
    });
    (status, Json(body)).into_response()
}

/// The size and time limits answer with bare statuses; clients get typed errors there too.
pub(super) async fn typed_edge_errors(resp: Response) -> Response {
    let (message, code) = match resp.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            (format!("the request body is larger than {BODY_LIMIT} bytes"), "BAD_USER_INPUT")
        }
        StatusCode::REQUEST_TIMEOUT => ("the request took too long; retry shortly".to_string(), "INTERNAL"),
        _ => return resp,
    };
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let body = serde_json::json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": code } }] });
    (resp.status(), Json(body)).into_response()
}

/// A handler that panicked: the client gets a GraphQL-shaped `INTERNAL` error (no detail),
/// the log says it happened, and the server goes on.
pub(super) fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, ApiError::Internal("panic".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    async fn answer(status: StatusCode, content_type: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut resp = Response::new(axum::body::Body::from("raw"));
        *resp.status_mut() = status;
        if let Some(ct) = content_type {
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        }
        let resp = typed_edge_errors(resp).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    #[test]
    fn a_token_gets_its_burst_then_waits_for_the_rate() {
        let limiter = RateLimiter::new(0.5, 3.0);
        let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        for _ in 0..3 {
            assert!(limiter.take(a).is_ok());
        }
        let wait = limiter.take(a).expect_err("the burst is spent");
        assert!(wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2), "{wait:?}");
        // Another token has its own allowance.
        assert!(limiter.take(b).is_ok());
        assert_eq!(limiter.tracked_tokens(), 2);
    }

    #[test]
    fn idle_tokens_are_forgotten() {
        // A fast rate: a token's allowance is whole again within a millisecond.
        let limiter = RateLimiter::new(1_000_000.0, 1.0);
        for _ in 0..100 {
            limiter.take(uuid::Uuid::new_v4()).unwrap();
        }
        assert_eq!(limiter.tracked_tokens(), 100);
        std::thread::sleep(Duration::from_millis(5));
        limiter.next_sweep.store(0, Ordering::Relaxed);
        let last = uuid::Uuid::new_v4();
        limiter.take(last).unwrap();
        assert!(limiter.tracked_tokens() <= 1, "{} tokens kept", limiter.tracked_tokens());
    }

    #[test]
    fn odd_settings_still_make_a_limiter() {
        for (rate, burst) in [(0.0, 0.0), (f64::NAN, f64::NAN), (f64::INFINITY, 1e12), (1e-9, -5.0)] {
            let limiter = RateLimiter::new(rate, burst);
            assert!(limiter.take(uuid::Uuid::new_v4()).is_ok(), "rate {rate}, burst {burst}");
        }
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_in_graphql_shape() {
        use tower::ServiceExt;
        let router = axum::Router::new()
            .route("/p", axum::routing::get(|| async { panic!("secret detail") as &'static str }))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response));
        let req = axum::http::Request::builder().uri("/p").body(axum::body::Body::empty()).unwrap();
        let resp = router.oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
        assert_eq!(body["errors"][0]["message"], "internal error");
        assert!(!String::from_utf8_lossy(&bytes).contains("secret"));
    }

    #[tokio::test]
    async fn bare_limit_answers_become_typed_errors() {
        let (status, body) = answer(StatusCode::PAYLOAD_TOO_LARGE, Some("text/plain")).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        let (status, body) = answer(StatusCode::REQUEST_TIMEOUT, None).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(body["errors"][0]["extensions"]["code"], "INTERNAL");
        // Anything else, and answers that are already typed, pass through untouched.
        assert_eq!(answer(StatusCode::OK, Some("text/plain")).await.1, serde_json::Value::Null);
        assert_eq!(answer(StatusCode::PAYLOAD_TOO_LARGE, Some("application/json")).await.1, serde_json::Value::Null);
    }
}
