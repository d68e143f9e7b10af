//! The HTTP edge: the web app (`crate::web`, under `/app`), `POST /graphql` (bearer token required; [`graphql`]), the GraphQL explorer
//! at `GET /graphql` when introspection is on ([`explorer`], served from the binary), and `/healthz`, `/readyz`, `/metrics`
//! ([`ops`]). Every request gets a correlation id (the client's `x-request-id` when
//! well-formed) carried in a tracing span, event metadata and the response header.
//! [`limits`] turns bare limit answers into typed errors and holds the rate limiter.

mod explorer;
mod graphql;
pub mod limits;
mod ops;
pub mod precheck;

use crate::app::App;
use crate::config::ServeArgs;
use crate::graphql::{build_introspection_schema, build_schema, build_validated_query_schema, LedgerSchema};
use crate::metrics::Route;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use limits::RateLimiter;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

pub use crate::web::WebOptions;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 256 * 1024;
/// The longest a request may take (`crate::config::REQUEST_TIMEOUT`).
pub const REQUEST_TIMEOUT: Duration = crate::config::REQUEST_TIMEOUT;
/// Longest `/readyz` waits for the database to answer.
pub const READY_PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: LedgerSchema,
    /// For queries whose exact text already passed validation (`precheck::Documents`).
    pub validated_query_schema: LedgerSchema,
    /// For requests that only ask about the schema, when introspection is on.
    pub introspection_schema: Option<LedgerSchema>,
    pub limiter: Option<Arc<RateLimiter>>,
    /// GraphQL documents already parsed and checked (`precheck::Documents`).
    pub documents: Arc<precheck::Documents>,
}

/// The request's correlation id (the server's), also written into event metadata and logs,
/// and the id the client sent, if any.
#[derive(Debug, Clone)]
pub(crate) struct RequestId {
    pub id: String,
    pub client: Option<String>,
}

/// What the edge enforces beyond the fixed limits.
#[derive(Debug, Clone, Copy)]
pub struct EdgeOptions {
    pub introspection: bool,
    /// Mutations per second per token (sustained), and the burst allowed above it.
    pub mutation_rate: Option<(f64, f64)>,
}

/// The router with introspection as given and no mutation rate limit (tests, benchmarks).
pub fn router(app: Arc<App>, introspection: bool) -> Router {
    router_with(app, EdgeOptions { introspection, mutation_rate: None })
}

pub fn router_with(app: Arc<App>, opts: EdgeOptions) -> Router {
    router_full(app, opts, WebOptions::default())
}

/// The whole server: GraphQL, the operations endpoints and the web app (`crate::web`).
pub fn router_full(app: Arc<App>, opts: EdgeOptions, web_opts: WebOptions) -> Router {
    let web = crate::web::router(app.clone(), web_opts);
    let schema = build_schema(Some(app.clone()), opts.introspection);
    let limiter = opts.mutation_rate.map(|(rate, burst)| Arc::new(RateLimiter::new(rate, burst)));
    let introspection_schema = opts.introspection.then(|| build_introspection_schema(Some(app.clone())));
    let validated_query_schema = build_validated_query_schema(Some(app.clone()), opts.introspection);
    let state =
        AppState { app, schema, validated_query_schema, introspection_schema, limiter, documents: Default::default() };
    // Without introspection there is no explorer either: it could show nothing.
    let graphql_route = if opts.introspection {
        get(explorer::page).post(graphql::graphql)
    } else {
        axum::routing::post(graphql::graphql)
    };
    let mut router = Router::new().route("/graphql", graphql_route);
    if opts.introspection {
        router = router
            .route("/graphql/explorer.js", get(explorer::script))
            .route("/graphql/explorer.css", get(explorer::style));
    }
    router
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(state.clone())
        .merge(web)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // The GraphQL extractor streams the body past `DefaultBodyLimit`: this limit holds
        // for every route and body, with or without a Content-Length.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(middleware::map_response(limits::typed_edge_errors))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(limits::panic_response))
        .layer(middleware::from_fn_with_state(state, observe))
}

/// The client's `x-request-id`, when it is a plain token (letters, digits, `-`, `_`, at
/// most 64): kept and logged as the client's, never as the server's correlation id.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
}

async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // The server names every request itself: a client cannot choose the id that event
    // metadata, the identity-read log and the logs file its request under.
    let id = uuid::Uuid::new_v4().to_string();
    let client_id = client_request_id(req.headers());
    req.extensions_mut().insert(RequestId { id: id.clone(), client: client_id.clone() });
    let route = match req.uri().path() {
        "/graphql" => Route::Graphql,
        "/healthz" => Route::Healthz,
        "/readyz" => Route::Readyz,
        "/metrics" => Route::Metrics,
        _ => Route::Other,
    };
    let path = route.as_str();
    let span =
        tracing::info_span!("request", request_id = %id, client_request_id = ?client_id, method = %req.method(), path);
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let status = resp.status();
    span.in_scope(|| {
        tracing::debug!(status = status.as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "request done")
    });
    state.app.metrics.http_request(route, status.as_u16(), started.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    if let Some(v) = client_id.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert("x-client-request-id", v);
    }
    resp
}

/// Why the server stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Startup(#[from] crate::app::StartupError),
    #[error("catching up the read models failed: {0}")]
    Projection(#[from] projections::Error),
    #[error("cannot listen on {address}: {error}{hint}")]
    Bind { address: String, error: std::io::Error, hint: &'static str },
    #[error("the server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The router of the `--metrics-bind` address: `/metrics` without a token, nothing else.
pub fn metrics_router(app: Arc<App>) -> Router {
    Router::new().route("/metrics", get(ops::open_metrics)).with_state(app)
}

async fn bind(address: &str) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(address).await.map_err(|error| ServeError::Bind {
        address: address.to_string(),
        hint: if error.kind() == std::io::ErrorKind::AddrInUse {
            " (another program, perhaps another probono, uses it: stop it or choose --bind / PROBONO_BIND)"
        } else {
            ""
        },
        error,
    })
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let app = App::open(&args.store).await?;
    let caught = app.projector.catch_up().await?;
    tracing::info!(events = caught, "read models caught up");
    let projector = app.projector.clone().spawn_on_own_thread()?;
    // The statistics index loads in the background while the server answers; a statistics
    // request that comes before it is ready waits for that one load.
    let warming = app.clone();
    tokio::spawn(async move { warming.warm_statistics().await });
    let listener = bind(&args.bind).await?;
    tracing::info!(address = %listener.local_addr()?, "serving the web app at / and GraphQL at /graphql");
    let metrics_server = match &args.metrics_bind {
        Some(address) => {
            let listener = bind(address).await?;
            tracing::info!(address = %listener.local_addr()?, "serving /metrics without a token");
            let router = metrics_router(app.clone());
            Some(tokio::spawn(
                async move { axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await },
            ))
        }
        None => None,
    };
    let opts = EdgeOptions {
        introspection: args.introspection,
        mutation_rate: (args.mutation_rate > 0.0).then_some((args.mutation_rate, args.mutation_burst)),
    };
    let web = WebOptions { require_totp: args.web_require_totp };
    if !web.require_totp {
        tracing::warn!(
            "the web app signs in without a second factor (--web-require-totp false): for a trial installation only"
        );
    }
    let service = router_full(app.clone(), opts, web).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown_signal()).await?;
    if let Some(m) = metrics_server {
        m.abort();
    }
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
