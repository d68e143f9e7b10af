//! `/app/intake/new`: an intake worker opens a case in four steps on one page (works without
//! JavaScript, on a phone), with consent explained in plain words. Field names are the
//! GraphQL input fields of `openIntake`.

use super::forms::{self, hidden, Errors, Field, Form};
use super::layout::{self, page_status};
use super::session::Ctx;
use crate::access::Op;
use crate::app::cases::{ClientInput, IdentityInput, OpenIntakeInput, ProfileInput};
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::Response;
use domain::case::ConsentGrant;
use domain::values::{self as v};
use maud::html;

const FIELDS: &[&str] = &[
    "identifiedOn",
    "referralSource",
    "exploitationTypes",
    "countryOfExploitation",
    "fullName",
    "gender",
    "ageAtIdentification",
    "dateOfBirth",
    "citizenship",
    "region",
    "contact",
    "documentNumber",
    "narrative",
    "legalAid",
    "guardianGivenBy",
    "guardianGivenOn",
    "recruitment",
    "meansOfControl",
    "recruiterRelationship",
    "industry",
    "placeOfRecruitment",
    "migrationStatus",
    "primaryLanguage",
];

const PROFILE_FIELDS: &[&str] = &[
    "recruitment",
    "meansOfControl",
    "recruiterRelationship",
    "industry",
    "placeOfRecruitment",
    "migrationStatus",
    "primaryLanguage",
];

pub async fn form(ctx: Ctx) -> Response {
    render(&ctx, &Form::default(), &Errors::default())
}

