//! The court part of a police report on the lawyer's case page: hearings (a day ahead
//! allowed; then held or postponed), the verdicts through the instances and the appeals
//! between them, complaints against a refusal, a termination or the qualification,
//! defendants (no names, their relationship to the client) with their own verdicts, and the
//! compensation claim; around the case, referral outcomes, the victim-status decision and
//! the transfer to another organisation. Each form is
//! offered only when the report allows that step; each field's id carries its form's key,
//! so a page with many forms has unique ids.

use super::cases::{parse_case_id, Extra};
use super::forms::{self, hidden, Errors, Form};
use super::i18n::Tr;
use super::layout;
use super::legal::{offense_title, Run};
use super::session::Ctx;
use crate::app::cases::{CompensationInput, DefendantInput, DefendantVerdictInput};
use crate::app::proceedings::{AppealInput, ComplaintInput, HearingInput, PostponementInput};
use crate::app::{App, Caller};
use crate::error::ApiError;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use domain::values::{self as v, CourtInstance, InvestigationOutcome};
use maud::{html, Markup};
use projections::model::case::HearingView;
use projections::model::deadlines::{Due, DueSource};
use projections::model::{CaseView, ReportView};
use projections::store::{OffenseRow, OrganizationRow};
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The actions of this module, posted to `/app/cases/{caseId}/{action}`.
pub const ACTIONS: &[&str] = &[
    "hearing",
    "hearing-held",
    "hearing-postponed",
    "appeal",
    "complaint",
    "complaint-decision",
    "defendant",
    "defendant-verdict",
    "compensation",
    "referral-outcome",
    "victim-status",
];

/// The form fields of this module, for matching a refusal to its field (most specific
/// first: a refusal names `postponedOn` before it could be taken for `on`).
pub const FIELDS: &[&str] = &[
    "postponedOn",
    "chargedOn",
    "chargedWith",
    "ageAtOffense",
    "citizenship",
    "relationship",
    "filedWith",
    "against",
    "instance",
    "court",
    "amount",
    "currency",
    "role",
    "gender",
    "granted",
    "to",
    "on",
];

/// The key of the form an action's post belongs to: the action and the report, hearing,
/// complaint or defendant it is about.
pub fn section(action: &str, form: &Form) -> String {
    let key = match action {
        "hearing-held" | "hearing-postponed" => form.get("hearingId"),
        "complaint-decision" => form.get("complaintId"),
        "defendant-verdict" => form.get("defendantId"),
        "compensation" => return format!("compensation-{}", form.get("reportId").unwrap_or("")),
        "referral-outcome" => form.get("referral"),
        "victim-status" => return action.to_string(),
        _ => form.get("reportId"),
    };
    format!("{action}-{}", key.unwrap_or(""))
}

/// A form's errors with every field name made into that form's field id.
fn scoped(errors: &Errors, sec: &str) -> Errors {
    Errors(
        errors
            .0
            .iter()
            .map(|(k, m)| if k.contains("--") { (k.clone(), m.clone()) } else { (format!("{k}--{sec}"), m.clone()) })
            .collect(),
    )
}

/// One form of the page: its key, what was typed into it (on an error) and its errors.
struct F<'a> {
    tr: Tr,
    sec: String,
    form: &'a Form,
    errors: Errors,
}

impl F<'_> {
    fn id(&self, name: &str) -> String {
        format!("{name}--{}", self.sec)
    }

    fn head(&self, name: &str, label: &str, hint: Option<&str>) -> Markup {
        let id = self.id(name);
        html! {
            label for=(id) { (self.tr.t(label)) }
            @if let Some(h) = hint { span.hint id={ (id) "-hint" } { (self.tr.t(h)) } }
            @if let Some(e) = self.errors.of(&id) { span.field-error id={ (id) "-error" } { (e) } }
        }
    }

    fn described_by(&self, name: &str, hint: bool) -> Option<String> {
        let id = self.id(name);
        let mut ids = vec![];
        if hint {
            ids.push(format!("{id}-hint"));
        }
        if self.errors.of(&id).is_some() {
            ids.push(format!("{id}-error"));
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    }

    fn invalid(&self, name: &str) -> Option<&'static str> {
        self.errors.of(&self.id(name)).map(|_| "true")
    }

    /// An input; `default` fills it until the user typed something.
    fn input(&self, name: &str, label: &str, kind: &str, required: bool, hint: Option<&str>, default: &str) -> Markup {
        let typed = self.form.raw(name);
        let value = if typed.is_empty() && self.errors.is_empty() { default } else { typed };
        html! {
            (self.head(name, label, hint))
            input type=(kind) id=(self.id(name)) name=(name) value=(value) required[required]
                aria-describedby=[self.described_by(name, hint.is_some())] aria-invalid=[self.invalid(name)];
        }
    }

    fn select(&self, name: &str, label: &str, options: &[(String, String)], required: bool, default: &str) -> Markup {
        let typed = self.form.raw(name);
        let value = if typed.is_empty() && self.errors.is_empty() { default } else { typed };
        html! {
            (self.head(name, label, None))
            select id=(self.id(name)) name=(name) required[required]
                aria-describedby=[self.described_by(name, false)] aria-invalid=[self.invalid(name)] {
                @if !required || value.is_empty() { option value="" { (self.tr.t("choose")) } }
                @for (v, l) in options { option value=(v) selected[v == value] { (l) } }
            }
        }
    }

    /// An optional select with a hint; its empty choice says "not known".
    fn select_hinted(&self, name: &str, label: &str, options: &[(String, String)], hint: &str) -> Markup {
        let value = self.form.raw(name);
        html! {
            (self.head(name, label, Some(hint)))
            select id=(self.id(name)) name=(name)
                aria-describedby=[self.described_by(name, true)] aria-invalid=[self.invalid(name)] {
                option value="" { (self.tr.t("unknown")) }
                @for (v, l) in options { option value=(v) selected[v == value] { (l) } }
            }
        }
    }

    fn summary(&self) -> Markup {
        self.errors.summary(self.tr)
    }
}

