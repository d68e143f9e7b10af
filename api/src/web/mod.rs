//! The web app under `/app`: server-rendered pages (maud, checked at compile time) for the
//! people who do the case work. An edge like GraphQL: every handler translates a form into a
//! use case of [`crate::app`] and the answer into a page, so the policy, the identity-read log,
//! read-your-writes and the audit metadata are the same as GraphQL's (ADR 0008).
//!
//! - [`session`]: the request's context — language, session cookie, CSRF and Origin checks,
//!   sign-in throttling, idempotency keys of forms;
//! - [`i18n`]: Fluent catalogues (ru, ky, en);
//! - [`layout`], [`forms`]: the page shell, form fields, error summaries;
//! - [`auth`], [`cases`], [`intake`], [`network`], [`legal`], [`admin`], [`administration`],
//!   [`oversight`], [`dashboard`], [`proceedings`], [`profile`]: the screens; [`charts`]: SVG charts drawn on the server.
//!
//! Every asset is compiled into the binary; no page loads anything from another origin, and
//! none needs JavaScript.

mod admin;
mod administration;
mod auth;
mod cases;
mod catalogue;
mod charts;
mod dashboard;
mod forms;
pub mod i18n;
mod intake;
mod layout;
mod legal;
mod network;
mod oversight;
mod proceedings;
mod profile;
mod session;

use crate::app::App;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

pub use session::Throttle;

/// What an installation chooses about the web app.
#[derive(Debug, Clone, Copy)]
pub struct WebOptions {
    /// Ask every role that can read identity for a TOTP code at sign-in.
    pub require_totp: bool,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions { require_totp: true }
    }
}

#[derive(Clone)]
pub struct WebState {
    pub app: Arc<App>,
    pub opts: WebOptions,
    pub throttle: Arc<Throttle>,
}

