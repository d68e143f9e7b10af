//! The ADMIN's screens beside the invitation form of `/app/admin`: accounts (deactivate,
//! revoke every token and session), erasure requests decided by a second person,
//! organisations, and the master key's status; and the form where those who work on a case
//! ask for its client's data to be erased.

use super::cases::{parse_case_id, reference};
use super::forms::{self, hidden, Errors, Field, Form};
use super::layout::{self, page_status};
use super::session::Ctx;
use crate::access::Op;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use domain::values::OrganizationKind;
use maud::{html, Markup};
use projections::store::ErasureStatus;
use std::collections::HashMap;
use uuid::Uuid;

fn when(tr: super::i18n::Tr, t: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} {} UTC", tr.date(t.date_naive()), t.format("%H:%M"))
}

/// The sections of `/app/admin` below the invitation form.
pub async fn sections(ctx: &Ctx, org_form: &Form, org_errors: &Errors) -> Markup {
    let Ok(caller) = ctx.caller() else { return html! {} };
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let accounts = app.accounts(&caller).await.unwrap_or_default();
    let names: HashMap<Uuid, String> = accounts.iter().map(|a| (a.id, a.name.clone())).collect();
    let pending = app.erasure_requests(&caller, Some(ErasureStatus::Pending), None).await.unwrap_or_default();
    let organizations = app.organizations(&caller).await.unwrap_or_default();
    let keys = app.key_status(&caller).await.ok();
    let kinds: Vec<&str> = OrganizationKind::ALL.iter().map(|k| k.as_str()).collect();
    html! {
        section.card aria-labelledby="erasures-h" {
            h2 #erasures-h { (tr.t("erasures-title")) }
            p { (tr.t("erasures-intro")) }
            @if pending.is_empty() { p { (tr.t("erasures-none")) } } @else {
                div.table-wrap { table {
                    thead { tr {
                        th scope="col" { (tr.t("col-reference")) }
                        th scope="col" { (tr.t("col-requested-by")) }
                        th scope="col" { (tr.t("col-when")) }
                        th scope="col" { span.skip { (tr.t("erasure-decide")) } }
                    } }
                    tbody { @for r in &pending { tr {
                        td { (reference(r.case_id)) }
                        td { (names.get(&r.requested_by).cloned().unwrap_or_default()) }
                        td { (when(tr, r.requested_at)) }
                        td { a href={ "/app/admin/erasures/" (r.request_id) } { (tr.t("erasure-decide")) } }
                    } } }
                } }
            }
        }
        section.card aria-labelledby="accounts-h" {
            h2 #accounts-h { (tr.t("accounts-title")) }
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (tr.t("field-account-name")) }
                    th scope="col" { (tr.t("field-role")) }
                    th scope="col" { (tr.t("col-status")) }
                    th scope="col" { (tr.t("field-created-on")) }
                } }
                tbody { @for a in &accounts { tr {
                    td { a href={ "/app/admin/accounts/" (a.id) } { (a.name) } }
                    td { (tr.label("Role", a.role.as_str())) }
                    td {
                        @if a.disabled { (tr.t("account-deactivated")) }
                        @else if !a.approved { (tr.t("account-awaiting-approval")) }
                        @else { (tr.t("account-active")) }
                    }
                    td { (tr.date(a.created_at.date_naive())) }
                } } }
            } }
        }
        section.card aria-labelledby="catalogue-h" {
            h2 #catalogue-h { (tr.t("catalogue-title")) }
            p { a href="/app/admin/offenses" { (tr.t("catalogue-open")) } }
        }
        section.card aria-labelledby="orgs-h" {
            h2 #orgs-h { (tr.t("organizations-title")) }
            ul { @for o in &organizations { li { (o.name) " — " (tr.label("OrganizationKind", o.kind.as_str())) } } }
            (org_errors.summary(tr))
            form method="post" action="/app/admin/organizations" novalidate {
                (hidden(&ctx.csrf()))
                (Field { name: "orgName", label: tr.t("field-organization-name"), hint: None, value: org_form.raw("orgName"), errors: org_errors }.input("text", true))
                (Field { name: "kind", label: tr.t("field-organization-kind"), hint: None, value: org_form.raw("kind"), errors: org_errors }
                    .select(&forms::options(tr, "OrganizationKind", &kinds), true, &tr.t("choose")))
                button type="submit" { (tr.t("organization-add")) }
            }
        }
        @if let Some(k) = keys {
            section.card aria-labelledby="keys-h" {
                h2 #keys-h { (tr.t("keys-title")) }
                p.hint { (tr.t("keys-intro")) }
                dl.facts {
                    dt { (tr.t("keys-master-id")) } dd { code { (k.master_key_id) } }
                    dt { (tr.t("keys-epoch")) } dd { (k.current_epoch) }
                    dt { (tr.t("keys-changed")) } dd { (k.epoch_changed_at.map(|t| when(tr, t)).unwrap_or_else(|| "—".into())) }
                    dt { (tr.t("keys-wrapped")) } dd { (k.wrapped_keys) }
                }
            }
        }
    }
}

