//! The coordinator's screens: the unassigned cases, the lawyer network (status, region,
//! languages, training, capacity, caseload), assigning and reassigning, registering a lawyer
//! and recording a training.

use super::cases::{self, case_form, case_table};
use super::forms::{self, hidden, Errors, Field, Form};
use super::layout::{self, page_status};
use super::session::Ctx;
use crate::access::Op;
use crate::app::cases::CaseListFilter;
use crate::app::lawyers::RegisterLawyerInput;
use crate::error::ApiError;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use domain::values::{self as v};
use maud::{html, Markup};
use projections::model::{CaseView, LawyerView};
use uuid::Uuid;

/// Lawyers with their active caseload.
async fn network(ctx: &Ctx) -> Result<Vec<(LawyerView, i64)>, ApiError> {
    let caller = ctx.caller().map_err(|_| ApiError::Unauthenticated)?;
    let app = &ctx.state.app;
    let mut out = vec![];
    for l in app.lawyers(&caller).await? {
        let load = app.active_caseload(l.id).await?;
        out.push((l, load));
    }
    Ok(out)
}

fn capacity(tr: super::i18n::Tr, l: &LawyerView, load: i64) -> String {
    match l.max_active_cases {
        Some(m) => tr.t_args("caseload-of", &[("load", &load.to_string()), ("max", &m.to_string())]),
        None => tr.t_args("caseload-open", &[("load", &load.to_string())]),
    }
}

fn network_table(ctx: &Ctx, lawyers: &[(LawyerView, i64)], with_training: bool) -> Markup {
    let tr = ctx.tr;
    let today = chrono::Utc::now().date_naive().to_string();
    html! {
        div.table-wrap { table {
            caption.skip { (tr.t("network-title")) }
            thead { tr {
                th scope="col" { (tr.t("field-full-name")) }
                th scope="col" { (tr.t("field-lawyer-status")) }
                th scope="col" { (tr.t("field-region")) }
                th scope="col" { (tr.t("field-languages")) }
                th scope="col" { (tr.t("trainings")) }
                th scope="col" { (tr.t("caseload")) }
            } }
            tbody { @for (l, load) in lawyers {
                tr {
                    td { (l.full_name) @if !l.active { " " span.badge { (tr.t("inactive")) } } }
                    td { (tr.label("LawyerStatus", l.status.as_str())) }
                    td { (tr.label("Region", l.region.as_str())) }
                    td { (l.languages.join(", ")) }
                    td {
                        @for t in &l.trainings { div { (t.course) " (" (tr.date(t.completed_on)) ")" } }
                        @if with_training {
                            details {
                                summary { (tr.t("training-record")) }
                                form method="post" action={ "/app/lawyers/" (l.id) "/training" } {
                                    (hidden(&ctx.csrf()))
                                    label for={ "course-" (l.id) } { (tr.t("field-course")) }
                                    input type="text" id={ "course-" (l.id) } name="course" required;
                                    label for={ "completedOn-" (l.id) } { (tr.t("field-completed-on")) }
                                    input type="date" id={ "completedOn-" (l.id) } name="completedOn" value=(today) required;
                                    button type="submit" { (tr.t("save")) }
                                }
                            }
                        }
                    }
                    td { (capacity(tr, l, *load)) }
                }
            } }
        } }
    }
}

