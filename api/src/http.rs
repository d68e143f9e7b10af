//! The HTTP edge: `POST /graphql` (bearer token required), GraphiQL at `GET /graphql`,
//! `/healthz`, `/readyz`, `/metrics`. Every request gets a correlation id (the client's
//! `x-request-id` when well-formed) carried in a tracing span, event metadata and the
//! response header.

use crate::app::App;
use crate::auth;
use crate::config::ServeArgs;
use crate::error::ApiError;
use crate::graphql::{build_schema, LedgerSchema, RequestId};
use crate::ratelimit::{self, MutationLimiter, Refusal};
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 256 * 1024;
/// Longest a request may run before the server gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The limits and switches of the HTTP edge. `Default` is what `probono serve` uses
/// without flags.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// GraphQL introspection and the GraphiQL page.
    pub introspection: bool,
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// Mutations per second per token (0: no limit) and the burst above that rate.
    pub mutation_rate: f64,
    pub mutation_burst: u32,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            introspection: true,
            body_limit: BODY_LIMIT,
            request_timeout: REQUEST_TIMEOUT,
            mutation_rate: 50.0,
            mutation_burst: 200,
        }
    }
}

impl EdgeConfig {
    pub fn from_args(args: &ServeArgs) -> EdgeConfig {
        EdgeConfig {
            introspection: args.introspection,
            mutation_rate: args.mutation_rate,
            mutation_burst: args.mutation_burst,
            ..EdgeConfig::default()
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: LedgerSchema,
    limiter: Option<Arc<MutationLimiter>>,
    request_timeout: Duration,
}

/// The router with default limits, introspection on or off.
pub fn router(app: Arc<App>, introspection: bool) -> Router {
    router_with(app, EdgeConfig { introspection, ..EdgeConfig::default() })
}

pub fn router_with(app: Arc<App>, config: EdgeConfig) -> Router {
    let schema = build_schema(Some(app.clone()), config.introspection);
    let limiter = MutationLimiter::new(config.mutation_rate, config.mutation_burst).map(Arc::new);
    let state = AppState { app, schema, limiter, request_timeout: config.request_timeout };
    // GraphiQL is an introspection client: it goes with introspection.
    let graphql_route = if config.introspection { get(graphiql).post(graphql) } else { post(graphql) };
    Router::new()
        .route("/graphql", graphql_route)
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
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
    error_body(status, &e.message(), e.code(), json!({}))
}

fn error_body(status: StatusCode, message: &str, code: &str, mut extensions: serde_json::Value) -> Response {
    extensions["code"] = json!(code);
    let body = json!({ "data": null, "errors": [{ "message": message, "extensions": extensions }] });
    (status, Json(body)).into_response()
}

/// A bug must not drop the connection or show its message: the client gets `INTERNAL`.
/// (The panic message is left to the panic hook's output, not repeated here.)
fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, ApiError::Internal("panic".into()))
}

/// Ends a request that runs longer than the configured time. Its effect is unknown to the
/// client (a command may have been saved just before), which the answer says.
async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            error_body(
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request did not finish within {} s; a change it asked for may or may not have been saved",
                    limit.as_secs_f64()
                ),
                "INTERNAL",
                json!({}),
            )
        }
    }
}

async fn graphql(
    State(state): State<AppState>,
    axum::Extension(rid): axum::Extension<RequestId>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // The body is read whole, within the limit, before anything else: async-graphql-axum's
    // own extractor streams the body and would not honour `DefaultBodyLimit`.
    let body = match body {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                ApiError::BadInput("the request body is larger than the server accepts".into()),
            )
        }
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::BadInput("the request body cannot be read".into()),
            )
        }
    };
    let authz = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match auth::authenticate(&state.app.db, authz).await {
        Ok(p) => p,
        Err(e @ ApiError::Unauthenticated) => return error_response(StatusCode::UNAUTHORIZED, e),
        Err(e @ ApiError::Unavailable) => return error_response(StatusCode::SERVICE_UNAVAILABLE, e),
        Err(e) => return error_response(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let req: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                ApiError::BadInput("the request is not a valid GraphQL request".into()),
            )
        }
    };
    if let Some(limiter) = &state.limiter {
        let n = ratelimit::mutation_fields(&req.query, req.operation_name.as_deref());
        if n > 0 {
            if let Err(refusal) = limiter.try_take(principal.token_id, n, Instant::now()) {
                state.app.metrics.inc("probono_rate_limited_total", &[]);
                return rate_limited(refusal);
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

/// HTTP 429 with `CONFLICT`: like a lost concurrent write, nothing was saved and the same
/// request may be sent again — here after `retryAfterSeconds` (ADR 0005).
fn rate_limited(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Wait(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut resp = error_body(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("too many changes from this token; nothing was saved, retry in {secs} s"),
                "CONFLICT",
                json!({ "retryAfterSeconds": secs }),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
            resp
        }
        Refusal::TooLarge { burst } => error_response(
            StatusCode::BAD_REQUEST,
            ApiError::BadInput(format!("a request may carry at most {burst} mutations")),
        ),
    }
}

async fn readyz(State(state): State<AppState>) -> Response {
    let app = &state.app;
    let db_ok = app.db.ping().await.is_ok();
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
    let edge = EdgeConfig::from_args(&args);
    axum::serve(listener, router_with(app.clone(), edge)).with_graceful_shutdown(shutdown_signal()).await?;
    app.projector.stop();
    let _ = tokio::time::timeout(Duration::from_secs(5), projector).await;
    app.projector.resign().await;
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
