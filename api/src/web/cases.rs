//! The case list (filters; search by case reference, never by name) and the case page
//! (`/app/cases/{caseId}`): summary, identity behind a recorded "show identity", consents,
//! the client's profile and a guardian's consent (in [`super::profile`]), referrals, the
//! victim status and transfers, timeline — and, by role, assignment (coordinator) or the
//! next legal steps (lawyer, in [`super::legal`]).

use super::forms::{self, hidden, Errors, Field, Form};
use super::i18n::Tr;
use super::layout::{self, page};
use super::session::Ctx;
use super::{legal, network};
use crate::access::Op;
use crate::app::cases::CaseListFilter;
use crate::app::privacy::{IdentityRead, PURPOSES};
use crate::error::ApiError;
use crate::privacy::identity::IdentityPlain;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use domain::values::{self as v, ConsentScope, ProtectionService, Role};
use maud::{html, Markup};
use projections::model::{CaseStatus, CaseView};
use std::collections::HashMap;
use uuid::Uuid;

/// A case's reference as people say it: the first eight hex digits of its id.
pub fn reference(id: Uuid) -> String {
    id.simple().to_string()[..8].to_uppercase()
}

pub fn parse_case_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw.trim()).ok()
}

/// `/app/cases`: the organisation's cases (an intake worker's), everyone's for a
/// coordinator, a lawyer's own.
pub async fn list(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let filter = CaseListFilter {
        status: get("status").filter(|s| s.parse::<CaseStatus>().is_ok()).map(str::to_string),
        region: get("region").and_then(|s| s.parse().ok()),
        exploitation_type: get("exploitationType").and_then(|s| s.parse().ok()),
        ..Default::default()
    };
    let search = get("reference").map(|s| s.trim_start_matches('#').to_uppercase());
    let page_data = match ctx.state.app.cases(&caller, filter, 100, None).await {
        Ok(p) => p,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let rows: Vec<_> = page_data
        .cases
        .iter()
        .filter(|c| {
            search
                .as_ref()
                .is_none_or(|s| reference(c.id).starts_with(s.as_str()) || c.id.to_string() == s.to_lowercase())
        })
        .collect();
    let statuses: Vec<&str> = CaseStatus::ALL.iter().map(|s| s.as_str()).collect();
    let regions: Vec<&str> = v::Region::ALL.iter().map(|r| r.as_str()).collect();
    let types: Vec<&str> = v::ExploitationType::ALL.iter().map(|r| r.as_str()).collect();
    let none = Errors::default();
    let body = html! {
        form.card.filters method="get" action="/app/cases" role="search" {
            div { (Field { name: "reference", label: tr.t("field-reference"), hint: Some(tr.t("hint-reference")), value: get("reference").unwrap_or(""), errors: &none }.input("search", false)) }
            div { (Field { name: "status", label: tr.t("field-status"), hint: None, value: get("status").unwrap_or(""), errors: &none }.select(&forms::options(tr, "CaseStatus", &statuses), false, &tr.t("any"))) }
            div { (Field { name: "region", label: tr.t("field-region"), hint: None, value: get("region").unwrap_or(""), errors: &none }.select(&forms::options(tr, "Region", &regions), false, &tr.t("any"))) }
            div { (Field { name: "exploitationType", label: tr.t("field-exploitation-type"), hint: None, value: get("exploitationType").unwrap_or(""), errors: &none }.select(&forms::options(tr, "ExploitationType", &types), false, &tr.t("any"))) }
            div { button type="submit" { (tr.t("filter")) } }
        }
        @if ctx.may(Op::OpenIntake) { p { a.button href="/app/intake/new" { (tr.t("nav-new-intake")) } } }
        (case_table(tr, &rows))
    };
    page(&ctx, &tr.t("cases-title"), body)
}

/// A table of cases, linking each to its page.
pub fn case_table(tr: Tr, cases: &[&CaseView]) -> Markup {
    html! {
        @if cases.is_empty() {
            p { (tr.t("no-cases")) }
        } @else {
            div.table-wrap { table {
                caption.skip { (tr.t("cases-title")) }
                thead { tr {
                    th scope="col" { (tr.t("col-reference")) }
                    th scope="col" { (tr.t("field-identified-on")) }
                    th scope="col" { (tr.t("field-status")) }
                    th scope="col" { (tr.t("field-exploitation-types")) }
                    th scope="col" { (tr.t("field-region")) }
                } }
                tbody { @for c in cases {
                    tr {
                        td { a href={ "/app/cases/" (c.id) } { (reference(c.id)) } }
                        td { (tr.date(c.identified_on)) }
                        td { span.badge { (tr.label("CaseStatus", c.status().as_str())) } }
                        td { (c.exploitation_types.iter().map(|t| tr.label("ExploitationType", t.as_str())).collect::<Vec<_>>().join(", ")) }
                        td { (c.client.region.map(|r| tr.label("Region", r.as_str())).unwrap_or_else(|| tr.t("unknown"))) }
                    }
                } }
            } }
        }
    }
}

/// What the case page shows besides the case.
#[derive(Default)]
pub struct Extra<'a> {
    pub identity: Option<IdentityRead>,
    pub errors: Errors,
    pub form: Option<&'a Form>,
    /// Which form the errors and values belong to.
    pub section: &'a str,
    /// The answer's status when not the usual (200, or 422 with errors): a refusal by the
    /// policy shown on the page is 403.
    pub status: Option<StatusCode>,
}

