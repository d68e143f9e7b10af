//! Limits at the edge: typed answers for the bare size and time limits, and the per-token
//! mutation rate limit.

use super::BODY_LIMIT;
use crate::error::ApiError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Instant;

/// A token bucket per access token, for mutations only.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: std::sync::Mutex<std::collections::HashMap<uuid::Uuid, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(rate: f64, burst: f64) -> Self {
        RateLimiter { rate: rate.max(0.001), burst: burst.max(1.0), buckets: Default::default() }
    }

    /// Takes one token; `Err(seconds)` to wait when the bucket is empty.
    pub fn take(&self, token: uuid::Uuid) -> Result<(), f64> {
        let Ok(mut b) = self.buckets.lock() else { return Ok(()) };
        let now = Instant::now();
        if b.len() > 100_000 {
            b.clear();
        }
        let (level, at) = b.entry(token).or_insert((self.burst, now));
        *level = (*level + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *level) / self.rate)
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