fn render(ctx: &Ctx, form: &Form, errors: &Errors) -> Response {
    if let Err(r) = ctx.signed_in() {
        return r;
    }
    if !ctx.may(Op::OpenIntake) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let f = |name: &'static str, label: &str, hint: Option<&str>| Field {
        name,
        label: tr.t(label),
        hint: hint.map(|h| tr.t(h)),
        value: form.raw(name),
        errors,
    };
    let labels = |all: Vec<&'static str>| all;
    let sources = labels(v::ReferralSource::ALL.iter().map(|x| x.as_str()).collect());
    let types = labels(v::ExploitationType::ALL.iter().map(|x| x.as_str()).collect());
    let genders = labels(v::Gender::ALL.iter().map(|x| x.as_str()).collect());
    let regions = labels(v::Region::ALL.iter().map(|x| x.as_str()).collect());
    let guardians = labels(v::GuardianKind::ALL.iter().map(|x| x.as_str()).collect());
    let recruitment = labels(v::RecruitmentMethod::ALL.iter().map(|x| x.as_str()).collect());
    let means = labels(v::MeansOfControl::ALL.iter().map(|x| x.as_str()).collect());
    let relationships = labels(v::RecruiterRelationship::ALL.iter().map(|x| x.as_str()).collect());
    let migration = labels(v::MigrationStatus::ALL.iter().map(|x| x.as_str()).collect());
    // ISIC sections are shown as their letters; the hint names the common ones.
    let sections: Vec<(String, String)> =
        v::IsicSection::ALL.iter().map(|x| (x.as_str().to_string(), x.as_str().to_string())).collect();
    let profile_open = PROFILE_FIELDS.iter().any(|f| !form.raw(f).is_empty() || errors.of(f).is_some());
    let today = chrono::Utc::now().date_naive().to_string();
    let identified = if form.raw("identifiedOn").is_empty() { today.as_str() } else { form.raw("identifiedOn") };
    let consent = |name: &str, label: &str, plain: &str| {
        html! {
            label.check for=(name) {
                input type="checkbox" id=(name) name=(name) value="true" checked[form.checked(name)];
                span { strong { (tr.t(label)) } br; (tr.t(plain)) }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let body = html! {
        (errors.summary(tr))
        form.card method="post" action="/app/intake/new" novalidate {
            (hidden(&ctx.csrf()))
            fieldset {
                legend { (tr.t("intake-step-1")) }
                (Field { value: identified, ..f("identifiedOn", "field-identified-on", None) }.input("date", true))
                (f("referralSource", "field-referral-source", None).select(&forms::options(tr, "ReferralSource", &sources), true, &tr.t("choose")))
                (forms::checkboxes("exploitationTypes", &tr.t("field-exploitation-types"), &forms::options(tr, "ExploitationType", &types), &form.all("exploitationTypes"), errors))
                (f("countryOfExploitation", "field-country-of-exploitation", Some("hint-country")).input("text", false))
            }
            fieldset {
                legend { (tr.t("intake-step-2")) }
                p.hint { (tr.t("intake-identity-sealed")) }
                (f("fullName", "field-full-name", None).input("text", true))
                (f("dateOfBirth", "field-date-of-birth", Some("hint-optional")).input("date", false))
                (f("contact", "field-contact", Some("hint-contact")).input("text", false))
                (f("documentNumber", "field-document-number", Some("hint-optional")).input("text", false))
                (f("narrative", "field-narrative", Some("hint-narrative")).textarea())
            }
            fieldset {
                legend { (tr.t("intake-step-3")) }
                (f("gender", "field-gender", None).select(&forms::options(tr, "Gender", &genders), true, &tr.t("choose")))
                (f("ageAtIdentification", "field-age", Some("hint-optional")).input("number", false))
                (f("citizenship", "field-citizenship", Some("hint-country")).input("text", false))
                (f("region", "field-region", Some("hint-optional")).select(&forms::options(tr, "Region", &regions), false, &tr.t("unknown")))
            }
            fieldset id="consent-step" {
                legend { (tr.t("intake-step-4")) }
                div.consent { p { (tr.t("consent-intro")) } }
                (consent("legalAid", "consent-legal-aid", "consent-legal-aid-plain"))
                (consent("reportToPolice", "consent-report-to-police", "consent-report-to-police-plain"))
                (consent("dataSharing", "consent-data-sharing", "consent-data-sharing-plain"))
                p.hint { (tr.t("consent-later")) }
                details open[!form.raw("guardianGivenBy").is_empty()] {
                    summary { (tr.t("guardian-consent-title")) }
                    p.hint { (tr.t("guardian-consent-plain")) }
                    (f("guardianGivenBy", "field-guardian-given-by", None).select(&forms::options(tr, "GuardianKind", &guardians), false, &tr.t("choose")))
                    (f("guardianGivenOn", "field-guardian-given-on", None).input("date", false))
                }
            }
            details.card id="profile-step" open[profile_open] {
                summary { (tr.t("htcds-title")) }
                p.hint { (tr.t("htcds-plain")) }
                (forms::checkboxes("recruitment", &tr.t("field-recruitment"), &forms::options(tr, "RecruitmentMethod", &recruitment), &form.all("recruitment"), errors))
                (forms::checkboxes("meansOfControl", &tr.t("field-means-of-control"), &forms::options(tr, "MeansOfControl", &means), &form.all("meansOfControl"), errors))
                (f("recruiterRelationship", "field-recruiter-relationship", None).select(&forms::options(tr, "RecruiterRelationship", &relationships), false, &tr.t("unknown")))
                (f("industry", "field-industry", Some("hint-industry")).select(&sections, false, &tr.t("unknown")))
                (f("placeOfRecruitment", "field-place-of-recruitment", Some("hint-place-of-recruitment")).input("text", false))
                (f("migrationStatus", "field-migration-status", None).select(&forms::options(tr, "MigrationStatus", &migration), false, &tr.t("unknown")))
                (f("primaryLanguage", "field-primary-language", Some("hint-primary-language")).input("text", false))
            }
            button type="submit" { (tr.t("intake-submit")) }
        }
    };
    page_status(ctx, status, &tr.t("intake-title"), body)
}

pub async fn submit(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let identified_on = errors.date(tr, &form, "identifiedOn", true);
    let referral_source: Option<v::ReferralSource> = errors.label(tr, &form, "referralSource", true);
    let exploitation_types: Vec<v::ExploitationType> =
        form.all("exploitationTypes").iter().filter_map(|s| s.parse().ok()).collect();
    if exploitation_types.is_empty() {
        errors.add("exploitationTypes", tr.t("err-exploitation-types"));
    }
    let full_name = errors.required(tr, &form, "fullName").map(str::to_string);
    let date_of_birth = errors.date(tr, &form, "dateOfBirth", false);
    let gender: Option<v::Gender> = errors.label(tr, &form, "gender", true);
    let age = errors.number(tr, &form, "ageAtIdentification");
    let region: Option<v::Region> = errors.label(tr, &form, "region", false);
    let guardian_by: Option<v::GuardianKind> = errors.label(tr, &form, "guardianGivenBy", false);
    let guardian_on = errors.date(tr, &form, "guardianGivenOn", false);
    let guardian_consent = match (guardian_by, guardian_on.or(identified_on)) {
        (Some(given_by), Some(given_on)) => Some(domain::case::GuardianConsent { given_by, given_on }),
        _ => None,
    };
    let profile = ProfileInput {
        recruitment: form.all("recruitment").iter().filter_map(|s| s.parse().ok()).collect(),
        means_of_control: form.all("meansOfControl").iter().filter_map(|s| s.parse().ok()).collect(),
        recruiter_relationship: errors.label(tr, &form, "recruiterRelationship", false),
        industry: errors.label(tr, &form, "industry", false),
        place_of_recruitment: form.get("placeOfRecruitment").map(str::to_string),
        migration_status: errors.label(tr, &form, "migrationStatus", false),
        primary_language: form.get("primaryLanguage").map(str::to_string),
    };
    let opt = |k: &str| form.get(k).map(str::to_string);
    let (Some(identified_on), Some(referral_source), Some(full_name), Some(gender), true) =
        (identified_on, referral_source, full_name, gender, errors.is_empty())
    else {
        return render(&ctx, &form, &errors);
    };
    let input = OpenIntakeInput {
        case_id: None,
        organization_id: None,
        identified_on,
        referral_source,
        exploitation_types,
        country_of_exploitation: opt("countryOfExploitation").map(|c| c.to_uppercase()),
        client: ClientInput {
            gender,
            age_at_identification: age,
            citizenship: opt("citizenship").map(|c| c.to_uppercase()),
            region,
        },
        identity: IdentityInput {
            full_name,
            date_of_birth,
            contact: opt("contact"),
            document_number: opt("documentNumber"),
            narrative: opt("narrative"),
        },
        consent: ConsentGrant {
            legal_aid: form.checked("legalAid"),
            report_to_police: form.checked("reportToPolice"),
            data_sharing: form.checked("dataSharing"),
        },
        profile,
        guardian_consent,
    };
    let app = ctx.state.app.clone();
    let run = async { app.open_intake(&caller, input).await.map(|view| format!("/app/cases/{}?saved=1", view.id)) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e @ (ApiError::BadInput(_) | ApiError::Rule(_))) => {
            let field = layout::field_of(&e, FIELDS).unwrap_or_else(|| "identifiedOn".into());
            errors.add(&field, layout::explain(tr, &e));
            render(&ctx, &form, &errors)
        }
        Err(e) => layout::error_page(&ctx, &e),
    }
}