pub async fn show(ctx: Ctx, Path(case_id): Path<String>, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    let saved = q.contains_key("saved");
    render(&ctx, id, Extra::default(), saved).await
}

/// Renders the case page, or the plain 404 when the case is not there or not the caller's.
pub async fn render(ctx: &Ctx, id: Uuid, extra: Extra<'_>, saved: bool) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let app = &ctx.state.app;
    let view = match app.case(&caller, id).await {
        Ok(Some(v)) => v,
        Ok(None) | Err(ApiError::Forbidden(_)) => return layout::not_found(ctx),
        Err(e) => return layout::error_page(ctx, &e),
    };
    let tr = ctx.tr;
    let role = caller.principal.role;
    let timeline = app.timeline(&caller, &view).await.unwrap_or_default();
    let lawyer_name = match &view.assignment {
        Some(a) => app.lawyer_view(a.lawyer_id).await.ok().flatten().map(|l| l.full_name.clone()),
        None => None,
    };
    let empty = Form::default();
    let form_for = |section: &str| if extra.section == section { extra.form.unwrap_or(&empty) } else { &empty };
    let errors_for = |section: &str| if extra.section == section { extra.errors.clone() } else { Errors::default() };
    let coordinator_part = if role == Role::Coordinator {
        network::assign_section(ctx, &view, &errors_for("assign")).await
    } else {
        html! {}
    };
    let lawyer_part = if role == Role::Lawyer {
        legal::lawyer_section(ctx, &view, extra.section, form_for(extra.section), &extra.errors).await
    } else {
        html! {}
    };
    let status =
        extra.status.unwrap_or(if extra.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY });
    // The facts around the case (victim status, referral outcomes): the use case decides
    // who may record them; the page offers the forms to the intake worker and the lawyer.
    let around = super::proceedings::Page {
        tr,
        case_id: view.id,
        csrf: ctx.csrf(),
        today: app.clock.today(),
        catalogue: &[],
        section: extra.section,
        form: extra.form.unwrap_or(&empty),
        errors: &extra.errors,
    };
    let may_status = view.closed.is_none() && matches!(role, Role::IntakeWorker | Role::Lawyer);
    // The use case decides who may transfer the case: its list of destinations is refused
    // to everyone else. A lawyer transfers a case only once they accepted it.
    let accepted = view.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some());
    let destinations = if view.closed.is_none() && (role != Role::Lawyer || accepted) {
        app.transfer_destinations(&caller, view.id).await.ok()
    } else {
        None
    };
    let mut organization_names = HashMap::new();
    for t in &view.transfers {
        for id in [t.from, t.to] {
            if let Ok(Some(o)) = app.organization(id).await {
                organization_names.insert(id, o.name.clone());
            }
        }
    }
    let body = html! {
        @if saved { div.notice role="status" { (tr.t("saved")) } }
        section.card aria-labelledby="summary-h" {
            h2 #summary-h { (tr.t("case-summary")) }
            dl.facts {
                dt { (tr.t("col-reference")) } dd { (reference(view.id)) }
                dt { (tr.t("field-status")) } dd { span.badge { (tr.label("CaseStatus", view.status().as_str())) } }
                dt { (tr.t("field-identified-on")) } dd { (tr.date(view.identified_on)) }
                dt { (tr.t("field-referral-source")) } dd { (tr.label("ReferralSource", view.referral_source.as_str())) }
                dt { (tr.t("field-exploitation-types")) } dd { (view.exploitation_types.iter().map(|t| tr.label("ExploitationType", t.as_str())).collect::<Vec<_>>().join(", ")) }
                dt { (tr.t("field-gender")) } dd { (tr.label("Gender", view.client.gender.as_str())) }
                dt { (tr.t("field-age")) } dd { (view.client.age_at_identification.map(|a| a.to_string()).unwrap_or_else(|| tr.t("unknown"))) }
                dt { (tr.t("field-region")) } dd { (view.client.region.map(|r| tr.label("Region", r.as_str())).unwrap_or_else(|| tr.t("unknown"))) }
                dt { (tr.t("lawyer")) } dd { (lawyer_name.clone().unwrap_or_else(|| tr.t("no-lawyer-yet"))) }
                @if let Some((on, _)) = &view.closed { dt { (tr.t("closed-on")) } dd { (tr.date(*on)) } }
            }
        }
        (identity_section(ctx, &view, extra.identity.as_ref(), &errors_for("identity")))
        (coordinator_part)
        (lawyer_part)
        (consent_section(ctx, &view, form_for("consent"), &errors_for("consent")))
        (super::profile::section(ctx, &view, extra.section, extra.form.unwrap_or(&empty), &extra.errors))
        (referral_section(ctx, &view, form_for("referral"), &errors_for("referral"), Some(&around)))
        (super::proceedings::victim_status(&around, &view, may_status))
        (super::proceedings::transfer(&around, &view, &organization_names, destinations.as_deref()))
        section.card aria-labelledby="timeline-h" {
            h2 #timeline-h { (tr.t("timeline")) }
            ol.timeline { @for e in &timeline {
                li {
                    (e.recorded_at.get(..10).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| tr.date(d)).unwrap_or_default())
                    " — " (tr.label("Event", &e.row.event_type))
                    @if let Some(a) = &e.actor { " (" (a.role.map(|r| tr.label("Role", r.as_str())).unwrap_or_default()) ")" }
                }
            } }
        }
        (super::administration::case_links(ctx, &view))
    };
    let title = tr.t_args("case-title", &[("reference", &reference(view.id))]);
    super::layout::page_status(ctx, status, &title, body)
}

