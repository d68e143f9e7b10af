//! `/app/audit`: the oversight screens of auditors (and admins): the identity-read log (case
//! references, never an identity) and the sign-in history with filters by account and case,
//! a case's audit trail with the verification of its hash chain and of a signed checkpoint,
//! and an account's activity.

use super::cases::{parse_case_id, reference};
use super::forms::{hidden, Errors, Field, Form};
use super::layout::{self, page, page_status};
use super::session::Ctx;
use crate::access::Op;
use crate::app::audit::Entry;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use std::collections::HashMap;
use uuid::Uuid;

type Params = Query<HashMap<String, String>>;

fn when(tr: super::i18n::Tr, t: chrono::DateTime<chrono::Utc>) -> String {
    format!("{} {} UTC", tr.date(t.date_naive()), t.format("%H:%M:%S"))
}

fn when_text(tr: super::i18n::Tr, s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s).map(|t| when(tr, t.with_timezone(&chrono::Utc))).unwrap_or_default()
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The events of a trail as a table (summaries never hold identity or free text).
fn trail(tr: super::i18n::Tr, entries: &[Entry], caption: &str) -> Markup {
    html! {
        div.table-wrap { table {
            caption.skip { (caption) }
            thead { tr {
                th scope="col" { "#" }
                th scope="col" { (tr.t("col-when")) }
                th scope="col" { (tr.t("col-event")) }
                th scope="col" { (tr.t("col-actor")) }
                th scope="col" { (tr.t("col-hash")) }
            } }
            tbody { @for e in entries { tr {
                td { (e.row.sequence) }
                td { (when_text(tr, &e.recorded_at)) }
                td {
                    @if tr.has(&format!("Event-{}", e.row.event_type)) { (tr.label("Event", &e.row.event_type)) } @else { (e.row.event_type) }
                    br; span.hint { (e.summary) }
                }
                td { @if let Some(a) = &e.actor {
                    (a.name) @if let Some(r) = a.role { " (" (tr.label("Role", r.as_str())) ")" }
                } }
                td { code title=(e.row.hash) { (short(&e.row.hash)) } }
            } } }
        } }
    }
}

/// `GET /app/audit`: the identity-read log and the sign-in history, filtered by account
/// (`account`) and case (`case`); a form to open a case's audit trail.
pub async fn index(ctx: Ctx, Query(q): Params) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadIdentityLog) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let mut errors = Errors::default();
    let account = q.get("account").map(|s| s.trim()).filter(|s| !s.is_empty());
    let case = q.get("case").map(|s| s.trim()).filter(|s| !s.is_empty());
    let account_id = account.and_then(|a| {
        let id = Uuid::parse_str(a).ok();
        if id.is_none() {
            errors.add("account", tr.t("err-id"));
        }
        id
    });
    let case_id = case.and_then(|c| {
        let id = parse_case_id(c);
        if id.is_none() {
            errors.add("case", tr.t("err-id"));
        }
        id
    });
    let accounts = match app.accounts(&caller).await {
        Ok(a) => a,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let reads = match app.identity_reads(&caller, case_id, account_id, 200).await {
        Ok(r) => r,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let sign_ins = match app.sign_in_history(&caller, account_id, 200).await {
        Ok(s) => s,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let mut account_options: Vec<(String, String)> = accounts
        .iter()
        .map(|a| (a.id.to_string(), format!("{} ({})", a.name, tr.label("Role", a.role.as_str()))))
        .collect();
    account_options.sort_by(|a, b| a.1.cmp(&b.1));
    let f = |name: &'static str, label: &str, value: &'static str| Field {
        name,
        label: tr.t(label),
        hint: None,
        value,
        errors: &errors,
    };
    let account_value = account.unwrap_or("").to_string();
    let case_value = case.unwrap_or("").to_string();
    let body = html! {
        (errors.summary(tr))
        section.card aria-labelledby="trail-h" {
            h2 #trail-h { (tr.t("audit-open-trail")) }
            form method="get" action="/app/audit/case" {
                (Field { name: "caseId", label: tr.t("field-case-id"), hint: Some(tr.t("hint-case-id")), value: "", errors: &Errors::default() }.input("text", true))
                button type="submit" { (tr.t("audit-open")) }
            }
        }
        section.card aria-labelledby="filter-h" {
            h2 #filter-h { (tr.t("audit-filter")) }
            form method="get" action="/app/audit" {
                (Field { value: &account_value, ..f("account", "field-account", "") }.select(&account_options, false, &tr.t("audit-any-account")))
                (Field { value: &case_value, hint: Some(tr.t("hint-case-id")), ..f("case", "field-case-id", "") }.input("text", false))
                button type="submit" { (tr.t("audit-apply")) }
            }
        }
        section.card aria-labelledby="reads-h" {
            h2 #reads-h { (tr.t("identity-read-log")) }
            p.hint { (tr.t("audit-reads-intro")) }
            @if reads.is_empty() { p { (tr.t("audit-nothing")) } } @else {
            div.table-wrap { table {
                thead { tr {
                    th scope="col" { (tr.t("col-when")) }
                    th scope="col" { (tr.t("col-reader")) }
                    th scope="col" { (tr.t("col-reference")) }
                    th scope="col" { (tr.t("field-purpose")) }
                } }
                tbody { @for r in &reads { tr {
                    td { (when(tr, r.read.read_at)) }
                    td { a href={ "/app/audit/accounts/" (r.read.account_id) } { (r.account_name.clone().unwrap_or_default()) } " (" (tr.label("Role", r.read.role.as_str())) ")" }
                    td { a href={ "/app/audit/cases/" (r.read.case_id) } { (reference(r.read.case_id)) } }
                    td { (r.read.purpose.as_deref().map(|p| if tr.has(&format!("Purpose-{p}")) { tr.label("Purpose", p) } else { p.to_string() }).unwrap_or_default()) }
                } } }
            } } }
        }
        section.card aria-labelledby="signins-h" {
            h2 #signins-h { (tr.t("sign-in-log")) }
            (sign_in_table(tr, &sign_ins))
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(&ctx, status, &tr.t("audit-title"), body)
}

fn sign_in_table(tr: super::i18n::Tr, rows: &[crate::app::sign_in::SignInEntry]) -> Markup {
    html! {
        @if rows.is_empty() { p { (tr.t("audit-nothing")) } } @else {
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (tr.t("col-when")) }
                th scope="col" { (tr.t("field-username")) }
                th scope="col" { (tr.t("col-outcome")) }
                th scope="col" { (tr.t("col-address")) }
            } }
            tbody { @for s in rows { tr {
                td { (when(tr, s.at)) }
                td { @if let Some(a) = s.account_id { a href={ "/app/audit/accounts/" (a) } { (s.username) } } @else { (s.username) } }
                td { (tr.label("SignInOutcome", &s.outcome)) }
                td { (s.client_address.clone().unwrap_or_default()) }
            } } }
        } } }
    }
}