/// What the case page gives every form of this module.
pub struct Page<'a> {
    pub tr: Tr,
    pub case_id: Uuid,
    pub csrf: String,
    pub today: NaiveDate,
    pub catalogue: &'a [OffenseRow],
    /// The form that came back, its key and its errors.
    pub section: &'a str,
    pub form: &'a Form,
    pub errors: &'a Errors,
}

impl Page<'_> {
    fn f(&self, sec: String) -> F<'_> {
        let active = self.section == sec;
        static BLANK: std::sync::OnceLock<Form> = std::sync::OnceLock::new();
        let blank = BLANK.get_or_init(Form::default);
        F {
            tr: self.tr,
            errors: if active { scoped(self.errors, &sec) } else { Errors::default() },
            form: if active { self.form } else { blank },
            sec,
        }
    }

    fn post(&self, action: &str) -> String {
        format!("/app/cases/{}/{action}", self.case_id)
    }

    fn offense_name(&self, code: &str) -> String {
        self.catalogue
            .iter()
            .find(|o| o.code == code)
            .map(|o| {
                format!("{} — {}", self.tr.t_args("article", &[("article", &o.article)]), offense_title(self.tr, o))
            })
            .unwrap_or_else(|| code.to_string())
    }

    /// The catalogue's current articles, newest code first (the domain's era rule decides).
    fn offense_options(&self) -> Vec<(String, String)> {
        let mut rows: Vec<&OffenseRow> = self.catalogue.iter().filter(|o| !o.retired).collect();
        rows.sort_by(|a, b| b.edition.cmp(&a.edition).then_with(|| a.code.cmp(&b.code)));
        rows.into_iter().map(|o| (o.code.clone(), self.offense_name(&o.code))).collect()
    }
}

fn instance_options(tr: Tr, instances: &[CourtInstance]) -> Vec<(String, String)> {
    instances.iter().map(|i| (i.as_str().to_string(), tr.label("CourtInstance", i.as_str()))).collect()
}

/// The next hearing of any report of the case, for the top of the page.
pub fn next_hearing(view: &CaseView, today: NaiveDate) -> Option<&HearingView> {
    view.reports.iter().filter_map(|r| r.next_hearing(today)).min_by_key(|h| (h.on, h.id))
}

/// The hearing as one line: day, court, instance.
pub fn hearing_line(tr: Tr, h: &HearingView) -> String {
    format!("{} — {} ({})", tr.date(h.on), h.court, tr.label("CourtInstance", h.instance.as_str()))
}

/// "What is due this week": hearings and the time limits of the deadline rules due within
/// seven days, overdue ones first and flagged, each linking to its case. With no rule in
/// force the page says that only hearings can show.
pub fn due_this_week(tr: Tr, due: &[Due], no_rules: bool) -> Markup {
    let mut rows: Vec<&Due> = due.iter().collect();
    rows.sort_by_key(|d| (!d.overdue, d.due_on));
    html! {
        section.card aria-labelledby="due-h" {
            h2 #due-h { (tr.t("due-title")) }
            @if no_rules { p.hint { (tr.t("due-no-rules")) } }
            @if rows.is_empty() {
                p { (tr.t("due-nothing")) }
            } @else {
                div.table-wrap { table.due {
                    caption.skip { (tr.t("due-title")) }
                    thead { tr {
                        th scope="col" { (tr.t("due-when")) }
                        th scope="col" { (tr.t("due-what")) }
                    } }
                    tbody { @for d in rows {
                        tr.overdue[d.overdue] {
                            td {
                                (tr.date(d.due_on))
                                @if d.overdue { " " strong.overdue-flag { (tr.t("due-overdue")) } }
                            }
                            td {
                                (due_what(tr, d)) br;
                                (tr.t("col-reference")) ": "
                                a href={ "/app/cases/" (d.case_id) } { (super::cases::reference(d.case_id)) }
                            }
                        }
                    } }
                } }
            }
        }
    }
}

fn due_what(tr: Tr, d: &Due) -> Markup {
    match &d.source {
        DueSource::Hearing { instance, court, .. } => html! {
            (tr.t("due-hearing")) ": " (court) " (" (tr.label("CourtInstance", instance.as_str())) ")"
            @if d.overdue { br; span.hint { (tr.t("due-hearing-record")) } }
        },
        DueSource::Rule { citation, what_ru, what_ky, .. } => {
            let what = match tr.lang() {
                super::i18n::Lang::Ru => what_ru.clone(),
                super::i18n::Lang::Ky => what_ky.clone(),
                super::i18n::Lang::En => None,
            }
            .unwrap_or_else(|| d.what.clone());
            html! { (what) br; span.hint { (citation.article) ", " (citation.code) } }
        }
    }
}