fn identity_section(ctx: &Ctx, view: &CaseView, identity: Option<&IdentityRead>, errors: &Errors) -> Markup {
    let tr = ctx.tr;
    let role = ctx.session.as_ref().map(|s| s.principal.role);
    if matches!(role, Some(Role::Admin | Role::Auditor)) {
        return html! {};
    }
    let purposes: Vec<(String, String)> = PURPOSES.iter().map(|p| (p.to_string(), tr.label("Purpose", p))).collect();
    html! {
        section.card aria-labelledby="identity-h" {
            h2 #identity-h { (tr.t("identity")) }
            @if view.erased {
                p { (tr.t("identity-erased")) }
            } @else {
                @match identity {
                    Some(IdentityRead::Identity(i)) => { (identity_shown(tr, i)) }
                    Some(IdentityRead::Erased) => { p { (tr.t("identity-erased")) } }
                    None => {
                        p { (tr.t("identity-hidden")) }
                        (errors.summary(tr))
                        form method="post" action={ "/app/cases/" (view.id) "/identity" } {
                            (hidden(&ctx.csrf()))
                            (Field { name: "purpose", label: tr.t("field-purpose"), hint: Some(tr.t("hint-purpose")), value: "", errors }
                                .select(&purposes, true, &tr.t("choose")))
                            button.secondary type="submit" { (tr.t("show-identity")) }
                        }
                    }
                }
            }
        }
    }
}

fn identity_shown(tr: Tr, i: &IdentityPlain) -> Markup {
    let dash = || "—".to_string();
    html! {
        div.identity role="region" aria-label=(tr.t("identity")) {
            p.hint { (tr.t("identity-recorded")) }
            dl.facts {
                dt { (tr.t("field-full-name")) } dd { (i.full_name) }
                dt { (tr.t("field-date-of-birth")) } dd { (i.date_of_birth.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).map(|d| tr.date(d)).unwrap_or_else(dash)) }
                dt { (tr.t("field-contact")) } dd { (i.contact.clone().unwrap_or_else(dash)) }
                dt { (tr.t("field-document-number")) } dd { (i.document_number.clone().unwrap_or_else(dash)) }
                dt { (tr.t("field-narrative")) } dd { (i.narrative.clone().unwrap_or_else(dash)) }
            }
        }
    }
}