/// `GET /app/audit/case?caseId=`: goes to the case's audit trail.
pub async fn open_case(ctx: Ctx, Query(q): Params) -> Response {
    if let Err(r) = ctx.signed_in() {
        return r;
    }
    match q.get("caseId").and_then(|c| parse_case_id(c)) {
        Some(id) => axum::response::Redirect::to(&format!("/app/audit/cases/{id}")).into_response(),
        None => layout::not_found(&ctx),
    }
}

/// What a verification found, said in the user's language.
fn verdict(ok: bool, text: String, detail: Option<String>) -> Markup {
    html! {
        div class=(if ok { "notice" } else { "error-summary" }) role="status" {
            p { strong { (text) } }
            @if let Some(d) = detail { p { (d) } }
        }
    }
}

/// `GET /app/audit/cases/{caseId}` (`?verify=1` recomputes its hash chain): every event of
/// the case with its links, and a form to check a signed checkpoint.
pub async fn case_trail(ctx: Ctx, Path(case_id): Path<String>, Query(q): Params) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadAuditTrail) {
        return layout::not_found(&ctx);
    }
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let entries = match app.audit_trail(&caller, id).await {
        Ok(e) => e,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let verification = if q.contains_key("verify") {
        match app.verify_audit_trail(&caller, Some(id)).await {
            Ok(v) => Some(v),
            Err(e) => return layout::error_page(&ctx, &e),
        }
    } else {
        None
    };
    let body = html! {
        @if let Some(v) = &verification {
            @let n = v.checked_events.to_string();
            @if v.ok {
                (verdict(true, tr.t_args("verify-ok", &[("events", &n)]), None))
            } @else {
                @let at = v.first_broken_at.as_ref().map(|e| e.row.sequence.to_string()).unwrap_or_else(|| "—".into());
                (verdict(false, tr.t_args("verify-broken", &[("events", &n), ("sequence", &at)]), v.reason.clone()))
            }
        }
        section.card aria-labelledby="verify-h" {
            h2 #verify-h { (tr.t("verify-title")) }
            p { (tr.t("verify-intro")) }
            form method="get" action={ "/app/audit/cases/" (id) } {
                input type="hidden" name="verify" value="1";
                button type="submit" { (tr.t("verify-chain")) }
            }
        }
        section.card aria-labelledby="trail-h" {
            h2 #trail-h { (tr.t("audit-trail-of")) " " (reference(id)) }
            (trail(tr, &entries, &tr.t("audit-trail-of")))
        }
        (checkpoint_form(&ctx, id, "", "", &Errors::default()))
    };
    page(&ctx, &format!("{} {}", tr.t("audit-trail-of"), reference(id)), body)
}

