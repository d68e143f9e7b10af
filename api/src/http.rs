//! The HTTP edge: `POST /graphql` (bearer token required), GraphiQL at `GET /graphql`,
//! `/healthz`, `/readyz`, `/metrics`. Every request gets a correlation id (the client's
//! `x-request-id` when well-formed) carried in a tracing span, event metadata and the
//! response header.

use crate::app::App;
use crate::auth;
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::graphql::{build_schema, LedgerSchema, RequestId};
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Longest a request may run before the server answers 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `/readyz` waits for the database to answer.
pub const READY_PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: LedgerSchema,
    pub limiter: Option<Arc<RateLimiter>>,
}

/// What the edge enforces beyond the fixed limits.
#[derive(Debug, Clone, Copy)]
pub struct EdgeOptions {
    pub introspection: bool,
    /// Mutations per second per token (sustained), and the burst allowed above it.
    pub mutation_rate: Option<(f64, f64)>,
}

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

/// The router with introspection as given and no mutation rate limit (tests, benchmarks).
pub fn router(app: Arc<App>, introspection: bool) -> Router {
    router_with(app, EdgeOptions { introspection, mutation_rate: None })
}

pub fn router_with(app: Arc<App>, opts: EdgeOptions) -> Router {
    let schema = build_schema(Some(app.clone()), opts.introspection);
    let limiter = opts.mutation_rate.map(|(rate, burst)| Arc::new(RateLimiter::new(rate, burst)));
    let state = AppState { app, schema, limiter };
    Router::new()
        .route("/graphql", get(graphiql).post(graphql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // The GraphQL extractor streams the body past `DefaultBodyLimit`: this limit holds
        // for every route and body, with or without a Content-Length.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(middleware::map_response(typed_edge_errors))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = request_id(req.headers());
    req.extensions_mut().insert(RequestId(id.clone()));
    let path: &'static str = match req.uri().path() {
        "/graphql" => "/graphql",
        "/healthz" => "/healthz",
        "/readyz" => "/readyz",
        "/metrics" => "/metrics",
        _ => "other",
    };
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path);
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status();
    span.in_scope(|| {
        tracing::debug!(status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request done")
    });
    let m = &state.app.metrics;
    m.inc("probono_http_requests_total", &[("path", path), ("status", status.as_str())]);
    m.observe("probono_http_request_duration_seconds", &[("path", path)], started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

/// A GraphQL-shaped error response for failures before execution.
fn error_response(status: StatusCode, e: ApiError) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": e.message(), "extensions": { "code": e.code() } }]
    });
    (status, Json(body)).into_response()
}

/// The size and time limits answer with bare statuses; clients get typed errors there too.
async fn typed_edge_errors(resp: Response) -> Response {
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

async fn graphql(
    State(state): State<AppState>,
    axum::Extension(rid): axum::Extension<RequestId>,
    headers: HeaderMap,
    req: Result<GraphQLRequest, async_graphql_axum::rejection::GraphQLRejection>,
) -> Response {
    let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match auth::authenticate(&state.app, authz).await {
        Ok(p) => p,
        Err(e @ ApiError::Unauthenticated) => return error_response(StatusCode::UNAUTHORIZED, e),
        Err(e @ ApiError::Unavailable) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let req = match req {
        Ok(r) => r.into_inner(),
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::BadInput("the request is not a valid GraphQL request".into()),
            )
        }
    };
    if let Some(limiter) = &state.limiter {
        let is_mutation = async_graphql::parser::parse_query(&req.query).is_ok_and(|doc| {
            doc.operations.iter().any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
        });
        if is_mutation {
            if let Err(wait) = limiter.take(principal.token_id) {
                let secs = wait.ceil().max(1.0) as u64;
                state.app.metrics.inc("probono_rate_limited_total", &[]);
                let body = serde_json::json!({
                    "data": null,
                    "errors": [{
                        "message": format!("too many changes from this token; retry in {secs} s"),
                        "extensions": { "code": "FORBIDDEN", "retryAfterSeconds": secs }
                    }]
                });
                let mut resp = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
                return resp;
            }
        }
    }
    let span = tracing::info_span!("graphql", account_id = %principal.account_id, role = %principal.role);
    let mut resp = state.schema.execute(req.data(principal).data(rid)).instrument(span).await;
    // Errors raised by the GraphQL engine itself (parse, validation, limits) carry no code
    // of ours; they are all the client's input.
    for e in &mut resp.errors {
        let has_code = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if !has_code {
            e.extensions.get_or_insert_with(Default::default).set("code", "BAD_USER_INPUT");
        }
    }
    GraphQLResponse::from(resp).into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let app = &state.app;
    // Bounded well below the pool's acquire time-out, so that a probe answers promptly
    // while the database is down.
    let db_ok = matches!(tokio::time::timeout(READY_PING_TIMEOUT, app.db.ping()).await, Ok(Ok(())));
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

async fn metrics(State(state): State<AppState>) -> Response {
    let app = &state.app;
    for s in app.projector.drain_batch_seconds() {
        app.metrics.observe("probono_projection_batch_seconds", &[], s);
    }
    for s in app.projector.drain_event_lag_seconds() {
        app.metrics.observe("probono_projection_lag_seconds", &[], s);
    }
    let status = app.projector.status();
    let lag = projections::log::count_after(&app.db, status.checkpoint).await.unwrap_or(-1);
    let gauges = [
        ("probono_projection_lag_events", lag as f64),
        ("probono_projection_events_applied", status.events_applied as f64),
        ("probono_projection_leader", if status.leader { 1.0 } else { 0.0 }),
        ("probono_projection_caught_up", if status.caught_up { 1.0 } else { 0.0 }),
    ];
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render(&gauges)).into_response()
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let app = App::open(&args.store).await?;
    let caught = app.projector.catch_up().await?;
    tracing::info!(events = caught, "read models caught up");
    let projector = tokio::spawn(app.projector.clone().run());
    let listener = tokio::net::TcpListener::bind(&args.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql");
    let opts = EdgeOptions {
        introspection: args.introspection,
        mutation_rate: (args.mutation_rate > 0.0).then_some((args.mutation_rate, args.mutation_burst)),
    };
    axum::serve(listener, router_with(app.clone(), opts)).with_graceful_shutdown(shutdown_signal()).await?;
    app.projector.stop();
    let _ = tokio::time::timeout(Duration::from_secs(5), projector).await;
    app.db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

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