fn consent_section(ctx: &Ctx, view: &CaseView, form: &Form, errors: &Errors) -> Markup {
    let tr = ctx.tr;
    let c = &view.consent;
    let state = [
        (ConsentScope::LegalAid, c.legal_aid),
        (ConsentScope::ReportToPolice, c.report_to_police),
        (ConsentScope::DataSharing, c.data_sharing),
    ];
    // The use case decides; the page offers the form to the role that records consent.
    let may = view.closed.is_none();
    let scopes: Vec<(String, String)> =
        ConsentScope::ALL.iter().map(|s| (s.as_str().to_string(), tr.label("ConsentScope", s.as_str()))).collect();
    let actions = vec![("give".to_string(), tr.t("consent-give")), ("withdraw".to_string(), tr.t("consent-withdraw"))];
    let today = chrono::Utc::now().date_naive().to_string();
    html! {
        section.card aria-labelledby="consent-h" {
            h2 #consent-h { (tr.t("consents")) }
            ul { @for (scope, given) in state {
                li { (tr.label("ConsentScope", scope.as_str())) ": " strong { (tr.t(if given { "consent-yes" } else { "consent-no" })) } }
            } }
            @if may && ctx.session.as_ref().is_some_and(|s| s.principal.role == Role::IntakeWorker) {
                h3 { (tr.t("consent-change")) }
                (errors.summary(tr))
                form method="post" action={ "/app/cases/" (view.id) "/consent" } novalidate {
                    (hidden(&ctx.csrf()))
                    (Field { name: "action", label: tr.t("field-consent-action"), hint: None, value: form.raw("action"), errors }.select(&actions, true, &tr.t("choose")))
                    (forms::checkboxes("scopes", &tr.t("field-scopes"), &scopes, &form.all("scopes"), errors))
                    (Field { name: "on", label: tr.t("field-on"), hint: None, value: if form.raw("on").is_empty() { &today } else { form.raw("on") }, errors }.input("date", true))
                    button type="submit" { (tr.t("save")) }
                }
            }
        }
    }
}

fn referral_section(
    ctx: &Ctx,
    view: &CaseView,
    form: &Form,
    errors: &Errors,
    around: Option<&super::proceedings::Page<'_>>,
) -> Markup {
    let tr = ctx.tr;
    let services: Vec<&str> = ProtectionService::ALL.iter().map(|s| s.as_str()).collect();
    let may = ctx.session.as_ref().is_some_and(|s| s.principal.role == Role::IntakeWorker) && view.closed.is_none();
    let today = chrono::Utc::now().date_naive().to_string();
    html! {
        section.card aria-labelledby="referral-h" {
            h2 #referral-h { (tr.t("referrals")) }
            @if view.referrals.is_empty() { p { (tr.t("no-referrals")) } }
            ul { @for (i, r) in view.referrals.iter().enumerate() {
                li { (tr.date(r.referred_on)) " — " (tr.label("ProtectionService", r.service.as_str()))
                    @if let Some(p) = &r.provider { " (" (p) ")" }
                    (around.map(|a| super::proceedings::referral_outcome(a, i, r, may)).unwrap_or_default()) }
            } }
            @if may {
                h3 { (tr.t("referral-new")) }
                (errors.summary(tr))
                form method="post" action={ "/app/cases/" (view.id) "/referral" } novalidate {
                    (hidden(&ctx.csrf()))
                    (Field { name: "service", label: tr.t("field-service"), hint: None, value: form.raw("service"), errors }.select(&forms::options(tr, "ProtectionService", &services), true, &tr.t("choose")))
                    (Field { name: "referredOn", label: tr.t("field-referred-on"), hint: None, value: if form.raw("referredOn").is_empty() { &today } else { form.raw("referredOn") }, errors }.input("date", true))
                    (Field { name: "provider", label: tr.t("field-provider"), hint: Some(tr.t("hint-provider")), value: form.raw("provider"), errors }.input("text", false))
                    button type="submit" { (tr.t("save")) }
                }
            }
        }
    }
}

