//! The client's profile for the IOM data standard (HTCDS, docs/htcds.md) and a guardian's
//! consent for a minor, on the case page. Shown to the roles that work with the client
//! (intake worker, coordinator, lawyer: those who see the case at all), never on an
//! auditor's or an administrator's page; changed by those the policy lets record them
//! (`recordVictimProfile`, `recordGuardianConsent`). The profile form replaces the whole
//! profile, so it opens filled with what is recorded. Field names are the GraphQL inputs'.

use super::cases::case_form;
use super::forms::{self, hidden, Errors, Field, Form};
use super::i18n::Tr;
use super::session::Ctx;
use crate::access::{policy, Op};
use crate::app::cases::ProfileInput;
use axum::extract::Path;
use axum::response::Response;
use domain::case::{GuardianConsent, VictimProfile};
use domain::values::{self as v, AgeGroup, PlaceOfRecruitment, Role};
use maud::{html, Markup};
use projections::model::CaseView;

/// The profile form's fields, most specific first (for matching a refusal to its field).
const PROFILE_FIELDS: &[&str] = &[
    "placeOfRecruitment",
    "primaryLanguage",
    "recruitment",
    "meansOfControl",
    "recruiterRelationship",
    "industry",
    "migrationStatus",
    "recordedOn",
];

const GUARDIAN_FIELDS: &[&str] = &["guardianGivenOn", "guardianGivenBy"];

/// The recorded profile as the form's values.
fn recorded(p: &VictimProfile) -> Form {
    let mut pairs: Vec<(String, String)> = vec![];
    let mut put = |k: &str, v: &str| pairs.push((k.to_string(), v.to_string()));
    p.recruitment.iter().for_each(|x| put("recruitment", x.as_str()));
    p.means_of_control.iter().for_each(|x| put("meansOfControl", x.as_str()));
    if let Some(x) = p.recruiter_relationship {
        put("recruiterRelationship", x.as_str());
    }
    if let Some(x) = p.industry {
        put("industry", x.as_str());
    }
    if let Some(x) = &p.place_of_recruitment {
        put("placeOfRecruitment", &x.label());
    }
    if let Some(x) = p.migration_status {
        put("migrationStatus", x.as_str());
    }
    if let Some(x) = &p.primary_language {
        put("primaryLanguage", x.as_str());
    }
    Form::from(pairs)
}

