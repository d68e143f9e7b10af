//! Signing in and out: `/app/sign-in` (fields `username`, `password`, and `otp` when a
//! second factor is asked for), sign-out, sign-out of every session, and invitation links.

use super::forms::{Errors, Field, Form};
use super::layout::{self, page, page_status};
use super::session::{self, Ctx, PRE_COOKIE, SESSION_COOKIE};
use crate::app::sign_in::{PasswordStep, SignInOutcome};
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::values::Role;
use maud::html;

/// `/app`: where each role starts.
pub async fn home(ctx: Ctx) -> Response {
    let Ok(s) = ctx.signed_in() else { return Redirect::to("/app/sign-in").into_response() };
    let to = match s.principal.role {
        Role::IntakeWorker => "/app/cases",
        Role::Coordinator => "/app/coordinator",
        Role::Lawyer => "/app/assignments",
        Role::Auditor => "/app/dashboard",
        Role::Admin => "/app/admin",
    };
    Redirect::to(to).into_response()
}

fn pre_token(ctx: &Ctx) -> String {
    session::cookie(&ctx.headers, PRE_COOKIE)
        .filter(|c| c.len() >= 20 && c.len() < 128)
        .map(str::to_string)
        .unwrap_or_else(|| crate::access::tokens::new_token().0)
}

/// The sign-in form, or the second-factor form when the password was right.
pub async fn sign_in_page(ctx: Ctx) -> Response {
    render_sign_in(&ctx, &Form::default(), &Errors::default(), StatusCode::OK).await
}

async fn render_sign_in(ctx: &Ctx, form: &Form, errors: &Errors, status: StatusCode) -> Response {
    let tr = ctx.tr;
    if ctx.signed_in().is_ok() {
        return Redirect::to("/app").into_response();
    }
    let pending = ctx.session.as_ref().filter(|s| s.pending);
    let pre = pre_token(ctx);
    let body = if let (Some(s), Some(cookie)) = (pending, &ctx.cookie) {
        let offer = match ctx.state.app.offer_totp(cookie).await {
            Ok(o) => o,
            Err(e) => return layout::error_page(ctx, &e),
        };
        html! {
            (errors.summary(tr))
            form.card method="post" action="/app/sign-in" novalidate {
                input type="hidden" name="csrf" value=(s.csrf_token);
                @if let Some(secret) = &offer {
                    h2 { (tr.t("totp-enrol-title")) }
                    p { (tr.t("totp-enrol-explain")) }
                    p { (tr.t("totp-enrol-secret")) }
                    p.code id="totp-secret" { (secret) }
                    p.hint { "otpauth://totp/ProBonoLedger:" (s.username) "?secret=" (secret) "&issuer=ProBonoLedger" }
                } @else {
                    p { (tr.t("totp-explain")) }
                }
                (Field { name: "otp", label: tr.t("field-otp"), hint: Some(tr.t("hint-otp")), value: "", errors }
                    .input("text", true))
                button type="submit" { (tr.t("sign-in")) }
            }
        }
    } else {
        html! {
            (errors.summary(tr))
            form.card method="post" action="/app/sign-in" novalidate {
                input type="hidden" name="csrf" value=(pre);
                (Field { name: "username", label: tr.t("field-username"), hint: None, value: form.raw("username"), errors }
                    .input("text", true))
                (Field { name: "password", label: tr.t("field-password"), hint: None, value: "", errors }
                    .input("password", true))
                button type="submit" { (tr.t("sign-in")) }
            }
            p.hint { (tr.t("sign-in-help")) }
        }
    };
    let mut resp = page_status(ctx, status, &tr.t("sign-in-title"), body);
    resp.headers_mut().append(header::SET_COOKIE, session::set_cookie(PRE_COOKIE, &pre, None));
    resp
}

fn with_session_cookie(mut resp: Response, cookie: &str) -> Response {
    resp.headers_mut().append(header::SET_COOKIE, session::set_cookie(SESSION_COOKIE, cookie, None));
    resp
}