/// `/app/coordinator`: cases waiting for a lawyer, and the network at a glance.
pub async fn coordinator(ctx: Ctx) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::AssignLawyer) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let filter = CaseListFilter { status: Some("AWAITING_LAWYER".into()), ..Default::default() };
    let waiting = match ctx.state.app.cases(&caller, filter, 100, None).await {
        Ok(p) => p.cases,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let lawyers = match network(&ctx).await {
        Ok(l) => l,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let body = html! {
        section.card aria-labelledby="waiting-h" {
            h2 #waiting-h { (tr.t("unassigned-title")) }
            p.hint { (tr.t("unassigned-hint")) }
            (case_table(tr, &waiting.iter().collect::<Vec<_>>()))
        }
        section.card aria-labelledby="network-h" {
            h2 #network-h { (tr.t("network-title")) }
            (network_table(&ctx, &lawyers, false))
            p { a href="/app/lawyers" { (tr.t("network-manage")) } }
        }
    };
    super::layout::page(&ctx, &tr.t("coordinator-title"), body)
}

/// The case page's assignment form (coordinator): only lawyers in service, with their load.
pub async fn assign_section(ctx: &Ctx, view: &CaseView, errors: &Errors) -> Markup {
    let tr = ctx.tr;
    if view.closed.is_some() || !view.consent.legal_aid {
        return html! {};
    }
    let lawyers = network(ctx).await.unwrap_or_default();
    let options: Vec<(String, String)> = lawyers
        .iter()
        .filter(|(l, _)| l.active)
        .filter(|(l, _)| view.assignment.as_ref().is_none_or(|a| a.lawyer_id != l.id))
        .map(|(l, load)| {
            (
                l.id.to_string(),
                format!("{} — {}, {}", l.full_name, tr.label("Region", l.region.as_str()), capacity(tr, l, *load)),
            )
        })
        .collect();
    let title = if view.assignment.is_some() { "reassign-title" } else { "assign-title" };
    html! {
        section.card aria-labelledby="assign-h" {
            h2 #assign-h { (tr.t(title)) }
            (errors.summary(tr))
            form method="post" action={ "/app/cases/" (view.id) "/assign" } novalidate {
                (hidden(&ctx.csrf()))
                (Field { name: "lawyerId", label: tr.t("field-lawyer"), hint: None, value: "", errors }.select(&options, true, &tr.t("choose")))
                button type="submit" { (tr.t(title)) }
            }
        }
    }
}

pub async fn assign(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let (tr, app) = (ctx.tr, ctx.state.app.clone());
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = cases::parse_case_id(&case_id).unwrap_or_default();
    let f = form.clone();
    case_form(ctx, &case_id, form, "assign", &["lawyerId"], move |errors| {
        let lawyer = errors.required(tr, &f, "lawyerId").and_then(|s| Uuid::parse_str(s).ok());
        if lawyer.is_none() && errors.is_empty() {
            errors.add("lawyerId", tr.t("err-choose"));
        }
        let lawyer = lawyer?;
        Some(async move { app.assign_lawyer(&caller, id, lawyer, None).await.map(|_| ()) })
    })
    .await
}

/// `/app/lawyers`: the network, registering a lawyer, recording trainings.
pub async fn lawyers(ctx: Ctx) -> Response {
    render_lawyers(&ctx, &Form::default(), &Errors::default()).await
}

async fn render_lawyers(ctx: &Ctx, form: &Form, errors: &Errors) -> Response {
    if let Err(r) = ctx.signed_in() {
        return r;
    }
    if !ctx.may(Op::RegisterLawyer) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let lawyers = match network(ctx).await {
        Ok(l) => l,
        Err(e) => return layout::error_page(ctx, &e),
    };
    let genders: Vec<&str> = v::Gender::ALL.iter().map(|g| g.as_str()).collect();
    let statuses: Vec<&str> = v::LawyerStatus::ALL.iter().map(|g| g.as_str()).collect();
    let regions: Vec<&str> = v::Region::ALL.iter().map(|g| g.as_str()).collect();
    let f = |name: &'static str, label: &str, hint: Option<&str>| Field {
        name,
        label: tr.t(label),
        hint: hint.map(|h| tr.t(h)),
        value: form.raw(name),
        errors,
    };
    let body = html! {
        section.card aria-labelledby="network-h" {
            h2 #network-h { (tr.t("network-title")) }
            (network_table(ctx, &lawyers, true))
        }
        section.card aria-labelledby="register-h" {
            h2 #register-h { (tr.t("register-lawyer")) }
            (errors.summary(tr))
            form method="post" action="/app/lawyers" novalidate {
                (hidden(&ctx.csrf()))
                (f("fullName", "field-full-name", None).input("text", true))
                (f("gender", "field-gender", None).select(&forms::options(tr, "Gender", &genders), true, &tr.t("choose")))
                (f("status", "field-lawyer-status", None).select(&forms::options(tr, "LawyerStatus", &statuses), true, &tr.t("choose")))
                (f("region", "field-region", None).select(&forms::options(tr, "Region", &regions), true, &tr.t("choose")))
                (f("languages", "field-languages", Some("hint-languages")).input("text", false))
                (f("licenseNumber", "field-license-number", Some("hint-optional")).input("text", false))
                button type="submit" { (tr.t("register-lawyer")) }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &tr.t("network-title"), body)
}

pub async fn register_lawyer(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let full_name = errors.required(tr, &form, "fullName").map(str::to_string);
    let gender: Option<v::Gender> = errors.label(tr, &form, "gender", true);
    let status: Option<v::LawyerStatus> = errors.label(tr, &form, "status", true);
    let region: Option<v::Region> = errors.label(tr, &form, "region", true);
    let (Some(full_name), Some(gender), Some(status), Some(region)) = (full_name, gender, status, region) else {
        return render_lawyers(&ctx, &form, &errors).await;
    };
    let languages = form
        .get("languages")
        .unwrap_or("")
        .split([',', ' '])
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let input = RegisterLawyerInput {
        lawyer_id: None,
        full_name,
        gender,
        status,
        region,
        languages,
        license_number: form.get("licenseNumber").map(str::to_string),
    };
    let app = ctx.state.app.clone();
    let run = async { app.register_lawyer(&caller, input).await.map(|_| "/app/lawyers".to_string()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e @ (ApiError::BadInput(_) | ApiError::Rule(_))) => {
            let field =
                layout::field_of(&e, &["fullName", "languages", "licenseNumber"]).unwrap_or_else(|| "fullName".into());
            errors.add(&field, layout::explain(tr, &e));
            render_lawyers(&ctx, &form, &errors).await
        }
        Err(e) => layout::error_page(&ctx, &e),
    }
}

pub async fn training(ctx: Ctx, Path(lawyer_id): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let Ok(id) = Uuid::parse_str(&lawyer_id) else { return layout::not_found(&ctx) };
    let mut errors = Errors::default();
    let course = errors.required(tr, &form, "course").map(str::to_string);
    let on = errors.date(tr, &form, "completedOn", true);
    let (Some(course), Some(on)) = (course, on) else { return render_lawyers(&ctx, &form, &errors).await };
    let app = ctx.state.app.clone();
    let run = async { app.record_lawyer_training(&caller, id, &course, on).await.map(|_| "/app/lawyers".to_string()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e @ (ApiError::BadInput(_) | ApiError::Rule(_))) => {
            errors.add("fullName", layout::explain(tr, &e));
            render_lawyers(&ctx, &form, &errors).await
        }
        Err(e) => layout::error_page(&ctx, &e),
    }
}
