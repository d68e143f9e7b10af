//! Posted forms and the fields that render them: every field is named as its GraphQL input
//! field, keeps what the user typed when the form comes back with errors, and is linked from
//! the error summary.

use super::i18n::Tr;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use maud::{html, Markup};

/// A posted `application/x-www-form-urlencoded` body, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(Form(pairs)),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl From<Vec<(String, String)>> for Form {
    /// A form filled in by the server (e.g. with what is recorded, to be changed).
    fn from(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }
}

impl Form {
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// The value as typed (for re-rendering), empty when absent.
    pub fn raw(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// Every non-blank value of `name` (checkbox groups).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, v)| k == name && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "true" || v == "on")
    }
}

/// Problems with a form, field by field, in the user's language.
#[derive(Debug, Clone, Default)]
pub struct Errors(pub Vec<(String, String)>);

impl Errors {
    pub fn add(&mut self, field: &str, message: String) {
        self.0.push((field.to_string(), message));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn of(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    /// A required value.
    pub fn required<'a>(&mut self, tr: Tr, form: &'a Form, field: &str) -> Option<&'a str> {
        let v = form.get(field);
        if v.is_none() {
            self.add(field, tr.t("err-required"));
        }
        v
    }

    /// A date field (`<input type=date>` sends yyyy-mm-dd; dd.mm.yyyy is accepted too).
    pub fn date(&mut self, tr: Tr, form: &Form, field: &str, required: bool) -> Option<NaiveDate> {
        let Some(v) = form.get(field) else {
            if required {
                self.add(field, tr.t("err-required"));
            }
            return None;
        };
        let parsed =
            NaiveDate::parse_from_str(v, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y")).ok();
        if parsed.is_none() {
            self.add(field, tr.t("err-date"));
        }
        parsed
    }

    /// An enumeration member by its label.
    pub fn label<T: std::str::FromStr>(&mut self, tr: Tr, form: &Form, field: &str, required: bool) -> Option<T> {
        let Some(v) = form.get(field) else {
            if required {
                self.add(field, tr.t("err-choose"));
            }
            return None;
        };
        let parsed = v.parse().ok();
        if parsed.is_none() {
            self.add(field, tr.t("err-choose"));
        }
        parsed
    }

    pub fn number(&mut self, tr: Tr, form: &Form, field: &str) -> Option<i64> {
        let v = form.get(field)?;
        let parsed = v.parse().ok();
        if parsed.is_none() {
            self.add(field, tr.t("err-number"));
        }
        parsed
    }

    /// The summary at the top of a form: each problem links to its field.
    pub fn summary(&self, tr: Tr) -> Markup {
        if self.0.is_empty() {
            return html! {};
        }
        html! {
            div.error-summary role="alert" tabindex="-1" id="error-summary" aria-labelledby="error-summary-title" {
                h2 #error-summary-title { (tr.t("form-has-errors")) }
                ul {
                    @for (field, message) in &self.0 {
                        li { a href={ "#" (field) } {
                            @if let Some(id) = label_id(field) { (tr.t(id)) ": " }
                            (message)
                        } }
                    }
                }
            }
        }
    }
}

/// What a field needs to render.
pub struct Field<'a> {
    pub name: &'a str,
    pub label: String,
    pub hint: Option<String>,
    pub value: &'a str,
    pub errors: &'a Errors,
}

impl Field<'_> {
    fn head(&self) -> Markup {
        html! {
            label for=(self.name) { (self.label) }
            @if let Some(h) = &self.hint { span.hint id={ (self.name) "-hint" } { (h) } }
            @if let Some(e) = self.errors.of(self.name) { span.field-error id={ (self.name) "-error" } { (e) } }
        }
    }

    fn described_by(&self) -> Option<String> {
        let mut ids = vec![];
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.errors.of(self.name).is_some() {
            ids.push(format!("{}-error", self.name));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    fn invalid(&self) -> Option<&'static str> {
        self.errors.of(self.name).map(|_| "true")
    }

    pub fn input(&self, kind: &str, required: bool) -> Markup {
        html! {
            (self.head())
            input type=(kind) id=(self.name) name=(self.name) value=(self.value) required[required]
                aria-describedby=[self.described_by()] aria-invalid=[self.invalid()];
        }
    }

    pub fn textarea(&self) -> Markup {
        html! {
            (self.head())
            textarea id=(self.name) name=(self.name) aria-describedby=[self.described_by()] aria-invalid=[self.invalid()] { (self.value) }
        }
    }

    /// A select of `(value, label)` options, with an empty first option unless `required`.
    pub fn select(&self, options: &[(String, String)], required: bool, empty_label: &str) -> Markup {
        html! {
            (self.head())
            select id=(self.name) name=(self.name) required[required]
                aria-describedby=[self.described_by()] aria-invalid=[self.invalid()] {
                @if !required || self.value.is_empty() { option value="" { (empty_label) } }
                @for (v, l) in options {
                    option value=(v) selected[v == self.value] { (l) }
                }
            }
        }
    }
}