fn checkpoint_form(ctx: &Ctx, id: Uuid, checkpoint: &str, key: &str, errors: &Errors) -> Markup {
    let tr = ctx.tr;
    html! {
        section.card aria-labelledby="checkpoint-h" {
            h2 #checkpoint-h { (tr.t("checkpoint-title")) }
            p { (tr.t("checkpoint-intro")) }
            (errors.summary(tr))
            form method="post" action={ "/app/audit/cases/" (id) "/checkpoint" } novalidate {
                (hidden(&ctx.csrf()))
                (Field { name: "checkpoint", label: tr.t("field-checkpoint"), hint: None, value: checkpoint, errors }.textarea())
                (Field { name: "publicKey", label: tr.t("field-public-key"), hint: Some(tr.t("hint-public-key")), value: key, errors }.input("text", true))
                button type="submit" { (tr.t("checkpoint-check")) }
            }
        }
    }
}

/// `POST /app/audit/cases/{caseId}/checkpoint`: checks a signed checkpoint (pasted) against
/// the whole ledger and says the result on the case's page. Reads only.
pub async fn check_checkpoint(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::VerifyAuditTrail) {
        return layout::not_found(&ctx);
    }
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let cp = errors.required(tr, &form, "checkpoint").unwrap_or("").to_string();
    let key = errors.required(tr, &form, "publicKey").unwrap_or("").to_string();
    let result = if errors.is_empty() {
        match ctx.state.app.verify_checkpoint(&caller, &cp, &key).await {
            Ok(r) => Some(r),
            Err(e) => {
                if e.message().starts_with("publicKey") {
                    errors.add("publicKey", tr.t("err-public-key"));
                } else {
                    errors.add("checkpoint", tr.t("err-checkpoint"));
                }
                None
            }
        }
    } else {
        None
    };
    let body = html! {
        @if let Some(r) = &result {
            @let events = r.outcome.events.to_string();
            @match &r.signature {
                Some(Err(_)) => (verdict(false, tr.t("checkpoint-bad-signature"), None)),
                _ => @if r.ok() {
                    (verdict(true, tr.t_args("checkpoint-ok", &[("events", &events)]), None))
                } @else {
                    @let problems = r.outcome.checkpoint.as_ref().map(|c| c.problem_count).unwrap_or(0).to_string();
                    @let broken = r.outcome.broken_links.to_string();
                    (verdict(false, tr.t_args("checkpoint-mismatch", &[("problems", &problems), ("broken", &broken)]),
                        r.outcome.checkpoint.as_ref().and_then(|c| c.problems.first().cloned())))
                },
            }
        }
        p { a href={ "/app/audit/cases/" (id) } { (tr.t("audit-back-to-trail")) } }
        (checkpoint_form(&ctx, id, &cp, &key, &errors))
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(&ctx, status, &tr.t("checkpoint-title"), body)
}

/// `GET /app/audit/accounts/{accountId}`: what an account did (the events it recorded),
/// its sign-ins, and the identities it read (as case references).
pub async fn account(ctx: Ctx, Path(account_id): Path<String>) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadSignInLog) {
        return layout::not_found(&ctx);
    }
    let Ok(id) = Uuid::parse_str(&account_id) else { return layout::not_found(&ctx) };
    let tr = ctx.tr;
    let app = &ctx.state.app;
    let Ok(Some(account)) = app.account(id).await else { return layout::not_found(&ctx) };
    let activity = match app.account_activity(&caller, id, 200).await {
        Ok(a) => a,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let sign_ins = match app.sign_in_history(&caller, Some(id), 100).await {
        Ok(s) => s,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let body = html! {
        section.card {
            dl.facts {
                dt { (tr.t("field-role")) } dd { (tr.label("Role", account.role.as_str())) }
                dt { (tr.t("col-status")) } dd { (tr.t(if account.disabled { "account-deactivated" } else { "account-active" })) }
            }
            p { a href={ "/app/audit?account=" (id) } { (tr.t("audit-reads-of-account")) } }
        }
        section.card aria-labelledby="activity-h" {
            h2 #activity-h { (tr.t("account-activity")) }
            @if activity.is_empty() { p { (tr.t("audit-nothing")) } } @else {
                (trail(tr, &activity, &tr.t("account-activity")))
            }
        }
        section.card aria-labelledby="signins-h" {
            h2 #signins-h { (tr.t("sign-in-log")) }
            (sign_in_table(tr, &sign_ins))
        }
    };
    page(&ctx, &account.name, body)
}