/// "Show identity": the read is recorded (who, when, purpose) by the use case before the
/// page shows it; the page is never cached.
pub async fn show_identity(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let app = &ctx.state.app;
    let view = match app.case(&caller, id).await {
        Ok(Some(v)) => v,
        Ok(None) | Err(ApiError::Forbidden(_)) => return layout::not_found(&ctx),
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let fields: Vec<String> =
        ["fullName", "dateOfBirth", "contact", "documentNumber", "narrative"].iter().map(|s| s.to_string()).collect();
    let mut errors = Errors::default();
    let Some(purpose) = errors.required(ctx.tr, &form, "purpose") else {
        return render(&ctx, id, Extra { errors, section: "identity", ..Default::default() }, false).await;
    };
    match app.read_identity(&caller, &view, &fields, Some(purpose)).await {
        Ok(read) => render(&ctx, id, Extra { identity: Some(read), ..Default::default() }, false).await,
        Err(ApiError::Forbidden(_)) => {
            errors.add("purpose", ctx.t("err-identity-forbidden"));
            render(&ctx, id, Extra { errors, section: "identity", ..Default::default() }, false).await
        }
        Err(e) => {
            errors.add("purpose", layout::explain(ctx.tr, &e));
            render(&ctx, id, Extra { errors, section: "identity", ..Default::default() }, false).await
        }
    }
}

/// Runs a case form: CSRF, parsing (`parse` fills `Errors` in the user's language), the use
/// case once per form render, then back to the case page; on a refusal the page comes back
/// with the form as typed and the reason.
pub async fn case_form<F, Fut>(ctx: Ctx, case_id: &str, form: Form, section: &str, fields: &[&str], run: F) -> Response
where
    F: FnOnce(&mut Errors) -> Option<Fut>,
    Fut: std::future::Future<Output = Result<(), ApiError>>,
{
    let Some(id) = parse_case_id(case_id) else { return layout::not_found(&ctx) };
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut errors = Errors::default();
    let fut = run(&mut errors);
    let Some(fut) = fut.filter(|_| errors.is_empty()) else {
        return render(&ctx, id, Extra { errors, form: Some(&form), section, ..Default::default() }, false).await;
    };
    let next = format!("/app/cases/{id}?saved=1");
    match ctx.once(&caller, &form, async { fut.await.map(|_| next) }).await {
        Ok(r) => r,
        Err(ApiError::Forbidden(_) | ApiError::NotFound(_)) => layout::not_found(&ctx),
        Err(e) => {
            let field = layout::field_of(&e, fields).unwrap_or_else(|| fields.first().unwrap_or(&"").to_string());
            errors.add(&field, layout::explain(ctx.tr, &e));
            render(&ctx, id, Extra { errors, form: Some(&form), section, ..Default::default() }, false).await
        }
    }
}

pub async fn consent(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let (tr, app) = (ctx.tr, ctx.state.app.clone());
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = parse_case_id(&case_id).unwrap_or_default();
    let f = form.clone();
    case_form(ctx, &case_id, form, "consent", &["scopes", "on", "action"], move |errors| {
        let action = errors.required(tr, &f, "action").map(str::to_string);
        let scopes: Vec<ConsentScope> = f.all("scopes").iter().filter_map(|s| s.parse().ok()).collect();
        if scopes.is_empty() {
            errors.add("scopes", tr.t("err-choose-one"));
        }
        let on = errors.date(tr, &f, "on", true);
        let (action, on) = (action?, on?);
        Some(async move {
            match action.as_str() {
                "withdraw" => app.withdraw_consent(&caller, id, scopes, on).await.map(|_| ()),
                _ => app.give_consent(&caller, id, scopes, on).await.map(|_| ()),
            }
        })
    })
    .await
}

pub async fn referral(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let (tr, app) = (ctx.tr, ctx.state.app.clone());
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = parse_case_id(&case_id).unwrap_or_default();
    let f = form.clone();
    case_form(ctx, &case_id, form, "referral", &["service", "referredOn", "provider"], move |errors| {
        let service: Option<ProtectionService> = errors.label(tr, &f, "service", true);
        let on = errors.date(tr, &f, "referredOn", true);
        let provider = f.get("provider").map(str::to_string);
        let (service, on) = (service?, on?);
        Some(async move { app.refer_to_service(&caller, id, service, on, provider).await.map(|_| ()) })
    })
    .await
}
