//! Operations endpoints: readiness and Prometheus metrics.

use super::AppState;
use crate::metrics::{ProjectionState, CONTENT_TYPE};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

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

pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    let app = &state.app;
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
