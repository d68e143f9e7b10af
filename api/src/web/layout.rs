//! The page shell (header, navigation by role, languages, sign-out), error pages, and the
//! translation of the application's refusals into sentences that say what to do.

use super::i18n::{Lang, Tr};
use super::session::Ctx;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use domain::values::Role;
use maud::{html, Markup, DOCTYPE};

/// A whole page.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Response {
    page_status(ctx, StatusCode::OK, title, body)
}

pub fn page_status(ctx: &Ctx, status: StatusCode, title: &str, body: Markup) -> Response {
    let tr = ctx.tr;
    let signed_in = ctx.session.as_ref().filter(|s| !s.pending);
    let nav: Vec<(&str, String)> = match signed_in.map(|s| s.principal.role) {
        Some(Role::IntakeWorker) => {
            vec![("/app/cases", tr.t("nav-cases")), ("/app/intake/new", tr.t("nav-new-intake"))]
        }
        Some(Role::Coordinator) => vec![
            ("/app/coordinator", tr.t("nav-unassigned")),
            ("/app/lawyers", tr.t("nav-network")),
            ("/app/cases", tr.t("nav-all-cases")),
            ("/app/approvals", tr.t("nav-approvals")),
            ("/app/dashboard", tr.t("nav-outcomes")),
        ],
        Some(Role::Lawyer) => vec![("/app/assignments", tr.t("nav-assignments"))],
        Some(Role::Auditor) => vec![("/app/dashboard", tr.t("nav-outcomes")), ("/app/audit", tr.t("nav-audit"))],
        Some(Role::Admin) => vec![
            ("/app/admin", tr.t("nav-admin")),
            ("/app/approvals", tr.t("nav-approvals")),
            ("/app/dashboard", tr.t("nav-outcomes")),
            ("/app/audit", tr.t("nav-audit")),
        ],
        None => vec![],
    };
    let markup = html! {
        (DOCTYPE)
        html lang=(tr.lang().code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (tr.t("app-name")) }
                link rel="stylesheet" href="/app/assets/app.css";
                link rel="icon" href="/app/assets/icon.svg" type="image/svg+xml";
            }
            body {
                a.skip href="#main" { (tr.t("skip-to-content")) }
                header.top {
                    a.brand href="/app" { img src="/app/assets/icon.svg" alt=""; span { (tr.t("app-name")) } }
                    @if !nav.is_empty() {
                        nav aria-label=(tr.t("nav-label")) {
                            ul { @for (href, label) in &nav {
                                li { a href=(href) aria-current=[(ctx.path == *href).then_some("page")] { (label) } }
                            } }
                        }
                    }
                    div.who {
                        (languages(ctx))
                        @if let Some(s) = signed_in {
                            span { (s.username) " · " (tr.label("Role", s.principal.role.as_str())) }
                            form method="post" action="/app/sign-out" {
                                input type="hidden" name="csrf" value=(s.csrf_token);
                                button type="submit" { (tr.t("sign-out")) }
                            }
                            form method="post" action="/app/sign-out-everywhere" {
                                input type="hidden" name="csrf" value=(s.csrf_token);
                                button type="submit" { (tr.t("sign-out-everywhere")) }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    };
    (status, Html(markup.into_string())).into_response()
}

fn languages(ctx: &Ctx) -> Markup {
    let here = ctx.tr.lang();
    html! {
        nav.langs aria-label=(ctx.t("languages")) {
            @for (l, name) in [(Lang::Ru, "Русский"), (Lang::Ky, "Кыргызча"), (Lang::En, "English")] {
                a href={ (ctx.path) "?lang=" (l.code()) } lang=(l.code()) hreflang=(l.code())
                    aria-current=[(l == here).then_some("true")] { (name) }
            }
        }
    }
}

/// The plain 404 page: the same for a case that does not exist and one out of reach.
pub fn not_found(ctx: &Ctx) -> Response {
    page_status(
        ctx,
        StatusCode::NOT_FOUND,
        &ctx.t("not-found-title"),
        html! { p { (ctx.t("not-found-body")) } p { a href="/app" { (ctx.t("go-home")) } } },
    )
}

/// A minimal refusal page, for requests refused before any context was read.
pub fn refused(lang: Lang, status: StatusCode, message_id: &str) -> Response {
    let tr = Tr(lang);
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (tr.t("refused-title")) }
                link rel="stylesheet" href="/app/assets/app.css";
            }
            body { main id="main" {
                h1 { (tr.t("refused-title")) }
                p { (tr.t(message_id)) }
                p { a href="/app" { (tr.t("go-home")) } }
            } }
        }
    };
    (status, Html(markup.into_string())).into_response()
}