pub async fn sign_in(ctx: Ctx, form: Form) -> Response {
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let client = ctx.client.as_deref();
    let mut errors = Errors::default();
    // The second step: a pending session and its code.
    if let (Some(s), Some(cookie)) = (ctx.session.as_ref().filter(|s| s.pending), &ctx.cookie) {
        if form.get("username").is_none() {
            if !form.get("csrf").is_some_and(|t| session::same_secret(t, &s.csrf_token)) {
                return layout::refused(tr.lang(), StatusCode::FORBIDDEN, "err-csrf");
            }
            if !ctx.state.throttle.attempt(&s.username, client) {
                let _ =
                    app.log_sign_in(&s.username, Some(s.principal.account_id), SignInOutcome::Throttled, client).await;
                errors.add("otp", tr.t("err-throttled"));
                return render_sign_in(&ctx, &form, &errors, StatusCode::TOO_MANY_REQUESTS).await;
            }
            return match app.confirm_otp(cookie, form.get("otp").unwrap_or(""), client).await {
                Ok(true) => Redirect::to("/app").into_response(),
                Ok(false) => {
                    errors.add("otp", tr.t("err-otp"));
                    render_sign_in(&ctx, &form, &errors, StatusCode::UNAUTHORIZED).await
                }
                Err(e) => layout::error_page(&ctx, &e),
            };
        }
    }
    // Login CSRF: the form's token must be the one this browser was given with the form.
    let pre = session::cookie(&ctx.headers, PRE_COOKIE);
    if !matches!((pre, form.get("csrf")), (Some(c), Some(t)) if session::same_secret(c, t)) {
        return layout::refused(tr.lang(), StatusCode::FORBIDDEN, "err-csrf");
    }
    let username = errors.required(tr, &form, "username").unwrap_or("").to_string();
    let password = form.raw("password").to_string();
    if password.is_empty() {
        errors.add("password", tr.t("err-required"));
    }
    if !errors.is_empty() {
        return render_sign_in(&ctx, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    if !ctx.state.throttle.attempt(&username, client) {
        let _ = app.log_sign_in(&username, None, SignInOutcome::Throttled, client).await;
        errors.add("username", tr.t("err-throttled"));
        return render_sign_in(&ctx, &form, &errors, StatusCode::TOO_MANY_REQUESTS).await;
    }
    match app.sign_in_password(&username, &password, ctx.state.opts.require_totp, client).await {
        Ok(PasswordStep::Done(s)) => with_session_cookie(Redirect::to("/app").into_response(), &s.cookie),
        Ok(PasswordStep::NeedOtp(s)) => {
            // A script may send the code with the password.
            if let Some(code) = form.get("otp") {
                if let Ok(true) = app.confirm_otp(&s.cookie, code, client).await {
                    return with_session_cookie(Redirect::to("/app").into_response(), &s.cookie);
                }
            }
            with_session_cookie(Redirect::to("/app/sign-in").into_response(), &s.cookie)
        }
        Ok(PasswordStep::Refused) => {
            errors.add("username", tr.t("err-credentials"));
            render_sign_in(&ctx, &form, &errors, StatusCode::UNAUTHORIZED).await
        }
        Err(e) => layout::error_page(&ctx, &e),
    }
}

async fn end(ctx: Ctx, form: Form, everywhere: bool) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    if let Some(c) = &ctx.cookie {
        if let Err(e) = ctx.state.app.sign_out(c, everywhere, ctx.client.as_deref()).await {
            return layout::error_page(&ctx, &e);
        }
    }
    let mut resp = Redirect::to("/app/sign-in").into_response();
    resp.headers_mut().append(header::SET_COOKIE, session::set_cookie(SESSION_COOKIE, "", Some(0)));
    resp
}

pub async fn sign_out(ctx: Ctx, form: Form) -> Response {
    end(ctx, form, false).await
}

pub async fn sign_out_everywhere(ctx: Ctx, form: Form) -> Response {
    end(ctx, form, true).await
}

/// `/app/invitations/{secret}`: choose a username and password, once.
pub async fn invitation_page(ctx: Ctx, Path(secret): Path<String>) -> Response {
    render_invitation(&ctx, &secret, &Form::default(), &Errors::default()).await
}

async fn render_invitation(ctx: &Ctx, secret: &str, form: &Form, errors: &Errors) -> Response {
    let tr = ctx.tr;
    match ctx.state.app.invitation_open(secret).await {
        Ok(true) => {}
        Ok(false) => return layout::not_found(ctx),
        Err(e) => return layout::error_page(ctx, &e),
    }
    let pre = pre_token(ctx);
    let body = html! {
        (errors.summary(tr))
        form.card method="post" action={ "/app/invitations/" (secret) } novalidate {
            input type="hidden" name="csrf" value=(pre);
            (Field { name: "username", label: tr.t("field-username"), hint: Some(tr.t("hint-username")), value: form.raw("username"), errors }
                .input("text", true))
            (Field { name: "password", label: tr.t("field-new-password"), hint: Some(tr.t("hint-password")), value: "", errors }
                .input("password", true))
            button type="submit" { (tr.t("invitation-accept")) }
        }
    };
    let mut resp = page(ctx, &tr.t("invitation-title"), body);
    resp.headers_mut().append(header::SET_COOKIE, session::set_cookie(PRE_COOKIE, &pre, None));
    resp
}

pub async fn accept_invitation(ctx: Ctx, Path(secret): Path<String>, form: Form) -> Response {
    let tr = ctx.tr;
    let pre = session::cookie(&ctx.headers, PRE_COOKIE);
    if !matches!((pre, form.get("csrf")), (Some(c), Some(t)) if session::same_secret(c, t)) {
        return layout::refused(tr.lang(), StatusCode::FORBIDDEN, "err-csrf");
    }
    let mut errors = Errors::default();
    let username = errors.required(tr, &form, "username").unwrap_or("").to_string();
    let password = form.raw("password").to_string();
    if !errors.is_empty() {
        return render_invitation(&ctx, &secret, &form, &errors).await;
    }
    match ctx.state.app.accept_invitation(&secret, &username, &password).await {
        Ok(_) => Redirect::to("/app/sign-in").into_response(),
        Err(e) => {
            let field = layout::field_of(&e, &["username", "password"]).unwrap_or_else(|| "password".into());
            errors.add(&field, layout::explain(tr, &e));
            render_invitation(&ctx, &secret, &form, &errors).await
        }
    }
}
