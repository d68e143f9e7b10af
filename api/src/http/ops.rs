//! Operations endpoints: readiness and Prometheus metrics.

use super::limits::error_response;
use super::AppState;
use crate::access::policy::{self, Op};
use crate::app::App;
use crate::error::ApiError;
use crate::metrics::{ProjectionState, CONTENT_TYPE};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;

pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    let app = &state.app;
    // Bounded well below the pool's acquire time-out, so that a probe answers promptly
    // while the database is down.
    let db_ok = matches!(tokio::time::timeout(super::READY_PING_TIMEOUT, app.db.ping()).await, Ok(Ok(())));
    let status = app.projector.status();
    let ready = db_ok && status.caught_up && status.last_error.is_none();
    let body = serde_json::json!({
        "ready": ready,
        "database": db_ok,
        "projector": { "caughtUp": status.caught_up, "leader": status.leader, "checkpoint": status.checkpoint.to_string(), "failing": status.last_error.is_some() },
    });
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

/// `GET /metrics` on the main address: only for an ADMIN's or AUDITOR's bearer token (the
/// counts of requests and errors by route tell an outsider how the service is used).
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match state.app.authenticate(authz).await {
        Ok(p) => p,
        Err(e @ ApiError::Unauthenticated) => {
            let mut resp = error_response(StatusCode::UNAUTHORIZED, e);
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"probono\""));
            return resp;
        }
        Err(e) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
    };
    if let Err(e) = policy::check(&principal, Op::ReadMetrics, None) {
        let e = match e {
            ApiError::Forbidden(_) => ApiError::Forbidden(
                "metrics are for an ADMIN's or AUDITOR's token, or for the --metrics-bind address".into(),
            ),
            other => other,
        };
        return error_response(StatusCode::FORBIDDEN, e);
    }
    render_metrics(&state.app).await
}

/// `GET /metrics` on the `--metrics-bind` address, which only the operator's scraper reaches.
pub(super) async fn open_metrics(State(app): State<Arc<App>>) -> Response {
    render_metrics(&app).await
}

async fn render_metrics(app: &App) -> Response {
    for s in app.projector.drain_batch_seconds() {
        app.metrics.projection_batch(s);
    }
    for s in app.projector.drain_event_lag_seconds() {
        app.metrics.projection_lag(s);
    }
    let status = app.projector.status();
    let projection = ProjectionState {
        lag_events: projections::log::count_after(&app.db, status.checkpoint).await.unwrap_or(-1),
        events_applied: status.events_applied,
        leader: status.leader,
        caught_up: status.caught_up,
    };
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], app.metrics.render(&projection)).into_response()
}