/// A refusal of the application layer as a page: not found and out of scope look the same.
pub fn error_page(ctx: &Ctx, e: &ApiError) -> Response {
    let status = match e {
        ApiError::NotFound(_) | ApiError::Forbidden(_) => return not_found(ctx),
        ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ApiError::BadInput(_) | ApiError::Rule(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ApiError::Conflict => StatusCode::CONFLICT,
        ApiError::Unavailable | ApiError::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    if let ApiError::Internal(detail) = e {
        tracing::error!(detail, "internal error in the web app");
    }
    page_status(
        ctx,
        status,
        &ctx.t("refused-title"),
        html! { div.error-summary role="alert" { p { (explain(ctx.tr, e)) } } p { a href="/app" { (ctx.t("go-home")) } } },
    )
}

/// What went wrong and what to do, in the user's language. The domain's refusals are
/// matched to catalogue messages; one without a message of its own gets its code's sentence.
pub fn explain(tr: Tr, e: &ApiError) -> String {
    const RULES: &[(&str, &str)] = &[
        ("guardian's or representative's consent", "err-guardian-consent-required"),
        ("no guardian's consent is recorded for an adult", "err-guardian-not-needed"),
        ("has not consented to legal aid", "err-no-consent-legal-aid"),
        ("has not consented to reporting to the police", "err-no-consent-police"),
        ("sharing their data with another organisation", "err-no-consent-data-sharing"),
        ("has not consented", "err-no-consent"),
        ("the case is closed", "err-case-closed"),
        ("data was erased", "err-erased"),
        ("no lawyer is assigned", "err-no-lawyer"),
        ("has not accepted the case", "err-not-accepted"),
        ("already accepted", "err-already-accepted"),
        ("already assigned to the case", "err-already-assigned"),
        ("only the lawyer assigned", "err-only-assigned-lawyer"),
        ("already registered; record a reclassification", "err-already-registered"),
        ("no registered offence yet", "err-not-registered"),
        ("must change the offence", "err-same-offence"),
        ("sent to court", "err-not-in-court"),
        ("verdict was already recorded", "err-verdict-exists"),
        ("verdict is already in force", "err-verdict-exists"),
        ("the hearing's day", "err-hearing-not-yet"),
        ("no verdict in force on this report to appeal", "err-no-verdict-to-appeal"),
        ("an appeal to", "err-appeal-pending"),
        ("higher instance than the verdict in force", "err-appeal-not-higher"),
        ("the appeal pending is at", "err-wrong-instance"),
        ("already recorded as held", "err-hearing-held"),
        ("the complaint was already decided", "err-complaint-decided"),
        ("no decision to complain of", "err-nothing-to-complain-of"),
        ("could not be applied before", "err-offense-not-in-force"),
        ("already recorded for this defendant", "err-defendant-verdict-exists"),
        ("no compensation was claimed", "err-no-compensation-claim"),
        ("has not awarded compensation", "err-no-compensation-award"),
        ("compensation was already", "err-compensation-recorded"),
        ("give this amount in", "err-currency-mismatch"),
        ("would exceed the award", "err-overpaid"),
        ("amount must be", "err-amount"),
        ("ageatoffense must be", "err-age-at-offense"),
        ("a region of the kyrgyz republic", "err-place-of-recruitment"),
        ("iso 3166-1", "err-country"),
        ("iso 639-1", "err-language"),
        ("iso 4217", "err-currency"),
        ("is in the future", "err-future-date"),
        ("is before", "err-date-order"),
        ("at least one exploitation type", "err-exploitation-types"),
        ("already with that organisation", "err-transfer-same-organisation"),
        ("nothing to change", "err-nothing-to-change"),
        ("the coordinator and the lawyer assigned", "err-coordinator-or-lawyer-only"),
        ("at capacity", "err-at-capacity"),
        ("is not an offence code", "err-offense-code"),
        ("not in force", "err-offense-not-in-force"),
        ("deactivated", "err-lawyer-deactivated"),
        ("purpose", "err-purpose"),
        ("username", "err-username"),
        ("password", "err-password-weak"),
        ("invitation", "err-invitation"),
        ("already sent with other values", "err-idempotency-mismatch"),
        ("too long", "err-too-long-any"),
        ("must not be empty", "err-required"),
        ("is empty", "err-required"),
        ("control characters", "err-control-characters"),
        ("format characters", "err-control-characters"),
    ];
    match e {
        ApiError::BadInput(m) | ApiError::Rule(m) | ApiError::Forbidden(m) => {
            let lower = m.to_lowercase();
            RULES
                .iter()
                .find(|(needle, _)| lower.contains(needle))
                .map(|(_, id)| tr.t(id))
                .unwrap_or_else(|| tr.t(if matches!(e, ApiError::Forbidden(_)) { "err-forbidden" } else { "err-rule" }))
        }
        ApiError::NotFound(_) => tr.t("not-found-body"),
        ApiError::Unauthenticated => tr.t("err-signed-out"),
        ApiError::Conflict => tr.t("err-conflict"),
        ApiError::Unavailable | ApiError::Internal(_) => tr.t("err-internal"),
    }
}

/// Which form field a refusal is about, when its message names one.
pub fn field_of(e: &ApiError, fields: &[&str]) -> Option<String> {
    let m = match e {
        ApiError::BadInput(m) | ApiError::Rule(m) => m,
        _ => return None,
    };
    fields.iter().find(|f| m.contains(*f)).map(|f| f.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_refusals_become_sentences_in_each_language() {
        let e = ApiError::Rule(domain::case::CaseError::AssignmentNotAccepted.to_string());
        for l in Lang::ALL {
            let s = explain(Tr(*l), &e);
            assert!(!s.starts_with("err-"), "{s}");
        }
        assert_ne!(explain(Tr(Lang::Ru), &e), explain(Tr(Lang::En), &e));
        // A transfer refused: each refusal its own sentence.
        let no_sharing = ApiError::Rule(
            domain::case::CaseError::NoConsent("sharing their data with another organisation").to_string(),
        );
        assert_eq!(explain(Tr(Lang::En), &no_sharing), Tr(Lang::En).t("err-no-consent-data-sharing"));
        let role = ApiError::Forbidden(format!(
            "this is for {}; your account is INTAKE_WORKER",
            crate::access::policy::who_may(crate::access::Op::TransferCase)
        ));
        assert_eq!(explain(Tr(Lang::Ru), &role), Tr(Lang::Ru).t("err-coordinator-or-lawyer-only"));
        let place = domain::values::PlaceOfRecruitment::parse("placeOfRecruitment", "Atlantis").unwrap_err();
        assert_eq!(
            explain(Tr(Lang::Ky), &ApiError::BadInput(place.to_string())),
            Tr(Lang::Ky).t("err-place-of-recruitment")
        );
        let other = ApiError::Rule("something nobody wrote a message for".into());
        assert_eq!(explain(Tr(Lang::En), &other), Tr(Lang::En).t("err-rule"));
    }

    #[test]
    fn every_case_error_has_a_message_of_its_own() {
        use domain::case::CaseError as C;
        let d = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let errors = [
            C::Closed,
            C::Erased,
            C::NoConsent("legal aid"),
            C::NoConsent("reporting to the police"),
            C::NoLawyerAssigned,
            C::AssignmentNotAccepted,
            C::AlreadyAccepted,
            C::AlreadyAssigned,
            C::NotAssignedLawyer,
            C::AlreadyRegistered,
            C::NotRegistered,
            C::SameOffense,
            C::NotSentToCourt,
            C::VerdictAlreadyRecorded,
            C::NoExploitationType,
            C::FutureDate { field: "identifiedOn", date: d },
            C::DateTooEarly { field: "decidedOn", date: d, before: "the filing date" },
            C::NothingToChange("already given"),
            C::NoVerdictToAppeal,
            C::AppealPending("APPEAL"),
            C::AppealNotHigher { from: "APPEAL", to: "APPEAL" },
            C::WrongInstance { pending: "APPEAL", given: "CASSATION" },
            C::HearingAlreadyHeld,
            C::ComplaintAlreadyDecided,
            C::NothingToComplainOf("TERMINATION"),
            C::DefendantVerdictAlreadyRecorded,
            C::NoCompensationClaim,
            C::NoCompensationAward,
            C::CompensationAlreadyRecorded("awarded"),
            C::CurrencyMismatch { claimed: "KGS".into(), given: "USD".into() },
            C::OverPaid { paid: 2, awarded: 1 },
            C::ZeroAmount,
            C::FutureDate { field: "the hearing's day", date: d },
            C::ArticleNotYetInForce {
                code: "2021-166".into(),
                edition: "2021 Criminal Code".into(),
                applies_from: d,
                date: d,
                in_force: "2017 Criminal Code".into(),
            },
            C::GuardianConsentRequired,
            C::NotAMinor,
            C::NoConsent("sharing their data with another organisation"),
            C::NothingToChange("the case is already with that organisation"),
        ];
        for e in errors {
            let s = explain(Tr(Lang::En), &ApiError::Rule(e.to_string()));
            assert_ne!(s, Tr(Lang::En).t("err-rule"), "{e} has no message of its own");
        }
    }
}