/// The stylesheet, icon, and the Content-Security-Policy they allow.
const CSS: &str = include_str!("assets/app.css");
const ICON: &str = include_str!("assets/icon.svg");
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The web app's routes, with its own state; `http` mounts them beside `/graphql`.
pub fn router(app: Arc<App>, opts: WebOptions) -> Router {
    let state = WebState { app, opts, throttle: Arc::new(Throttle::default()) };
    Router::new()
        .route("/", get(|| async { Redirect::to("/app") }))
        .route("/app", get(auth::home))
        .route("/app/assets/app.css", get(css))
        .route("/app/assets/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .route("/app/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route("/app/sign-out", post(auth::sign_out))
        .route("/app/sign-out-everywhere", post(auth::sign_out_everywhere))
        .route("/app/invitations/{secret}", get(auth::invitation_page).post(auth::accept_invitation))
        .route("/app/cases", get(cases::list))
        .route("/app/intake/new", get(intake::form).post(intake::submit))
        .route("/app/cases/{case_id}", get(cases::show))
        .route("/app/cases/{case_id}/identity", post(cases::show_identity))
        .route("/app/cases/{case_id}/consent", post(cases::consent))
        .route("/app/cases/{case_id}/referral", post(cases::referral))
        .route("/app/cases/{case_id}/assign", post(network::assign))
        .route("/app/cases/{case_id}/profile", post(profile::record_profile))
        .route("/app/cases/{case_id}/guardian-consent", post(profile::record_guardian_consent))
        .route("/app/cases/{case_id}/transfer", post(proceedings::transfer_post))
        .route("/app/cases/{case_id}/erasure", get(administration::request_form).post(administration::request))
        .route("/app/cases/{case_id}/{action}", post(legal::act))
        .route("/app/coordinator", get(network::coordinator))
        .route("/app/lawyers", get(network::lawyers).post(network::register_lawyer))
        .route("/app/lawyers/{lawyer_id}/training", post(network::training))
        .route("/app/assignments", get(legal::assignments))
        .route("/app/admin", get(admin::show).post(admin::invite))
        .route("/app/approvals", get(admin::approvals))
        .route("/app/approvals/{account_id}", axum::routing::post(admin::approve))
        .route("/app/dashboard", get(dashboard::show))
        .route("/app/dashboard/cases", get(dashboard::cases))
        .route("/app/dashboard/export.csv", get(dashboard::export_csv))
        .route("/app/dashboard/figures", post(dashboard::record_figure))
        .route("/app/admin/organizations", post(administration::add_organization))
        .route("/app/admin/offenses", get(catalogue::list).post(catalogue::add))
        .route("/app/admin/offenses/{code}", get(catalogue::show))
        .route("/app/admin/offenses/{code}/retire", post(catalogue::retire))
        .route("/app/admin/accounts/{account_id}", get(administration::account))
        .route("/app/admin/accounts/{account_id}/revoke", post(administration::revoke))
        .route("/app/admin/accounts/{account_id}/deactivate", post(administration::deactivate))
        .route("/app/admin/erasures/{request_id}", get(administration::erasure))
        .route("/app/admin/erasures/{request_id}/approve", post(administration::approve_erasure))
        .route("/app/admin/erasures/{request_id}/reject", post(administration::reject_erasure))
        .route("/app/audit", get(oversight::index))
        .route("/app/audit/case", get(oversight::open_case))
        .route("/app/audit/cases/{case_id}", get(oversight::case_trail))
        .route("/app/audit/cases/{case_id}/checkpoint", post(oversight::check_checkpoint))
        .route("/app/audit/accounts/{account_id}", get(oversight::account))
        .fallback(not_found)
        // A defect answers with a page in the user's language, not a trace: the payload is
        // never shown (it could hold anything).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_page))
        .layer(middleware::from_fn(time_limit))
        .layer(middleware::from_fn(headers))
        .layer(middleware::from_fn(same_origin))
        .with_state(state)
}

fn panic_page(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a web handler panicked");
    layout::refused(i18n::Lang::Ru, StatusCode::INTERNAL_SERVER_ERROR, "err-internal")
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    r
}

async fn not_found(ctx: session::Ctx) -> Response {
    layout::not_found(&ctx)
}

/// Security headers on every answer of the web app, and the language cookie: a strict CSP (nothing from another
/// origin, no inline script), no framing, no referrer; pages are never stored by a cache or
/// the browser (any of them may show an identity), assets may be.
async fn headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/app/assets/") || req.uri().path() == "/favicon.ico";
    let chosen = session::query_lang(req.uri().query());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A language chosen with `?lang=` is remembered, whatever the answer (a redirect too).
    if let Some(l) = chosen {
        h.append(header::SET_COOKIE, session::set_cookie(session::LANG_COOKIE, l.code(), Some(365 * 24 * 3600)));
    }
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Refuses a state-changing request that does not come from a page of this server: its
/// `Origin` must name this host (or, without one, `Sec-Fetch-Site` must say same-origin).
/// The CSRF token of each form is checked on top of this, in [`session`].
/// A page that is not ready a second before the server's request limit is stopped with a page
/// in the user's language (the edge's own limit would answer in GraphQL's JSON).
async fn time_limit(req: Request, next: Next) -> Response {
    limited(req, next, crate::config::REQUEST_TIMEOUT.saturating_sub(std::time::Duration::from_secs(1))).await
}

async fn limited(req: Request, next: Next, limit: std::time::Duration) -> Response {
    let lang = session::lang_of(req.headers(), req.uri().query());
    let path = req.uri().path().to_string();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(path, "a web page took longer than its limit");
            layout::refused(lang, StatusCode::SERVICE_UNAVAILABLE, "err-timed-out")
        }
    }
}

async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    if session::same_origin(req.headers()) {
        return next.run(req).await;
    }
    let lang = session::lang_of(req.headers(), req.uri().query());
    layout::refused(lang, StatusCode::FORBIDDEN, "err-cross-origin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_with_a_page_not_a_trace() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("secret detail");
                    }
                    "unreachable"
                }),
            )
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_page));
        let resp = tower::ServiceExt::oneshot(app, Request::get("/boom").body(axum::body::Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(resp.into_body(), 64 * 1024).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("<html lang=\"ru\">") && text.contains("ничего не сохранено"), "{text}");
        assert!(!text.contains("secret detail"));
    }

    #[tokio::test]
    async fn a_page_past_its_time_limit_answers_with_a_page_in_the_users_language() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/quick", get(|| async { "on time" }))
            .layer(middleware::from_fn(|r: Request, n: Next| limited(r, n, std::time::Duration::from_millis(50))));
        let ask =
            |path: &str| Request::get(path).header("accept-language", "ky").body(axum::body::Body::empty()).unwrap();
        let resp = tower::ServiceExt::oneshot(app.clone(), ask("/slow")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(resp.into_body(), 64 * 1024).await.unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("<html lang=\"ky\">") && text.contains("Сервер жоопту"), "{text}");
        let resp = tower::ServiceExt::oneshot(app, ask("/quick")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