/// The court part of one report.
pub fn report_part(p: &Page<'_>, r: &ReportView) -> Markup {
    let in_court = r.investigation_outcome() == Some(InvestigationOutcome::SentToCourt) || r.verdict.is_some();
    html! {
        @if in_court { (hearings(p, r)) (verdicts(p, r)) }
        @if r.registration.is_some() || !r.defendants.is_empty() { (defendants(p, r, in_court)) }
        (complaints(p, r))
        @if r.registration.is_some() || r.compensation.is_some() { (compensation(p, r)) }
    }
}

fn rid_field(r: &ReportView) -> Markup {
    html! { input type="hidden" name="reportId" value=(r.id); }
}

fn hearings(p: &Page<'_>, r: &ReportView) -> Markup {
    let tr = p.tr;
    let rid = r.id.to_string();
    let f = p.f(format!("hearing-{rid}"));
    let pending = r
        .pending_appeal()
        .map(|a| a.instance)
        .unwrap_or_else(|| r.verdict.as_ref().map(|v| v.instance).unwrap_or(CourtInstance::FirstInstance));
    html! {
        h4 id={ "hearings-" (rid) } { (tr.t("hearings-title")) }
        @if let Some(h) = r.next_hearing(p.today) {
            p.notice { strong { (tr.t("next-hearing")) ": " } (hearing_line(tr, h)) }
        }
        @if r.hearings.is_empty() { p { (tr.t("no-hearings")) } }
        ul.hearings { @for h in r.hearings_by_date() {
            li {
                (hearing_line(tr, h)) " · "
                span.badge { (tr.t(if h.held { "hearing-held" } else if h.on < p.today { "hearing-unrecorded" } else { "hearing-scheduled" })) }
                @for (from, to, _) in &h.postponements {
                    br; span.hint { (tr.t_args("hearing-postponed-from-to", &[("from", &tr.date(*from)), ("to", &tr.date(*to))])) }
                }
                @if !h.held { (hearing_forms(p, r, h)) }
            }
        } }
        h5 { (tr.t("hearing-schedule-title")) }
        (f.summary())
        form method="post" action=(p.post("hearing")) novalidate {
            (hidden(&p.csrf)) (rid_field(r))
            (f.input("on", "field-hearing-on", "date", true, Some("hint-hearing-on"), ""))
            (f.input("court", "field-court", "text", true, Some("hint-court"), ""))
            (f.select("instance", "field-instance", &instance_options(tr, CourtInstance::ALL), true, pending.as_str()))
            button type="submit" { (tr.t("hearing-schedule")) }
        }
    }
}