/// `POST /app/admin/organizations`: registers an organisation.
pub async fn add_organization(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let name = errors.required(tr, &form, "orgName").map(str::to_string);
    let kind: Option<OrganizationKind> = errors.label(tr, &form, "kind", true);
    let (Some(name), Some(kind)) = (name, kind) else {
        return super::admin::page_with(&ctx, &Form::default(), &Errors::default(), None, &form, &errors).await;
    };
    let app = ctx.state.app.clone();
    let run = async { app.register_organization(&caller, None, &name, kind).await.map(|_| "/app/admin".to_string()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => {
            errors.add("orgName", layout::explain(tr, &e));
            super::admin::page_with(&ctx, &Form::default(), &Errors::default(), None, &form, &errors).await
        }
    }
}

/// `GET /app/admin/accounts/{accountId}`: one account, its tokens, and the forms to revoke
/// its access or deactivate it.
pub async fn account(ctx: Ctx, Path(account_id): Path<String>) -> Response {
    account_page(&ctx, &account_id, &Form::default(), &Errors::default()).await
}

async fn account_page(ctx: &Ctx, account_id: &str, form: &Form, errors: &Errors) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ManageAccounts) {
        return layout::not_found(ctx);
    }
    let Ok(id) = Uuid::parse_str(account_id) else { return layout::not_found(ctx) };
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let Ok(Some(a)) = app.account(id).await else { return layout::not_found(ctx) };
    let tokens = app.account_tokens(&caller, id).await.unwrap_or_default();
    let active = tokens.iter().filter(|t| !t.revoked).count();
    let own = id == caller.principal.account_id;
    let body = html! {
        section.card {
            dl.facts {
                dt { (tr.t("field-role")) } dd { (tr.label("Role", a.role.as_str())) }
                dt { (tr.t("col-status")) } dd { (tr.t(if a.disabled { "account-deactivated" } else { "account-active" })) }
                dt { (tr.t("field-created-on")) } dd { (when(tr, a.created_at)) }
                dt { (tr.t("tokens-active")) } dd { (active) " / " (tokens.len()) }
            }
            p { a href={ "/app/audit/accounts/" (id) } { (tr.t("account-activity")) } }
        }
        @if !a.disabled {
            section.card aria-labelledby="revoke-h" {
                h2 #revoke-h { (tr.t("revoke-title")) }
                p { (tr.t("revoke-intro")) }
                form method="post" action={ "/app/admin/accounts/" (id) "/revoke" } {
                    (hidden(&ctx.csrf()))
                    button type="submit" { (tr.t("revoke-button")) }
                }
            }
            @if !own {
                section.card aria-labelledby="deactivate-h" {
                    h2 #deactivate-h { (tr.t("deactivate-title")) }
                    p { (tr.t("deactivate-intro")) }
                    (errors.summary(tr))
                    form method="post" action={ "/app/admin/accounts/" (id) "/deactivate" } novalidate {
                        (hidden(&ctx.csrf()))
                        (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-reason-no-names")), value: form.raw("reason"), errors }.input("text", true))
                        button.danger type="submit" { (tr.t("deactivate-button")) }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &a.name, body)
}

/// `POST /app/admin/accounts/{accountId}/revoke`: every token revoked, every session ended.
pub async fn revoke(ctx: Ctx, Path(account_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&account_id) else { return layout::not_found(&ctx) };
    let app = ctx.state.app.clone();
    let next = format!("/app/admin/accounts/{id}");
    let run = async { app.revoke_account_access(&caller, id).await.map(|_| next.clone()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => layout::error_page(&ctx, &e),
    }
}

/// `POST /app/admin/accounts/{accountId}/deactivate`: the account is deactivated for good.
pub async fn deactivate(ctx: Ctx, Path(account_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let Ok(id) = Uuid::parse_str(&account_id) else { return layout::not_found(&ctx) };
    let mut errors = Errors::default();
    let Some(reason) = errors.required(tr, &form, "reason").map(str::to_string) else {
        return account_page(&ctx, &account_id, &form, &errors).await;
    };
    let app = ctx.state.app.clone();
    let next = format!("/app/admin/accounts/{id}");
    let run = async { app.deactivate_account(&caller, id, &reason).await.map(|_| next.clone()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => {
            errors.add("reason", layout::explain(tr, &e));
            account_page(&ctx, &account_id, &form, &errors).await
        }
    }
}

/// `GET /app/admin/erasures/{requestId}`: one erasure request, to approve or turn down.
pub async fn erasure(ctx: Ctx, Path(request_id): Path<String>) -> Response {
    erasure_page(&ctx, &request_id, &Form::default(), &Errors::default()).await
}

async fn erasure_page(ctx: &Ctx, request_id: &str, form: &Form, errors: &Errors) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::DecideErasure) {
        return layout::not_found(ctx);
    }
    let Ok(id) = Uuid::parse_str(request_id) else { return layout::not_found(ctx) };
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let all = app.erasure_requests(&caller, None, None).await.unwrap_or_default();
    let Some(r) = all.into_iter().find(|r| r.request_id == id) else { return layout::not_found(ctx) };
    let requester = app.account(r.requested_by).await.ok().flatten().map(|a| a.name).unwrap_or_default();
    let own = r.requested_by == caller.principal.account_id;
    let body = html! {
        section.card {
            dl.facts {
                dt { (tr.t("col-reference")) } dd { (reference(r.case_id)) }
                dt { (tr.t("col-requested-by")) } dd { (requester) }
                dt { (tr.t("col-when")) } dd { (when(tr, r.requested_at)) }
                dt { (tr.t("field-reason")) } dd { (r.reason) }
                dt { (tr.t("col-status")) } dd { (tr.label("ErasureStatus", r.status.as_str())) }
            }
        }
        @if r.status == ErasureStatus::Pending {
            @if own {
                div.notice role="status" { p { (tr.t("erasure-own")) } }
            } @else {
                section.card aria-labelledby="approve-h" {
                    h2 #approve-h { (tr.t("erasure-approve-title")) }
                    p { (tr.t("erasure-approve-intro")) }
                    form method="post" action={ "/app/admin/erasures/" (id) "/approve" } {
                        (hidden(&ctx.csrf()))
                        button.danger type="submit" { (tr.t("erasure-approve")) }
                    }
                }
                section.card aria-labelledby="reject-h" {
                    h2 #reject-h { (tr.t("erasure-reject-title")) }
                    (errors.summary(tr))
                    form method="post" action={ "/app/admin/erasures/" (id) "/reject" } novalidate {
                        (hidden(&ctx.csrf()))
                        (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-reason-no-names")), value: form.raw("reason"), errors }.input("text", true))
                        button type="submit" { (tr.t("erasure-reject")) }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &tr.t("erasure-title"), body)
}

/// `POST /app/admin/erasures/{requestId}/approve`: the second ADMIN approves; the client's
/// data key is destroyed.
pub async fn approve_erasure(ctx: Ctx, Path(request_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&request_id) else { return layout::not_found(&ctx) };
    let app = ctx.state.app.clone();
    let next = format!("/app/admin/erasures/{id}");
    let run = async { Box::pin(app.approve_erasure(&caller, id)).await.map(|_| next.clone()) };
    match Box::pin(ctx.once(&caller, &form, run)).await {
        Ok(r) => r,
        Err(e) => layout::error_page(&ctx, &e),
    }
}

/// `POST /app/admin/erasures/{requestId}/reject`: turned down with a reason.
pub async fn reject_erasure(ctx: Ctx, Path(request_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let Ok(id) = Uuid::parse_str(&request_id) else { return layout::not_found(&ctx) };
    let mut errors = Errors::default();
    let Some(reason) = errors.required(tr, &form, "reason").map(str::to_string) else {
        return erasure_page(&ctx, &request_id, &form, &errors).await;
    };
    let app = ctx.state.app.clone();
    let next = format!("/app/admin/erasures/{id}");
    let run = async { app.reject_erasure(&caller, id, &reason).await.map(|_| next.clone()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => {
            errors.add("reason", layout::explain(tr, &e));
            erasure_page(&ctx, &request_id, &form, &errors).await
        }
    }
}

/// `GET /app/cases/{caseId}/erasure`: those who work on the case ask for its client's data
/// to be erased (an ADMIN other than them decides).
pub async fn request_form(
    ctx: Ctx,
    Path(case_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    request_page(&ctx, &case_id, &Form::default(), &Errors::default(), q.contains_key("sent")).await
}

async fn request_page(ctx: &Ctx, case_id: &str, form: &Form, errors: &Errors, sent: bool) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(id) = parse_case_id(case_id) else { return layout::not_found(ctx) };
    let tr = ctx.tr;
    let requests = match ctx.state.app.case_erasure_requests(&caller, id).await {
        Ok(r) => r,
        Err(crate::error::ApiError::NotFound(_)) => return layout::not_found(ctx),
        Err(e) => return layout::error_page(ctx, &e),
    };
    let pending = requests.iter().any(|r| r.status == ErasureStatus::Pending);
    let body = html! {
        @if sent { div.notice role="status" { p { (tr.t("erasure-sent")) } } }
        section.card {
            p { (tr.t("erasure-request-intro")) }
            @for r in &requests {
                p { (when(tr, r.requested_at)) ": " (tr.label("ErasureStatus", r.status.as_str())) }
            }
            @if !pending {
                (errors.summary(tr))
                form method="post" action={ "/app/cases/" (id) "/erasure" } novalidate {
                    (hidden(&ctx.csrf()))
                    (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-reason-no-names")), value: form.raw("reason"), errors }.input("text", true))
                    button.danger type="submit" { (tr.t("erasure-request")) }
                }
            }
            p { a href={ "/app/cases/" (id) } { (tr.t("back-to-case")) } }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &format!("{} {}", tr.t("erasure-request-title"), reference(id)), body)
}

/// `POST /app/cases/{caseId}/erasure`: records the request.
pub async fn request(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    let mut errors = Errors::default();
    let Some(reason) = errors.required(tr, &form, "reason").map(str::to_string) else {
        return request_page(&ctx, &case_id, &form, &errors, false).await;
    };
    let app = ctx.state.app.clone();
    let next = format!("/app/cases/{id}/erasure?sent=1");
    let run = async { app.request_erasure(&caller, id, &reason).await.map(|_| next.clone()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(crate::error::ApiError::NotFound(_)) => layout::not_found(&ctx),
        Err(e) => {
            errors.add("reason", layout::explain(tr, &e));
            request_page(&ctx, &case_id, &form, &errors, false).await
        }
    }
}

/// Links of a case page: to ask for the client's data to be erased (those who may) and to
/// the case's audit trail (oversight roles).
pub fn case_links(ctx: &Ctx, view: &projections::model::CaseView) -> Markup {
    let tr = ctx.tr;
    let Some(p) = ctx.session.as_ref().map(|s| &s.principal) else { return html! {} };
    let scope = crate::app::scope_of(view);
    let erase = !view.erased && crate::access::policy::allowed(p, Op::RequestErasure, Some(&scope));
    let audit = crate::access::policy::allowed(p, Op::ReadAuditTrail, None);
    html! {
        @if erase || audit {
            p.actions {
                @if audit { a href={ "/app/audit/cases/" (view.id) } { (tr.t("audit-trail-of")) } " " }
                @if erase { a href={ "/app/cases/" (view.id) "/erasure" } { (tr.t("erasure-request")) } }
            }
        }
    }
}
