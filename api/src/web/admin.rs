//! `/app/admin` (an ADMIN invites people: a one-time link that expires) and
//! `/app/audit` (auditors and admins: the sign-in log and the identity-read log).

use super::forms::{self, hidden, Errors, Field, Form};
use super::layout::{self, page_status};
use super::session::Ctx;
use crate::access::Op;
use crate::app::accounts::NewAccount;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use domain::values::Role;
use maud::html;
use uuid::Uuid;

pub async fn page_(ctx: &Ctx, form: &Form, errors: &Errors, link: Option<String>) -> Response {
    page_with(ctx, form, errors, link, &Form::default(), &Errors::default()).await
}

/// `/app/admin` with the organisation form's values and errors too.
pub async fn page_with(
    ctx: &Ctx,
    form: &Form,
    errors: &Errors,
    link: Option<String>,
    org_form: &Form,
    org_errors: &Errors,
) -> Response {
    if let Err(r) = ctx.signed_in() {
        return r;
    }
    if !ctx.may(Op::CreateAccessToken) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let f = |name: &'static str, label: &str, hint: Option<&str>| Field {
        name,
        label: tr.t(label),
        hint: hint.map(|h| tr.t(h)),
        value: form.raw(name),
        errors,
    };
    let body = html! {
        @if let Some(l) = &link {
            div.notice role="status" {
                p { (tr.t("invitation-made")) }
                p.code { (l) }
            }
        }
        section.card aria-labelledby="invite-h" {
            h2 #invite-h { (tr.t("invite-title")) }
            (errors.summary(tr))
            form method="post" action="/app/admin" novalidate {
                (hidden(&ctx.csrf()))
                (f("name", "field-account-name", None).input("text", true))
                (f("role", "field-role", None).select(&forms::options(tr, "Role", &roles), true, &tr.t("choose")))
                (f("organizationId", "field-organization-id", Some("hint-organization-id")).input("text", false))
                (f("lawyerId", "field-lawyer-id", Some("hint-lawyer-id")).input("text", false))
                button type="submit" { (tr.t("invite")) }
            }
        }
        (super::administration::sections(ctx, org_form, org_errors).await)
    };
    let status =
        if errors.is_empty() && org_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &tr.t("admin-title"), body)
}

pub async fn show(ctx: Ctx) -> Response {
    page_(&ctx, &Form::default(), &Errors::default(), None).await
}

pub async fn invite(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let name = errors.required(tr, &form, "name").map(str::to_string);
    let role: Option<Role> = errors.label(tr, &form, "role", true);
    let uuid = |errors: &mut Errors, k: &str| match form.get(k) {
        None => None,
        Some(s) => {
            let id = Uuid::parse_str(s).ok();
            if id.is_none() {
                errors.add(k, tr.t("err-id"));
            }
            id
        }
    };
    let organization_id = uuid(&mut errors, "organizationId");
    let lawyer_id = uuid(&mut errors, "lawyerId");
    let (Some(name), Some(role), true) = (name, role, errors.is_empty()) else {
        return page_(&ctx, &form, &errors, None).await;
    };
    let input = NewAccount { account_id: None, name, role, organization_id, lawyer_id, expires_at: None };
    match ctx.state.app.invite(&caller, input).await {
        Ok((_, secret)) => {
            let host = ctx.headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
            let link = format!("https://{host}/app/invitations/{secret}");
            page_(&ctx, &Form::default(), &Errors::default(), Some(link)).await
        }
        Err(e) => {
            let field = layout::field_of(&e, &["organisation", "lawyer"]).map(|f| {
                if f == "lawyer" {
                    "lawyerId".to_string()
                } else {
                    "organizationId".to_string()
                }
            });
            errors.add(field.as_deref().unwrap_or("name"), layout::explain(tr, &e));
            page_(&ctx, &form, &errors, None).await
        }
    }
}

/// `/app/approvals`: the accounts that wait for this person's approval before they can read
/// client identity (an ADMIN approves intake workers and coordinators, the COORDINATOR
/// lawyers; never the account's own creator).
pub async fn approvals(ctx: Ctx) -> Response {
    if let Err(r) = ctx.signed_in() {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ApproveAccount) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let waiting = match ctx.state.app.accounts_awaiting_approval(&caller).await {
        Ok(w) => w,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let body = html! {
        section.card {
            p { (tr.t("approvals-intro")) }
            @if waiting.is_empty() {
                p { (tr.t("approvals-none")) }
            } @else {
                div.table-wrap { table {
                    caption.skip { (tr.t("approvals-title")) }
                    thead { tr {
                        th scope="col" { (tr.t("field-account-name")) }
                        th scope="col" { (tr.t("field-role")) }
                        th scope="col" { (tr.t("field-created-on")) }
                        th scope="col" { span.skip { (tr.t("approve")) } }
                    } }
                    tbody { @for a in &waiting {
                        tr {
                            td { (a.name) }
                            td { (tr.label("Role", a.role.as_str())) }
                            td { (tr.date(a.created_at.date_naive())) }
                            td {
                                form method="post" action={ "/app/approvals/" (a.id) } {
                                    (hidden(&ctx.csrf()))
                                    button type="submit" aria-label={ (tr.t("approve")) ": " (a.name) } { (tr.t("approve")) }
                                }
                            }
                        }
                    } }
                } }
            }
        }
    };
    page_status(&ctx, StatusCode::OK, &tr.t("approvals-title"), body)
}

/// `POST /app/approvals/{accountId}`: approves one account, then shows the list again.
pub async fn approve(ctx: Ctx, Path(account_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&account_id) else { return layout::not_found(&ctx) };
    let app = ctx.state.app.clone();
    let run = async { app.approve_account(&caller, id).await.map(|_| "/app/approvals".to_string()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => layout::error_page(&ctx, &e),
    }
}
