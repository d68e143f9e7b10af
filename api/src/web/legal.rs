//! The lawyer's screens: my assignments (pending first), accepting or declining with a
//! reason, and on the case page only the next steps the case allows, as forms: file a police
//! report, the registered offence (from the catalogue, in the user's language, only articles
//! in force on the chosen date), a refusal to register, a reclassification, the investigation
//! outcome, the verdict, legal actions with sealed notes, closing.

use super::cases::{case_form, case_table, parse_case_id};
use super::forms::{self, hidden, Errors, Field, Form};
use super::i18n::{Lang, Tr};
use super::layout::{self, page};
use super::proceedings;
use super::session::Ctx;
use crate::app::cases::{
    CaseListFilter, InvestigationOutcomeInput, LegalActionInput, PoliceReportInput, ReclassificationInput,
    RefusalInput, RegistrationInput, VerdictInput,
};
use crate::app::Caller;
use crate::error::ApiError;
use axum::extract::Path;
use axum::response::Response;
use chrono::NaiveDate;
use domain::values::{self as v, InvestigationOutcome};
use maud::{html, Markup};
use projections::model::{CaseView, ReportView};
use projections::store::OffenseRow;
use std::sync::Arc;
use uuid::Uuid;

/// An offence's title in the user's language: the catalogue's own, else ours.
pub fn offense_title(tr: Tr, o: &OffenseRow) -> String {
    let id = format!("offense-{}", o.code);
    if tr.has(&id) {
        return tr.t(&id);
    }
    match tr.lang() {
        Lang::Ru => o.title_ru.clone(),
        Lang::Ky => o.title_ky.clone(),
        Lang::En => None,
    }
    .unwrap_or_else(|| o.title_en.clone())
}

fn offense_options(tr: Tr, catalogue: &[OffenseRow]) -> Markup {
    html! {
        @for (edition, label) in [("2021", "edition-2021"), ("2017", "edition-2017"), ("1997", "edition-1997")] {
            optgroup label=(tr.t(label)) {
                @for o in catalogue.iter().filter(|o| !o.retired && o.edition == edition) {
                    option value=(o.code) { (tr.t_args("article", &[("article", &o.article)])) " — " (offense_title(tr, o)) }
                }
            }
        }
    }
}

fn offense_select(
    tr: Tr,
    catalogue: &[OffenseRow],
    name: &str,
    value: &str,
    errors: &Errors,
    required: bool,
) -> Markup {
    html! {
        label for=(name) { (tr.t("field-offense")) }
        span.hint id={ (name) "-hint" } { (tr.t("hint-offense")) }
        @if let Some(e) = errors.of(name) { span.field-error id={ (name) "-error" } { (e) } }
        select id=(name) name=(name) required[required] aria-describedby={ (name) "-hint" } aria-invalid=[errors.of(name).map(|_| "true")] {
            option value="" selected[value.is_empty()] { (tr.t("choose")) }
            (offense_options(tr, catalogue))
        }
    }
}