fn hearing_forms(p: &Page<'_>, r: &ReportView, h: &HearingView) -> Markup {
    let tr = p.tr;
    let hid = h.id.to_string();
    let held = p.f(format!("hearing-held-{hid}"));
    let post = p.f(format!("hearing-postponed-{hid}"));
    let today = p.today.to_string();
    html! {
        details.hearing-actions open[!post.errors.is_empty() || !held.errors.is_empty()] {
            summary { (tr.t("hearing-record")) }
            (held.summary())
            @if h.on <= p.today {
                form method="post" action=(p.post("hearing-held")) {
                    (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="hearingId" value=(hid);
                    button type="submit" { (tr.t("hearing-mark-held")) }
                }
            }
            (post.summary())
            form method="post" action=(p.post("hearing-postponed")) novalidate {
                (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="hearingId" value=(hid);
                (post.input("to", "field-postponed-to", "date", true, None, ""))
                (post.input("postponedOn", "field-postponed-on", "date", false, Some("hint-postponed-on"), &today))
                (post.input("reason", "field-reason", "text", false, Some("hint-optional"), ""))
                button.secondary type="submit" { (tr.t("hearing-postpone")) }
            }
        }
    }
}

fn verdicts(p: &Page<'_>, r: &ReportView) -> Markup {
    let tr = p.tr;
    let rid = r.id.to_string();
    let history: Vec<_> = if r.verdicts.is_empty() { r.verdict.iter().collect() } else { r.verdicts.iter().collect() };
    let Some(in_force) = r.verdict.as_ref() else { return html! {} };
    let pending = r.pending_appeal();
    let higher: Vec<CourtInstance> = CourtInstance::ALL.iter().copied().filter(|i| *i > in_force.instance).collect();
    let appeal = p.f(format!("appeal-{rid}"));
    let verdict = p.f(format!("verdict-{rid}"));
    let outcomes: Vec<&str> = v::VerdictOutcome::ALL.iter().map(|k| k.as_str()).collect();
    let today = p.today.to_string();
    html! {
        h4 { (tr.t("verdicts-title")) }
        ol.verdicts { @for (i, vd) in history.iter().enumerate() {
            li {
                (tr.label("CourtInstance", vd.instance.as_str())) ": " (tr.label("VerdictOutcome", vd.outcome.as_str())) ", " (tr.date(vd.decided_on))
                @if let Some(m) = vd.sentence_months { " · " (tr.t_args("sentence-months", &[("months", &m.to_string())])) }
                @if i + 1 == history.len() { " " span.badge { (tr.t("verdict-in-force")) } }
            }
        } }
        @for a in r.appeals.iter() {
            p { (tr.t_args("appeal-filed-line", &[("instance", &tr.label("CourtInstance", a.instance.as_str())), ("date", &tr.date(a.filed_on))]))
                " · " span.badge { (tr.t(if a.decided { "appeal-decided" } else { "appeal-pending" })) } }
        }
        @if let Some(a) = pending {
            h5 { (tr.t_args("appeal-verdict-title", &[("instance", &tr.label("CourtInstance", a.instance.as_str()))])) }
            (verdict.summary())
            form method="post" action=(p.post("verdict")) novalidate {
                (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="instance" value=(a.instance.as_str());
                (verdict.select("outcome", "field-verdict", &forms::options(tr, "VerdictOutcome", &outcomes), true, ""))
                (verdict.input("decidedOn", "field-decided-on", "date", true, None, &today))
                (verdict.input("sentenceMonths", "field-sentence-months", "number", false, Some("hint-optional"), ""))
                button type="submit" { (tr.t("save")) }
            }
        } @else if !higher.is_empty() {
            h5 { (tr.t("appeal-title")) }
            p.hint { (tr.t("appeal-explain")) }
            (appeal.summary())
            form method="post" action=(p.post("appeal")) novalidate {
                (hidden(&p.csrf)) (rid_field(r))
                (appeal.select("instance", "field-appeal-instance", &instance_options(tr, &higher), true, higher[0].as_str()))
                (appeal.input("filedOn", "field-filed-on", "date", true, None, &today))
                button type="submit" { (tr.t("appeal-file")) }
            }
        }
    }
}

fn complaints(p: &Page<'_>, r: &ReportView) -> Markup {
    use v::ComplaintSubject as S;
    let tr = p.tr;
    let rid = r.id.to_string();
    let mut subjects = vec![];
    if r.refused.is_some() {
        subjects.push(S::RefusalToRegister);
    }
    if r.outcomes.iter().any(|o| o.outcome == InvestigationOutcome::Terminated) {
        subjects.push(S::Termination);
    }
    if r.registration.is_some() {
        subjects.push(S::Qualification);
    }
    if subjects.is_empty() && r.complaints.is_empty() {
        return html! {};
    }
    let f = p.f(format!("complaint-{rid}"));
    let subject_options: Vec<(String, String)> =
        subjects.iter().map(|s| (s.as_str().to_string(), tr.label("ComplaintSubject", s.as_str()))).collect();
    let addressees: Vec<&str> = v::ComplaintAddressee::ALL.iter().map(|a| a.as_str()).collect();
    let outcomes: Vec<&str> = v::ComplaintOutcome::ALL.iter().map(|a| a.as_str()).collect();
    let today = p.today.to_string();
    html! {
        h4 { (tr.t("complaints-title")) }
        ul.complaints { @for c in &r.complaints {
            li {
                (tr.t_args("complaint-line", &[
                    ("against", &tr.label("ComplaintSubject", c.against.as_str())),
                    ("with", &tr.label("ComplaintAddressee", c.filed_with.as_str())),
                    ("date", &tr.date(c.filed_on)),
                ]))
                " · "
                @match c.decision {
                    Some((o, on)) => { span.badge { (tr.label("ComplaintOutcome", o.as_str())) ", " (tr.date(on)) } }
                    None => {
                        span.badge { (tr.t("complaint-pending")) }
                        @let d = p.f(format!("complaint-decision-{}", c.id));
                        details open[!d.errors.is_empty()] {
                            summary { (tr.t("complaint-decide")) }
                            (d.summary())
                            form method="post" action=(p.post("complaint-decision")) novalidate {
                                (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="complaintId" value=(c.id);
                                (d.select("outcome", "field-complaint-outcome", &forms::options(tr, "ComplaintOutcome", &outcomes), true, ""))
                                (d.input("decidedOn", "field-decided-on", "date", true, None, &today))
                                button type="submit" { (tr.t("save")) }
                            }
                        }
                    }
                }
            }
        } }
        @if !subjects.is_empty() {
            h5 { (tr.t("complaint-file-title")) }
            (f.summary())
            form method="post" action=(p.post("complaint")) novalidate {
                (hidden(&p.csrf)) (rid_field(r))
                (f.select("against", "field-complaint-against", &subject_options, true, ""))
                (f.select("filedWith", "field-filed-with", &forms::options(tr, "ComplaintAddressee", &addressees), true, ""))
                (f.input("filedOn", "field-filed-on", "date", true, None, &today))
                button type="submit" { (tr.t("complaint-file")) }
            }
        }
    }
}

fn defendants(p: &Page<'_>, r: &ReportView, in_court: bool) -> Markup {
    let tr = p.tr;
    let rid = r.id.to_string();
    let f = p.f(format!("defendant-{rid}"));
    let genders: Vec<&str> = v::Gender::ALL.iter().map(|g| g.as_str()).collect();
    let roles: Vec<&str> = v::DefendantRole::ALL.iter().map(|g| g.as_str()).collect();
    let relationships: Vec<&str> = v::DefendantRelationship::ALL.iter().map(|g| g.as_str()).collect();
    let outcomes: Vec<&str> = v::VerdictOutcome::ALL.iter().map(|k| k.as_str()).collect();
    let offenses = p.offense_options();
    let current = r.current.as_ref().map(|o| o.code.clone()).unwrap_or_default();
    let today = p.today.to_string();
    html! {
        h4 { (tr.t("defendants-title")) }
        p.hint { (tr.t("defendants-no-names")) }
        @if r.defendants.is_empty() { p { (tr.t("no-defendants")) } }
        ol.defendants { @for d in &r.defendants {
            li {
                (tr.label("DefendantRole", d.role.as_str())) ", " (tr.label("Gender", d.gender.as_str()))
                @if let Some(a) = d.age_at_offense { ", " (tr.t_args("age-at-offense", &[("age", &a.to_string())])) }
                @if let Some(c) = &d.citizenship { ", " (c.as_str()) }
                @if let Some(rel) = d.relationship { br; span.hint { (tr.t("field-defendant-relationship")) ": " (tr.label("DefendantRelationship", rel.as_str())) } }
                @if let Some(o) = &d.charged_with { br; span.hint { (tr.t("field-charged-with")) ": " (p.offense_name(&o.code)) } }
                @match &d.verdict {
                    Some(vd) => {
                        br; strong { (tr.label("VerdictOutcome", vd.outcome.as_str())) } ", " (tr.date(vd.decided_on))
                        @if let Some(m) = vd.sentence_months { " · " (tr.t_args("sentence-months", &[("months", &m.to_string())])) }
                    }
                    None if in_court => {
                        @let dv = p.f(format!("defendant-verdict-{}", d.id));
                        details open[!dv.errors.is_empty()] {
                            summary { (tr.t("defendant-verdict-title")) }
                            (dv.summary())
                            form method="post" action=(p.post("defendant-verdict")) novalidate {
                                (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="defendantId" value=(d.id);
                                (dv.select("outcome", "field-verdict", &forms::options(tr, "VerdictOutcome", &outcomes), true, ""))
                                (dv.select("offenseCode", "field-offense", &offenses, false, ""))
                                (dv.input("decidedOn", "field-decided-on", "date", true, None, &today))
                                (dv.input("sentenceMonths", "field-sentence-months", "number", false, Some("hint-optional"), ""))
                                button type="submit" { (tr.t("save")) }
                            }
                        }
                    }
                    None => {}
                }
            }
        } }
        h5 { (tr.t("defendant-add-title")) }
        (f.summary())
        form method="post" action=(p.post("defendant")) novalidate {
            (hidden(&p.csrf)) (rid_field(r))
            (f.select("role", "field-defendant-role", &forms::options(tr, "DefendantRole", &roles), true, ""))
            (f.select("gender", "field-gender", &forms::options(tr, "Gender", &genders), true, ""))
            (f.input("ageAtOffense", "field-age-at-offense", "number", false, Some("hint-optional"), ""))
            (f.input("citizenship", "field-citizenship", "text", false, Some("hint-country"), ""))
            (f.select_hinted("relationship", "field-defendant-relationship", &forms::options(tr, "DefendantRelationship", &relationships), "hint-defendant-relationship"))
            (f.select("chargedWith", "field-charged-with", &offenses, false, &current))
            (f.input("chargedOn", "field-charged-on", "date", false, Some("hint-charged-on"), &today))
            button type="submit" { (tr.t("defendant-add")) }
        }
    }
}

fn compensation(p: &Page<'_>, r: &ReportView) -> Markup {
    use v::CompensationStep as S;
    let tr = p.tr;
    let rid = r.id.to_string();
    let c = r.compensation.as_ref();
    let next = match c {
        None => Some(S::Claimed),
        Some(c) if c.awarded.is_none() => Some(S::Awarded),
        Some(c) if c.awarded.is_some_and(|(a, _)| c.paid() < a) => Some(S::Paid),
        Some(_) => None,
    };
    let f = p.f(format!("compensation-{rid}"));
    let currency = c.map(|c| c.currency.as_str().to_string()).unwrap_or_else(|| "KGS".into());
    let today = p.today.to_string();
    let amount = |n: u64, cur: &str| format!("{n} {cur}");
    html! {
        h4 { (tr.t("compensation-title")) }
        @match c {
            None => { p { (tr.t("compensation-none")) } }
            Some(c) => {
                dl.facts {
                    dt { (tr.t("compensation-claimed")) } dd { (amount(c.claimed, c.currency.as_str())) ", " (tr.date(c.claimed_on)) }
                    dt { (tr.t("compensation-awarded")) }
                    dd { @match c.awarded { Some((a, on)) => { (amount(a, c.currency.as_str())) ", " (tr.date(on)) } None => { (tr.t("compensation-not-yet")) } } }
                    dt { (tr.t("compensation-paid")) }
                    dd { (amount(c.paid(), c.currency.as_str()))
                        @for (a, on) in &c.payments { br; span.hint { (amount(*a, c.currency.as_str())) ", " (tr.date(*on)) } } }
                }
            }
        }
        @if let Some(step) = next {
            h5 { (tr.label("CompensationStep", step.as_str())) }
            (f.summary())
            form method="post" action=(p.post("compensation")) novalidate {
                (hidden(&p.csrf)) (rid_field(r)) input type="hidden" name="step" value=(step.as_str());
                (f.input("amount", "field-amount", "number", true, Some("hint-amount"), ""))
                (f.input("currency", "field-currency", "text", true, Some("hint-currency"), &currency))
                (f.input("on", "field-on", "date", true, None, &today))
                button type="submit" { (tr.t("save")) }
            }
        }
    }
}

fn uuid_of(errors: &mut Errors, tr: Tr, form: &Form, name: &str) -> Option<Uuid> {
    let id = form.get(name).and_then(|s| Uuid::parse_str(s).ok());
    if id.is_none() {
        errors.add(name, tr.t("err-rule"));
    }
    id
}

/// Parses one of [`ACTIONS`] into its use case; `None` with `errors` filled when the form
/// is not right.
pub fn command(app: Arc<App>, c: Caller, id: Uuid, action: &str, errors: &mut Errors, tr: Tr, f: &Form) -> Option<Run> {
    if let Some(run) = around_command(app.clone(), c.clone(), id, action, errors, tr, f) {
        return run;
    }
    let report_id = uuid_of(errors, tr, f, "reportId");
    let run: Run = match action {
        "hearing" => {
            let on = errors.date(tr, f, "on", true);
            let court = errors.required(tr, f, "court").map(str::to_string);
            let instance: Option<CourtInstance> = errors.label(tr, f, "instance", true);
            let input =
                HearingInput { report_id: report_id?, hearing_id: None, on: on?, court: court?, instance: instance? };
            Box::pin(async move { app.schedule_hearing(&c, id, input).await.map(|_| ()) })
        }
        "hearing-held" => {
            let hearing_id = uuid_of(errors, tr, f, "hearingId");
            let (report_id, hearing_id) = (report_id?, hearing_id?);
            Box::pin(async move { app.record_hearing_held(&c, id, report_id, hearing_id).await.map(|_| ()) })
        }
        "hearing-postponed" => {
            let hearing_id = uuid_of(errors, tr, f, "hearingId");
            let to = errors.date(tr, f, "to", true);
            let postponed_on = errors.date(tr, f, "postponedOn", false);
            let input = PostponementInput {
                report_id: report_id?,
                hearing_id: hearing_id?,
                to: to?,
                postponed_on,
                reason: f.get("reason").map(str::to_string),
            };
            Box::pin(async move { app.postpone_hearing(&c, id, input).await.map(|_| ()) })
        }
        "appeal" => {
            let instance: Option<CourtInstance> = errors.label(tr, f, "instance", true);
            let filed_on = errors.date(tr, f, "filedOn", true);
            let input =
                AppealInput { report_id: report_id?, appeal_id: None, instance: instance?, filed_on: Some(filed_on?) };
            Box::pin(async move { app.file_appeal(&c, id, input).await.map(|_| ()) })
        }
        "complaint" => {
            let against: Option<v::ComplaintSubject> = errors.label(tr, f, "against", true);
            let with: Option<v::ComplaintAddressee> = errors.label(tr, f, "filedWith", true);
            let filed_on = errors.date(tr, f, "filedOn", true);
            let input = ComplaintInput {
                report_id: report_id?,
                complaint_id: None,
                against: against?,
                filed_with: with?,
                filed_on: Some(filed_on?),
            };
            Box::pin(async move { app.file_complaint(&c, id, input).await.map(|_| ()) })
        }
        "complaint-decision" => {
            let complaint_id = uuid_of(errors, tr, f, "complaintId");
            let outcome: Option<v::ComplaintOutcome> = errors.label(tr, f, "outcome", true);
            let on = errors.date(tr, f, "decidedOn", true);
            let (report_id, complaint_id, outcome, on) = (report_id?, complaint_id?, outcome?, on?);
            Box::pin(async move {
                app.decide_complaint(&c, id, report_id, complaint_id, outcome, Some(on)).await.map(|_| ())
            })
        }
        "defendant" => {
            let role: Option<v::DefendantRole> = errors.label(tr, f, "role", true);
            let gender: Option<v::Gender> = errors.label(tr, f, "gender", true);
            // A malformed age or date leaves its error; the form is then not run.
            let age = errors.number(tr, f, "ageAtOffense");
            let charged_on = errors.date(tr, f, "chargedOn", false);
            let relationship: Option<v::DefendantRelationship> = errors.label(tr, f, "relationship", false);
            let input = DefendantInput {
                report_id: report_id?,
                defendant_id: None,
                gender: gender?,
                age_at_offense: age,
                citizenship: f.get("citizenship").map(str::to_string),
                role: role?,
                charged_with: f.get("chargedWith").map(str::to_string),
                charged_on,
                relationship,
            };
            Box::pin(async move { app.add_defendant(&c, id, input).await.map(|_| ()) })
        }
        "defendant-verdict" => {
            let defendant_id = uuid_of(errors, tr, f, "defendantId");
            let outcome: Option<v::VerdictOutcome> = errors.label(tr, f, "outcome", true);
            let on = errors.date(tr, f, "decidedOn", true);
            let months = errors.number(tr, f, "sentenceMonths");
            let input = DefendantVerdictInput {
                report_id: report_id?,
                defendant_id: defendant_id?,
                outcome: outcome?,
                offense_code: f.get("offenseCode").map(str::to_string),
                decided_on: on?,
                sentence_months: months,
            };
            Box::pin(async move { app.record_defendant_verdict(&c, id, input).await.map(|_| ()) })
        }
        "compensation" => {
            let step: Option<v::CompensationStep> = errors.label(tr, f, "step", true);
            let amount = errors.number(tr, f, "amount");
            if amount.is_none() && errors.of("amount").is_none() {
                errors.add("amount", tr.t("err-required"));
            }
            let currency = errors.required(tr, f, "currency").map(str::to_string);
            let on = errors.date(tr, f, "on", true);
            let input = CompensationInput {
                report_id: report_id?,
                step: step?,
                amount: amount?,
                currency: currency?,
                on: Some(on?),
            };
            Box::pin(async move { app.record_compensation(&c, id, input).await.map(|_| ()) })
        }
        _ => {
            errors.add("reportId", tr.t("err-rule"));
            return None;
        }
    };
    Some(run)
}

/// The facts around the case: `Some` for the actions it knows.
fn around_command(
    app: Arc<App>,
    c: Caller,
    id: Uuid,
    action: &str,
    errors: &mut Errors,
    tr: Tr,
    f: &Form,
) -> Option<Option<Run>> {
    match action {
        "referral-outcome" => {
            let referral = f.get("referral").and_then(|r| r.parse::<i64>().ok());
            if referral.is_none() {
                errors.add("referral", tr.t("err-rule"));
            }
            let outcome: Option<v::ReferralOutcome> = errors.label(tr, f, "outcome", true);
            let on = errors.date(tr, f, "on", true);
            let (Some(referral), Some(outcome), Some(on)) = (referral, outcome, on) else { return Some(None) };
            Some(Some(Box::pin(async move {
                app.record_referral_outcome(&c, id, referral, outcome, Some(on)).await.map(|_| ())
            })))
        }
        "victim-status" => {
            let granted = match f.get("granted") {
                Some("GRANTED") => Some(true),
                Some("REFUSED") => Some(false),
                _ => {
                    errors.add("granted", tr.t("err-choose"));
                    None
                }
            };
            let by = errors.required(tr, f, "decidedBy").map(str::to_string);
            let on = errors.date(tr, f, "decidedOn", true);
            let (Some(granted), Some(by), Some(on)) = (granted, by, on) else { return Some(None) };
            Some(Some(Box::pin(
                async move { app.record_victim_status(&c, id, granted, &by, Some(on)).await.map(|_| ()) },
            )))
        }
        _ => None,
    }
}

/// A referral's outcome, or (for those who may record it) the form for it.
pub fn referral_outcome(p: &Page<'_>, i: usize, r: &projections::model::case::ReferralView, may: bool) -> Markup {
    let tr = p.tr;
    let outcomes: Vec<&str> = v::ReferralOutcome::ALL.iter().map(|o| o.as_str()).collect();
    let f = p.f(format!("referral-outcome-{i}"));
    let today = p.today.to_string();
    html! {
        @match r.outcome {
            Some((o, on)) => { " · " span.badge { (tr.label("ReferralOutcome", o.as_str())) ", " (tr.date(on)) } }
            None if may => {
                details open[!f.errors.is_empty()] {
                    summary { (tr.t("referral-outcome-record")) }
                    (f.summary())
                    form method="post" action=(p.post("referral-outcome")) novalidate {
                        (hidden(&p.csrf)) input type="hidden" name="referral" value=(i);
                        (f.select("outcome", "field-referral-outcome", &forms::options(tr, "ReferralOutcome", &outcomes), true, ""))
                        (f.input("on", "field-on", "date", true, None, &today))
                        button type="submit" { (tr.t("save")) }
                    }
                }
            }
            None => {}
        }
    }
}

/// The formal decision on the client's status as a victim, and its form.
pub fn victim_status(p: &Page<'_>, view: &CaseView, may: bool) -> Markup {
    let tr = p.tr;
    let f = p.f("victim-status".to_string());
    let choices = vec![
        ("GRANTED".to_string(), tr.t("victim-status-granted")),
        ("REFUSED".to_string(), tr.t("victim-status-refused")),
    ];
    let today = p.today.to_string();
    html! {
        section.card aria-labelledby="victim-status-h" {
            h2 #victim-status-h { (tr.t("victim-status-title")) }
            @match &view.victim_status {
                Some(s) => p { strong { (tr.t(if s.granted { "victim-status-granted" } else { "victim-status-refused" })) } ": " (s.decided_by) ", " (tr.date(s.decided_on)) },
                None => p { (tr.t("victim-status-none")) },
            }
            @if may {
                details open[!f.errors.is_empty()] {
                    summary { (tr.t("victim-status-record")) }
                    (f.summary())
                    form method="post" action=(p.post("victim-status")) novalidate {
                        (hidden(&p.csrf))
                        (f.select("granted", "field-victim-status", &choices, true, ""))
                        (f.input("decidedBy", "field-decided-by", "text", true, Some("hint-victim-status-by"), ""))
                        (f.input("decidedOn", "field-decided-on", "date", true, None, &today))
                        button type="submit" { (tr.t("save")) }
                    }
                }
            }
        }
    }
}

/// The case's moves between organisations and, for those who may transfer it
/// (`destinations` is `Some`), the form: the receiving organisation (any other registered
/// one), the day, the reason, and the confirmation that the client agreed. A refusal for a
/// role that may not transfer the case comes back here as a sentence.
pub fn transfer(
    p: &Page<'_>,
    view: &CaseView,
    names: &HashMap<Uuid, String>,
    destinations: Option<&[OrganizationRow]>,
) -> Markup {
    let tr = p.tr;
    let f = p.f("transfer".to_string());
    if view.transfers.is_empty() && destinations.is_none() && f.errors.is_empty() {
        return html! {};
    }
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| tr.t("unknown"));
    let options: Vec<(String, String)> =
        destinations.unwrap_or(&[]).iter().map(|o| (o.id.to_string(), o.name.clone())).collect();
    let today = p.today.to_string();
    let consent = f.id("clientConsent");
    html! {
        section.card aria-labelledby="transfer-h" {
            h2 #transfer-h { (tr.t("transfer-title")) }
            @if view.transfers.is_empty() {
                p { (tr.t("transfer-none")) }
            } @else {
                ul.transfers { @for t in &view.transfers {
                    li { (tr.t_args("transfer-line", &[("date", &tr.date(t.on)), ("from", &name(&t.from)), ("to", &name(&t.to))])) }
                } }
            }
            @if destinations.is_none() && !f.errors.is_empty() {
                div.error-summary role="alert" { ul { @for (_, m) in &f.errors.0 { li { (m) } } } }
            }
            @if destinations.is_some() {
                details #transfer-form open[!f.errors.is_empty()] {
                    summary { (tr.t("transfer-record")) }
                    p.hint { (tr.t("transfer-explain")) }
                    @if !view.consent.data_sharing { p.notice { (tr.t("transfer-no-consent")) } }
                    (f.summary())
                    form method="post" action=(p.post("transfer")) novalidate {
                        (hidden(&p.csrf))
                        (f.select("organizationId", "field-transfer-to", &options, true, ""))
                        (f.input("transferredOn", "field-transferred-on", "date", true, None, &today))
                        (f.input("reason", "field-reason", "text", true, Some("hint-transfer-reason"), ""))
                        @if let Some(e) = f.errors.of(&consent) { span.field-error id={ (consent) "-error" } { (e) } }
                        label.check for=(consent) {
                            input type="checkbox" id=(consent) name="clientConsent" value="true"
                                checked[f.form.checked("clientConsent")]
                                aria-describedby=[f.described_by("clientConsent", false)] aria-invalid=[f.invalid("clientConsent")];
                            span { (tr.t("field-transfer-consent")) }
                        }
                        button type="submit" { (tr.t("transfer-submit")) }
                    }
                }
            }
        }
    }
}

/// `POST /app/cases/{caseId}/transfer` (`transferCase`). Unlike the court forms, a refusal
/// by the policy for someone who sees the case (an intake worker of its organisation) comes
/// back as a sentence on the case page (403), with the form as typed; someone who does not
/// see the case gets the plain 404, as everywhere.
pub async fn transfer_post(ctx: Ctx, Path(case_id): Path<String>, form: Form) -> Response {
    let Some(id) = parse_case_id(&case_id) else { return layout::not_found(&ctx) };
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let to = form.get("organizationId").and_then(|s| Uuid::parse_str(s).ok());
    if to.is_none() {
        errors.add("organizationId", tr.t("err-choose"));
    }
    let on = errors.date(tr, &form, "transferredOn", true);
    let reason = errors.required(tr, &form, "reason").map(str::to_string);
    if !form.checked("clientConsent") {
        errors.add("clientConsent", tr.t("err-transfer-consent"));
    }
    let status = match (to, on, reason, errors.is_empty()) {
        (Some(to), Some(on), Some(reason), true) => {
            let app = ctx.state.app.clone();
            let next = format!("/app/cases/{id}?saved=1");
            let run = async { app.transfer_case(&caller, id, to, &reason, Some(on)).await.map(|_| next) };
            match ctx.once(&caller, &form, run).await {
                Ok(r) => return r,
                Err(ApiError::NotFound(m)) if m.starts_with("no organisation") => {
                    errors.add("organizationId", tr.t("err-choose"));
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                Err(ApiError::NotFound(_)) => return layout::not_found(&ctx),
                Err(e @ ApiError::Forbidden(_)) => {
                    errors.add("organizationId", layout::explain(tr, &e));
                    StatusCode::FORBIDDEN
                }
                Err(e) => {
                    let field = if matches!(&e, ApiError::Rule(m) if m.contains("consented")) {
                        "clientConsent".to_string()
                    } else {
                        layout::field_of(&e, &["transferredOn", "reason"]).unwrap_or_else(|| "organizationId".into())
                    };
                    errors.add(&field, layout::explain(tr, &e));
                    StatusCode::UNPROCESSABLE_ENTITY
                }
            }
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let extra = Extra { errors, form: Some(&form), section: "transfer", status: Some(status), ..Default::default() };
    super::cases::render(&ctx, id, extra, false).await
}