/// The options of an enumeration, labelled in the user's language.
pub fn options(tr: Tr, kind: &str, labels: &[&'static str]) -> Vec<(String, String)> {
    labels.iter().map(|l| (l.to_string(), tr.label(kind, l))).collect()
}

/// A group of checkboxes with one name (e.g. `exploitationTypes`).
pub fn checkboxes(name: &str, legend: &str, options: &[(String, String)], checked: &[&str], errors: &Errors) -> Markup {
    html! {
        fieldset id=(name) aria-describedby=[errors.of(name).map(|_| format!("{name}-error"))] {
            legend { (legend) }
            @if let Some(e) = errors.of(name) { span.field-error id={ (name) "-error" } { (e) } }
            @for (i, (v, l)) in options.iter().enumerate() {
                label.check for={ (name) "-" (i) } {
                    input type="checkbox" id={ (name) "-" (i) } name=(name) value=(v) checked[checked.contains(&v.as_str())];
                    span { (l) }
                }
            }
        }
    }
}

/// The hidden fields every state-changing form carries: its CSRF token and the
/// Idempotency-Key of this render.
pub fn hidden(csrf: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="idempotencyKey" value=(uuid::Uuid::new_v4().to_string());
    }
}

/// The label of a form field by its (GraphQL) name, for the error summary.
fn label_id(field: &str) -> Option<&'static str> {
    // A field of a page with many forms has the id `name--form`.
    let field = field.split("--").next().unwrap_or(field);
    Some(match field {
        "identifiedOn" => "field-identified-on",
        "referralSource" => "field-referral-source",
        "exploitationTypes" => "field-exploitation-types",
        "countryOfExploitation" => "field-country-of-exploitation",
        "fullName" => "field-full-name",
        "gender" => "field-gender",
        "ageAtIdentification" => "field-age",
        "dateOfBirth" => "field-date-of-birth",
        "citizenship" => "field-citizenship",
        "region" => "field-region",
        "contact" => "field-contact",
        "documentNumber" => "field-document-number",
        "narrative" => "field-narrative",
        "guardianGivenBy" => "field-guardian-given-by",
        "guardianGivenOn" => "field-guardian-given-on",
        "recruitment" => "field-recruitment",
        "meansOfControl" => "field-means-of-control",
        "recruiterRelationship" => "field-recruiter-relationship",
        "industry" => "field-industry",
        "placeOfRecruitment" => "field-place-of-recruitment",
        "migrationStatus" => "field-migration-status",
        "primaryLanguage" => "field-primary-language",
        "username" => "field-username",
        "password" => "field-password",
        "otp" => "field-otp",
        "purpose" => "field-purpose",
        "scopes" => "field-scopes",
        "on" => "field-on",
        "action" => "field-consent-action",
        "service" => "field-service",
        "referredOn" => "field-referred-on",
        "provider" => "field-provider",
        "lawyerId" => "field-lawyer",
        "reason" => "field-reason",
        "filedOn" => "field-filed-on",
        "policeUnit" => "field-police-unit",
        "referenceNumber" => "field-reference-number",
        "offenseCode" => "field-offense",
        "registeredOn" => "field-registered-on",
        "registryNumber" => "field-registry-number",
        "decidedOn" => "field-decided-on",
        "decidedBy" => "field-decided-by",
        "outcome" => "field-outcome",
        "sentenceMonths" => "field-sentence-months",
        "kind" => "field-action-kind",
        "takenOn" => "field-taken-on",
        "note" => "field-note",
        "status" => "field-lawyer-status",
        "languages" => "field-languages",
        "licenseNumber" => "field-license-number",
        "course" => "field-course",
        "completedOn" => "field-completed-on",
        "name" => "field-account-name",
        "role" => "field-role",
        "organizationId" => "field-organization-id",
        "court" => "field-court",
        "to" => "field-postponed-to",
        "postponedOn" => "field-postponed-on",
        "instance" => "field-instance",
        "against" => "field-complaint-against",
        "filedWith" => "field-filed-with",
        "ageAtOffense" => "field-age-at-offense",
        "chargedWith" => "field-charged-with",
        "chargedOn" => "field-charged-on",
        "amount" => "field-amount",
        "currency" => "field-currency",
        "granted" => "field-victim-status",
        "relationship" => "field-defendant-relationship",
        "transferredOn" => "field-transferred-on",
        "recordedOn" => "field-profile-recorded-on",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{Lang, Tr};

    #[test]
    fn the_error_summary_names_each_field_and_links_to_it() {
        let mut e = Errors::default();
        e.add("referralSource", "Choose one of the options.".into());
        let html = e.summary(Tr(Lang::En)).into_string();
        assert!(html.contains("href=\"#referralSource\""), "{html}");
        assert!(html.contains("Who referred the person: Choose one of the options."), "{html}");
        for lang in Lang::ALL {
            for f in ["identifiedOn", "offenseCode", "lawyerId", "organizationId"] {
                assert!(Tr(*lang).has(label_id(f).unwrap()), "{f}");
            }
        }
    }
}