/// `/app/assignments`: the lawyer's cases, those waiting for an answer first.
pub async fn assignments(ctx: Ctx) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let cases = match ctx.state.app.cases(&caller, CaseListFilter::default(), 100, None).await {
        Ok(p) => p.cases,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let pending: Vec<&CaseView> =
        cases.iter().filter(|c| c.assignment.as_ref().is_some_and(|a| a.accepted_on.is_none())).collect();
    let active: Vec<&CaseView> = cases
        .iter()
        .filter(|c| c.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some()) && c.closed.is_none())
        .collect();
    let due = match ctx.state.app.deadlines(&caller, None, Some(7)).await {
        Ok(d) => d,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let no_rules = ctx.state.app.deadline_rules_state().await.map(|r| r.in_force().is_empty()).unwrap_or(false);
    let body = html! {
        (proceedings::due_this_week(tr, &due, no_rules))
        section.card aria-labelledby="pending-h" {
            h2 #pending-h { (tr.t("assignments-pending")) }
            (case_table(tr, &pending))
        }
        section.card aria-labelledby="active-h" {
            h2 #active-h { (tr.t("assignments-active")) }
            (case_table(tr, &active))
        }
    };
    page(&ctx, &tr.t("assignments-title"), body)
}

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// The lawyer's part of the case page: the next steps, as forms.
pub async fn lawyer_section(ctx: &Ctx, view: &CaseView, section: &str, form: &Form, errors: &Errors) -> Markup {
    let tr = ctx.tr;
    let Some(s) = &ctx.session else { return html! {} };
    let Some(a) = &view.assignment else { return html! {} };
    if Some(a.lawyer_id) != s.principal.lawyer_id || view.closed.is_some() {
        return html! {};
    }
    let empty = Errors::default();
    let blank = Form::default();
    let errs = |name: &str| if section == name { errors } else { &empty };
    let vals = |name: &str| if section == name { form } else { &blank };
    let post = |action: &str| format!("/app/cases/{}/{action}", view.id);
    let csrf = ctx.csrf();
    if a.accepted_on.is_none() {
        return html! {
            section.card aria-labelledby="answer-h" {
                h2 #answer-h { (tr.t("answer-title")) }
                p { (tr.t("answer-explain")) }
                form method="post" action=(post("accept")) { (hidden(&csrf)) button type="submit" { (tr.t("accept")) } }
                h3 { (tr.t("decline")) }
                (errs("decline").summary(tr))
                form method="post" action=(post("decline")) novalidate {
                    (hidden(&csrf))
                    (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-decline")), value: vals("decline").raw("reason"), errors: errs("decline") }.textarea())
                    button.danger type="submit" { (tr.t("decline")) }
                }
            }
        };
    }
    let catalogue: Arc<Vec<OffenseRow>> = ctx.state.app.offenses().await.unwrap_or_default();
    let kinds: Vec<&str> = v::LegalActionKind::ALL.iter().map(|k| k.as_str()).collect();
    let authorities: Vec<&str> = v::Authority::ALL.iter().map(|k| k.as_str()).collect();
    let outcomes: Vec<&str> = v::InvestigationOutcome::ALL.iter().map(|k| k.as_str()).collect();
    let verdicts: Vec<&str> = v::VerdictOutcome::ALL.iter().map(|k| k.as_str()).collect();
    let date_field = |sec: &str, name: &'static str, label: &str| {
        let f = vals(sec);
        let value = if f.raw(name).is_empty() { today() } else { f.raw(name).to_string() };
        html! { (Field { name, label: tr.t(label), hint: None, value: &value, errors: errs(sec) }.input("date", true)) }
    };
    let court = proceedings::Page {
        tr,
        case_id: view.id,
        csrf: csrf.clone(),
        today: ctx.state.app.clock.today(),
        catalogue: &catalogue,
        section,
        form,
        errors,
    };
    let report_forms = |r: &ReportView| -> Markup {
        let rid = r.id.to_string();
        let key = |k: &str| format!("{k}-{rid}");
        let sec_reg = key("registration");
        let sec_ref = key("refusal");
        let sec_recl = key("reclassification");
        let sec_out = key("outcome");
        let sec_ver = key("verdict");
        let in_court = r.investigation_outcome() == Some(InvestigationOutcome::SentToCourt);
        html! {
            article.card aria-labelledby={ "report-" (rid) } {
                h3 id={ "report-" (rid) } { (tr.t_args("report-title", &[("unit", &r.police_unit), ("date", &tr.date(r.filed_on))])) }
                dl.facts {
                    @if let Some(n) = &r.reference_number { dt { (tr.t("field-reference-number")) } dd { (n) } }
                    dt { (tr.t("field-offense")) }
                    dd { (r.current.as_ref().map(|o| catalogue.iter().find(|c| c.code == o.code).map(|c| offense_title(tr, c)).unwrap_or_else(|| o.code.clone())).unwrap_or_else(|| tr.t("not-registered"))) }
                    @if let Some((on, reason)) = &r.refused { dt { (tr.t("refused-on")) } dd { (tr.date(*on)) ": " (reason) } }
                    @if let Some(o) = r.outcomes.last() { dt { (tr.t("field-outcome")) } dd { (tr.label("InvestigationOutcome", o.outcome.as_str())) " (" (tr.date(o.decided_on)) ")" } }
                    @if let Some(vd) = &r.verdict { dt { (tr.t("verdict")) } dd { (tr.label("VerdictOutcome", vd.outcome.as_str())) " (" (tr.date(vd.decided_on)) ")" } }
                }
                (proceedings::report_part(&court, r))
                @if r.verdict.is_none() {
                    @if r.registration.is_none() && r.refused.is_none() {
                        h4 { (tr.t("registration-title")) }
                        (errs(&sec_reg).summary(tr))
                        form method="post" action=(post("registration")) novalidate {
                            (hidden(&csrf)) input type="hidden" name="reportId" value=(rid);
                            (offense_select(tr, &catalogue, "offenseCode", vals(&sec_reg).raw("offenseCode"), errs(&sec_reg), true))
                            (date_field(&sec_reg, "registeredOn", "field-registered-on"))
                            (Field { name: "registryNumber", label: tr.t("field-registry-number"), hint: Some(tr.t("hint-optional")), value: vals(&sec_reg).raw("registryNumber"), errors: errs(&sec_reg) }.input("text", false))
                            button type="submit" { (tr.t("save")) }
                        }
                        h4 { (tr.t("refusal-title")) }
                        (errs(&sec_ref).summary(tr))
                        form method="post" action=(post("refusal")) novalidate {
                            (hidden(&csrf)) input type="hidden" name="reportId" value=(rid);
                            (date_field(&sec_ref, "decidedOn", "field-decided-on"))
                            (Field { name: "reason", label: tr.t("field-reason"), hint: None, value: vals(&sec_ref).raw("reason"), errors: errs(&sec_ref) }.textarea())
                            button type="submit" { (tr.t("save")) }
                        }
                    }
                    @if r.registration.is_some() && !in_court {
                        h4 { (tr.t("reclassification-title")) }
                        (errs(&sec_recl).summary(tr))
                        form method="post" action=(post("reclassification")) novalidate {
                            (hidden(&csrf)) input type="hidden" name="reportId" value=(rid);
                            (offense_select(tr, &catalogue, "offenseCode", vals(&sec_recl).raw("offenseCode"), errs(&sec_recl), true))
                            (date_field(&sec_recl, "decidedOn", "field-decided-on"))
                            (Field { name: "decidedBy", label: tr.t("field-decided-by"), hint: None, value: vals(&sec_recl).raw("decidedBy"), errors: errs(&sec_recl) }.select(&forms::options(tr, "Authority", &authorities), true, &tr.t("choose")))
                            (Field { name: "reason", label: tr.t("field-reason"), hint: None, value: vals(&sec_recl).raw("reason"), errors: errs(&sec_recl) }.textarea())
                            button type="submit" { (tr.t("save")) }
                        }
                        h4 { (tr.t("outcome-title")) }
                        (errs(&sec_out).summary(tr))
                        form method="post" action=(post("outcome")) novalidate {
                            (hidden(&csrf)) input type="hidden" name="reportId" value=(rid);
                            (Field { name: "outcome", label: tr.t("field-outcome"), hint: None, value: vals(&sec_out).raw("outcome"), errors: errs(&sec_out) }.select(&forms::options(tr, "InvestigationOutcome", &outcomes), true, &tr.t("choose")))
                            (date_field(&sec_out, "decidedOn", "field-decided-on"))
                            button type="submit" { (tr.t("save")) }
                        }
                    }
                    @if in_court {
                        h4 { (tr.t("verdict-title")) }
                        (errs(&sec_ver).summary(tr))
                        form method="post" action=(post("verdict")) novalidate {
                            (hidden(&csrf)) input type="hidden" name="reportId" value=(rid);
                            (Field { name: "outcome", label: tr.t("field-verdict"), hint: None, value: vals(&sec_ver).raw("outcome"), errors: errs(&sec_ver) }.select(&forms::options(tr, "VerdictOutcome", &verdicts), true, &tr.t("choose")))
                            (date_field(&sec_ver, "decidedOn", "field-decided-on"))
                            (Field { name: "sentenceMonths", label: tr.t("field-sentence-months"), hint: Some(tr.t("hint-optional")), value: vals(&sec_ver).raw("sentenceMonths"), errors: errs(&sec_ver) }.input("number", false))
                            label.check for={ "compensationAwarded-" (rid) } {
                                input type="checkbox" id={ "compensationAwarded-" (rid) } name="compensationAwarded" value="true";
                                span { (tr.t("field-compensation")) }
                            }
                            button type="submit" { (tr.t("save")) }
                        }
                    }
                }
            }
        }
    };
    html! {
        @if let Some(h) = proceedings::next_hearing(view, court.today) {
            div.notice.next-hearing role="status" { strong { (tr.t("next-hearing")) ": " } (proceedings::hearing_line(tr, h)) }
        }
        section.card aria-labelledby="legal-h" {
            h2 #legal-h { (tr.t("legal-title")) }
            @for r in &view.reports { (report_forms(r)) }
            @if view.consent.report_to_police {
                h3 { (tr.t("police-report-title")) }
                (errs("police-report").summary(tr))
                form method="post" action=(post("police-report")) novalidate {
                    (hidden(&csrf))
                    (date_field("police-report", "filedOn", "field-filed-on"))
                    (Field { name: "policeUnit", label: tr.t("field-police-unit"), hint: None, value: vals("police-report").raw("policeUnit"), errors: errs("police-report") }.input("text", true))
                    (Field { name: "referenceNumber", label: tr.t("field-reference-number"), hint: Some(tr.t("hint-optional")), value: vals("police-report").raw("referenceNumber"), errors: errs("police-report") }.input("text", false))
                    button type="submit" { (tr.t("police-report-file")) }
                }
            } @else {
                p { (tr.t("err-no-consent-police")) }
            }
            h3 { (tr.t("legal-action-title")) }
            (errs("legal-action").summary(tr))
            form method="post" action=(post("legal-action")) novalidate {
                (hidden(&csrf))
                (Field { name: "kind", label: tr.t("field-action-kind"), hint: None, value: vals("legal-action").raw("kind"), errors: errs("legal-action") }.select(&forms::options(tr, "LegalActionKind", &kinds), true, &tr.t("choose")))
                (date_field("legal-action", "takenOn", "field-taken-on"))
                (Field { name: "note", label: tr.t("field-note"), hint: Some(tr.t("hint-note")), value: vals("legal-action").raw("note"), errors: errs("legal-action") }.textarea())
                button type="submit" { (tr.t("save")) }
            }
            h3 { (tr.t("close-title")) }
            (errs("close").summary(tr))
            form method="post" action=(post("close")) novalidate {
                (hidden(&csrf))
                (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-close")), value: vals("close").raw("reason"), errors: errs("close") }.textarea())
                button.secondary type="submit" { (tr.t("close-case")) }
            }
            ul { @for la in &view.legal_actions { li { (tr.date(la.taken_on)) " — " (tr.label("LegalActionKind", la.kind.as_str())) @if la.has_note { " · " (tr.t("note-sealed")) } } } }
        }
    }
}

fn report_id(errors: &mut Errors, tr: Tr, form: &Form) -> Option<Uuid> {
    let id = form.get("reportId").and_then(|s| Uuid::parse_str(s).ok());
    if id.is_none() {
        errors.add("reportId", tr.t("err-rule"));
    }
    id
}

/// Whether an article may be applied by a decision of `on`: its code applied by then (the
/// domain's era rule, `domain::offense::edition_of`). An article of a repealed code stays
/// usable: acts committed while it was in force are judged under it.
fn applicable(code: &str, on: NaiveDate) -> bool {
    domain::offense::edition_of(code).is_none_or(|e| e.applies_from() <= on)
}

/// Checks that an offence of the catalogue could be applied on `on`.
async fn in_force(app: &crate::app::App, errors: &mut Errors, tr: Tr, code: &str, on: NaiveDate) {
    match app.offense(code).await {
        Ok(Some(o)) if applicable(&o.code, on) => {}
        Ok(Some(_)) => errors.add("offenseCode", tr.t("err-offense-not-in-force")),
        _ => errors.add("offenseCode", tr.t("err-offense-code")),
    }
}

pub(super) type Run = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>> + Send>>;

/// Every lawyer form of the case page posts here: `/app/cases/{caseId}/{action}`.
pub async fn act(ctx: Ctx, Path((case_id, action)): Path<(String, String)>, form: Form) -> Response {
    let tr = ctx.tr;
    let app = ctx.state.app.clone();
    let caller: Caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    let rid = form.get("reportId").unwrap_or("").to_string();
    let section = match action.as_str() {
        "registration" | "refusal" | "reclassification" | "outcome" | "verdict" => format!("{action}-{rid}"),
        a if proceedings::ACTIONS.contains(&a) => proceedings::section(a, &form),
        _ => action.clone(),
    };
    // The offence must have been in force on the date of the decision.
    let mut pre = Errors::default();
    let checked_here = ["registration", "reclassification", "verdict"].contains(&action.as_str());
    if let (true, Some(code), Some(date)) = (
        checked_here,
        form.get("offenseCode"),
        form.get("registeredOn").or(form.get("decidedOn")).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
    ) {
        in_force(&app, &mut pre, tr, code, date).await;
    }
    let f = form.clone();
    let fields: Vec<&str> = [
        "reason",
        "filedOn",
        "policeUnit",
        "referenceNumber",
        "offenseCode",
        "registeredOn",
        "registryNumber",
        "decidedOn",
        "decidedBy",
        "outcome",
        "sentenceMonths",
        "kind",
        "takenOn",
        "note",
    ]
    .iter()
    .chain(proceedings::FIELDS)
    .copied()
    .collect::<Vec<_>>();
    case_form(ctx, &case_id, form, &section.clone(), &fields, move |errors| -> Option<Run> {
        errors.0.extend(pre.0);
        let c = caller;
        let run: Run = match action.as_str() {
            "accept" => Box::pin(async move { app.accept_assignment(&c, id, None).await.map(|_| ()) }),
            "decline" => {
                let reason = errors.required(tr, &f, "reason")?.to_string();
                Box::pin(async move { app.decline_assignment(&c, id, &reason, None).await.map(|_| ()) })
            }
            "police-report" => {
                let filed_on = errors.date(tr, &f, "filedOn", true);
                let unit = errors.required(tr, &f, "policeUnit").map(str::to_string);
                let input = PoliceReportInput {
                    initiated_by: Default::default(),
                    report_id: None,
                    filed_on: filed_on?,
                    police_unit: unit?,
                    reference_number: f.get("referenceNumber").map(str::to_string),
                };
                Box::pin(async move { app.file_police_report(&c, id, input).await.map(|_| ()) })
            }
            "registration" => {
                let report_id = report_id(errors, tr, &f);
                let code = errors.required(tr, &f, "offenseCode").map(str::to_string);
                let on = errors.date(tr, &f, "registeredOn", true);
                let input = RegistrationInput {
                    decided_by: Default::default(),
                    report_id: report_id?,
                    offense_code: code?,
                    registered_on: on?,
                    registry_number: f.get("registryNumber").map(str::to_string),
                };
                Box::pin(async move { app.record_offense_registration(&c, id, input).await.map(|_| ()) })
            }
            "refusal" => {
                let report_id = report_id(errors, tr, &f);
                let on = errors.date(tr, &f, "decidedOn", true);
                let reason = errors.required(tr, &f, "reason").map(str::to_string);
                let input = RefusalInput {
                    decided_by: Default::default(),
                    report_id: report_id?,
                    decided_on: on?,
                    reason: reason?,
                };
                Box::pin(async move { app.record_registration_refused(&c, id, input).await.map(|_| ()) })
            }
            "reclassification" => {
                let report_id = report_id(errors, tr, &f);
                let code = errors.required(tr, &f, "offenseCode").map(str::to_string);
                let on = errors.date(tr, &f, "decidedOn", true);
                let by: Option<v::Authority> = errors.label(tr, &f, "decidedBy", true);
                let reason = errors.required(tr, &f, "reason").map(str::to_string);
                let input = ReclassificationInput {
                    report_id: report_id?,
                    offense_code: code?,
                    decided_on: on?,
                    decided_by: by?,
                    reason: reason?,
                };
                Box::pin(async move { app.reclassify_offense(&c, id, input).await.map(|_| ()) })
            }
            "outcome" => {
                let report_id = report_id(errors, tr, &f);
                let outcome: Option<v::InvestigationOutcome> = errors.label(tr, &f, "outcome", true);
                let on = errors.date(tr, &f, "decidedOn", true);
                let input = InvestigationOutcomeInput {
                    decided_by: Default::default(),
                    report_id: report_id?,
                    outcome: outcome?,
                    decided_on: on?,
                    note: None,
                };
                Box::pin(async move { app.record_investigation_outcome(&c, id, input).await.map(|_| ()) })
            }
            "verdict" => {
                let report_id = report_id(errors, tr, &f);
                let outcome: Option<v::VerdictOutcome> = errors.label(tr, &f, "outcome", true);
                let on = errors.date(tr, &f, "decidedOn", true);
                let months = errors.number(tr, &f, "sentenceMonths");
                // An appeal or cassation instance's verdict names its instance.
                let instance: Option<v::CourtInstance> = errors.label(tr, &f, "instance", false);
                let input = VerdictInput {
                    instance,
                    report_id: report_id?,
                    outcome: outcome?,
                    offense_code: None,
                    decided_on: on?,
                    sentence_months: months,
                    compensation_awarded: Some(f.checked("compensationAwarded")),
                };
                Box::pin(async move { app.record_verdict(&c, id, input).await.map(|_| ()) })
            }
            "legal-action" => {
                let kind: Option<v::LegalActionKind> = errors.label(tr, &f, "kind", true);
                let on = errors.date(tr, &f, "takenOn", true);
                let input = LegalActionInput { kind: kind?, taken_on: on?, note: f.get("note").map(str::to_string) };
                Box::pin(async move { app.record_legal_action(&c, id, input).await.map(|_| ()) })
            }
            "close" => {
                let reason = errors.required(tr, &f, "reason")?.to_string();
                Box::pin(async move { app.close_case(&c, id, &reason, None).await.map(|_| ()) })
            }
            a if proceedings::ACTIONS.contains(&a) => return proceedings::command(app, c, id, a, errors, tr, &f),
            _ => {
                errors.add("reason", tr.t("err-rule"));
                return None;
            }
        };
        Some(run)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_applies_from_its_codes_first_day_and_stays_usable_after_repeal() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        // The 2017 Code was in force from 1 January 2019 (docs/offense-catalogue.md).
        assert!(!applicable("2017-171", d(2018, 12, 31)));
        assert!(applicable("2017-171", d(2019, 1, 1)));
        // The 2021 Code: not before the code's own date, 28 October 2021.
        assert!(!applicable("2021-166", d(2018, 5, 3)));
        assert!(applicable("2021-166", d(2021, 10, 28)));
        // The 1997 Code stays usable for acts committed while it was in force.
        assert!(applicable("1997-124", d(2020, 6, 1)));
        // An edition the catalogue does not know is not checked here.
        assert!(applicable("2030-1", d(2020, 6, 1)));
    }
}