/// The profile and the guardian's consent, with their forms for those who may use them.
/// `section`, `form` and `errors` are those of a form that came back with a problem.
pub fn section(ctx: &Ctx, view: &CaseView, section: &str, form: &Form, errors: &Errors) -> Markup {
    let Some(s) = &ctx.session else { return html! {} };
    let principal = &s.principal;
    if !principal.role.reads_identity() {
        return html! {};
    }
    let tr = ctx.tr;
    let scope = crate::app::scope_of(view);
    // A lawyer acts for the client only once they accepted the case (the domain's rule).
    let acting = principal.role != Role::Lawyer || view.assignment.as_ref().is_some_and(|a| a.accepted_on.is_some());
    let open = view.closed.is_none() && acting;
    let may_profile = open && policy::allowed(principal, Op::RecordVictimProfile, Some(&scope));
    let minor = view.client.age_group == AgeGroup::Minor;
    let may_guardian = open && minor && policy::allowed(principal, Op::ManageConsent, Some(&scope));
    let p = &view.profile;
    let labels = |kind: &str, all: Vec<&str>| all.iter().map(|l| tr.label(kind, l)).collect::<Vec<_>>().join(", ");
    let place = |x: &PlaceOfRecruitment| match x {
        PlaceOfRecruitment::Region(r) => tr.label("Region", r.as_str()),
        PlaceOfRecruitment::Country(c) => c.as_str().to_string(),
    };
    let none = Errors::default();
    let (pf, pe) = if section == "profile" { (form.clone(), errors) } else { (recorded(p), &none) };
    let (gf, ge) = if section == "guardian-consent" { (form.clone(), errors) } else { (Form::default(), &none) };
    let f = |form: &'static str, name: &'static str, label: &str, hint: Option<&str>| {
        let (values, errs) = if form == "profile" { (&pf, pe) } else { (&gf, ge) };
        Field { name, label: tr.t(label), hint: hint.map(|h| tr.t(h)), value: values.raw(name), errors: errs }
    };
    let recruitment: Vec<&str> = v::RecruitmentMethod::ALL.iter().map(|x| x.as_str()).collect();
    let means: Vec<&str> = v::MeansOfControl::ALL.iter().map(|x| x.as_str()).collect();
    let relationships: Vec<&str> = v::RecruiterRelationship::ALL.iter().map(|x| x.as_str()).collect();
    let migration: Vec<&str> = v::MigrationStatus::ALL.iter().map(|x| x.as_str()).collect();
    let guardians: Vec<&str> = v::GuardianKind::ALL.iter().map(|x| x.as_str()).collect();
    let sections: Vec<(String, String)> =
        v::IsicSection::ALL.iter().map(|x| (x.as_str().to_string(), x.as_str().to_string())).collect();
    let today = ctx.state.app.clock.today().to_string();
    // A date field opens on today; a form that came back keeps what was typed.
    let recorded_on = if section == "profile" { pf.raw("recordedOn").to_string() } else { today.clone() };
    let given_on = if section == "guardian-consent" { gf.raw("guardianGivenOn").to_string() } else { today };
    let post = |action: &str| format!("/app/cases/{}/{action}", view.id);
    html! {
        section.card aria-labelledby="profile-h" {
            h2 #profile-h { (tr.t("profile-title")) }
            @if p.is_empty() {
                p { (tr.t("profile-none")) }
            } @else {
                dl.facts {
                    @if !p.recruitment.is_empty() { dt { (tr.t("field-recruitment")) } dd { (labels("RecruitmentMethod", p.recruitment.iter().map(|x| x.as_str()).collect())) } }
                    @if !p.means_of_control.is_empty() { dt { (tr.t("field-means-of-control")) } dd { (labels("MeansOfControl", p.means_of_control.iter().map(|x| x.as_str()).collect())) } }
                    @if let Some(x) = p.recruiter_relationship { dt { (tr.t("field-recruiter-relationship")) } dd { (tr.label("RecruiterRelationship", x.as_str())) } }
                    @if let Some(x) = p.industry { dt { (tr.t("field-industry")) } dd { (x.as_str()) } }
                    @if let Some(x) = &p.place_of_recruitment { dt { (tr.t("field-place-of-recruitment")) } dd { (place(x)) } }
                    @if let Some(x) = p.migration_status { dt { (tr.t("field-migration-status")) } dd { (tr.label("MigrationStatus", x.as_str())) } }
                    @if let Some(x) = &p.primary_language { dt { (tr.t("field-primary-language")) } dd { (language_name(tr, x.as_str())) } }
                    @if let Some(on) = view.profile_recorded_on { dt { (tr.t("profile-recorded-on")) } dd { (tr.date(on)) } }
                }
            }
            @if may_profile {
                details #profile-form open[section == "profile"] {
                    summary { (tr.t("profile-change")) }
                    p.hint { (tr.t("htcds-plain")) " " (tr.t("profile-replaces")) }
                    (pe.summary(tr))
                    form method="post" action=(post("profile")) novalidate {
                        (hidden(&ctx.csrf()))
                        (forms::checkboxes("recruitment", &tr.t("field-recruitment"), &forms::options(tr, "RecruitmentMethod", &recruitment), &pf.all("recruitment"), pe))
                        (forms::checkboxes("meansOfControl", &tr.t("field-means-of-control"), &forms::options(tr, "MeansOfControl", &means), &pf.all("meansOfControl"), pe))
                        (f("profile", "recruiterRelationship", "field-recruiter-relationship", None).select(&forms::options(tr, "RecruiterRelationship", &relationships), false, &tr.t("unknown")))
                        (f("profile", "industry", "field-industry", Some("hint-industry")).select(&sections, false, &tr.t("unknown")))
                        (f("profile", "placeOfRecruitment", "field-place-of-recruitment", Some("hint-place-of-recruitment")).input("text", false))
                        (f("profile", "migrationStatus", "field-migration-status", None).select(&forms::options(tr, "MigrationStatus", &migration), false, &tr.t("unknown")))
                        (f("profile", "primaryLanguage", "field-primary-language", Some("hint-primary-language")).input("text", false))
                        (Field { value: &recorded_on, ..f("profile", "recordedOn", "field-profile-recorded-on", None) }.input("date", true))
                        button type="submit" { (tr.t("save")) }
                    }
                }
            }
        }
        @if minor || view.guardian_consent.is_some() {
            section.card aria-labelledby="guardian-h" {
                h2 #guardian-h { (tr.t("guardian-consent-title")) }
                @match view.guardian_consent {
                    Some(GuardianConsent { given_by, given_on }) => p { strong { (tr.t_args("guardian-consent-given", &[("by", &tr.label("GuardianKind", given_by.as_str())), ("date", &tr.date(given_on))])) } },
                    None => p { (tr.t("guardian-consent-none")) },
                }
                @if may_guardian {
                    details #guardian-form open[section == "guardian-consent"] {
                        summary { (tr.t("guardian-consent-record")) }
                        p.hint { (tr.t("guardian-consent-plain")) }
                        (ge.summary(tr))
                        form method="post" action=(post("guardian-consent")) novalidate {
                            (hidden(&ctx.csrf()))
                            (f("guardian", "guardianGivenBy", "field-guardian-given-by", None).select(&forms::options(tr, "GuardianKind", &guardians), true, &tr.t("choose")))
                            (Field { value: &given_on, ..f("guardian", "guardianGivenOn", "field-guardian-given-on", None) }.input("date", true))
                            button type="submit" { (tr.t("save")) }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /app/cases/{caseId}/profile`: records the whole profile (`recordVictimProfile`).
pub async fn record_profile(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let (tr, app) = (ctx.tr, ctx.state.app.clone());
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = super::cases::parse_case_id(&case_id).unwrap_or_default();
    let f = form.clone();
    case_form(ctx, &case_id, form, "profile", PROFILE_FIELDS, move |errors| {
        let list = |name: &str| -> Vec<String> { f.all(name).iter().map(|s| s.to_string()).collect() };
        let recruitment = list("recruitment");
        let means = list("meansOfControl");
        let profile = ProfileInput {
            recruitment: recruitment.iter().filter_map(|s| s.parse().ok()).collect(),
            means_of_control: means.iter().filter_map(|s| s.parse().ok()).collect(),
            recruiter_relationship: errors.label(tr, &f, "recruiterRelationship", false),
            industry: errors.label(tr, &f, "industry", false),
            place_of_recruitment: f.get("placeOfRecruitment").map(str::to_string),
            migration_status: errors.label(tr, &f, "migrationStatus", false),
            primary_language: f.get("primaryLanguage").map(str::to_string),
        };
        if profile.recruitment.len() != recruitment.len() {
            errors.add("recruitment", tr.t("err-choose"));
        }
        if profile.means_of_control.len() != means.len() {
            errors.add("meansOfControl", tr.t("err-choose"));
        }
        let on = errors.date(tr, &f, "recordedOn", true)?;
        Some(async move { app.record_victim_profile(&caller, id, profile, Some(on)).await.map(|_| ()) })
    })
    .await
}

/// `POST /app/cases/{caseId}/guardian-consent`: a parent's, guardian's or representative's
/// consent for a minor client (`recordGuardianConsent`).
pub async fn record_guardian_consent(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let (tr, app) = (ctx.tr, ctx.state.app.clone());
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = super::cases::parse_case_id(&case_id).unwrap_or_default();
    let f = form.clone();
    case_form(ctx, &case_id, form, "guardian-consent", GUARDIAN_FIELDS, move |errors| {
        let given_by: Option<v::GuardianKind> = errors.label(tr, &f, "guardianGivenBy", true);
        let given_on = errors.date(tr, &f, "guardianGivenOn", true);
        let consent = GuardianConsent { given_by: given_by?, given_on: given_on? };
        Some(async move { app.record_guardian_consent(&caller, id, consent).await.map(|_| ()) })
    })
    .await
}

/// A first language by its name in the page's language, with the ISO code beside it; a code
/// the catalogues do not name is shown as the code alone.
fn language_name(tr: Tr, code: &str) -> String {
    let id = format!("LanguageName-{code}");
    if tr.has(&id) {
        format!("{} ({code})", tr.t(&id))
    } else {
        code.to_string()
    }
}
