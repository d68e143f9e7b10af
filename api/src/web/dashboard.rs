//! `/app/dashboard` (AUDITOR, COORDINATOR, ADMIN): the outcome funnel, registrations as
//! trafficking versus fraud by year, reclassifications by authority — each a chart drawn on
//! the server and a table of the same numbers, every number a link to the cases behind it —
//! with filters, a CSV download of each view (suppressed as `probono export stats`
//! suppresses), a print layout, and the official figures beside the ledger's own.

use super::charts;
use super::forms::{self, hidden, Errors, Field, Form};
use super::i18n::Tr;
use super::layout::{self, page, page_status};
use super::session::Ctx;
use crate::access::Op;
use crate::app::export;
use crate::app::figures::{ledger_kind, FigureWithLedger, NewFigure};
use crate::error::ApiError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::values as v;
use maud::{html, Markup};
use projections::model::facts::FactKind;
use projections::stats::{Counts, Dimension, OutcomeStats, StatsFilter};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Cells under this are suppressed in downloads and in the publication view.
const K: i64 = 5;

/// The funnel's steps, in order.
const FUNNEL: &[FactKind] = &[
    FactKind::CasesOpened,
    FactKind::LawyersAssigned,
    FactKind::PoliceReportsFiled,
    FactKind::RegisteredAsTip,
    FactKind::RegisteredAsTipRelated,
    FactKind::RegisteredAsFraud,
    FactKind::RegisteredAsOther,
    FactKind::RegistrationRefused,
    FactKind::ReclassifiedToTip,
    FactKind::SentToCourt,
    FactKind::Convictions,
    FactKind::Acquittals,
];

/// The counts by year.
const BY_YEAR: &[FactKind] = &[FactKind::RegisteredAsTip, FactKind::RegisteredAsFraud, FactKind::ReclassifiedToTip];

/// The counts by authority.
const BY_AUTHORITY: &[FactKind] = &[FactKind::ReclassifiedToTip, FactKind::ReclassifiedFromTip];

const AGE_GROUPS: &[&str] = &["MINOR", "ADULT", "UNKNOWN"];

/// The dashboard's filters, as the GET form sends them (names as `StatsFilter` and the
/// `StatsDimension` values).
#[derive(Debug, Clone, Default)]
struct Filters {
    stats: StatsFilter,
    picks: Vec<(Dimension, String)>,
    /// Show the tables as they would be published (cells under K suppressed).
    publish: bool,
    /// The query string that reproduces these filters.
    query: Vec<(&'static str, String)>,
}

impl Filters {
    fn parse(tr: Tr, form: &Form, errors: &mut Errors) -> Filters {
        let mut f = Filters::default();
        f.stats.from = errors.date(tr, form, "from", false);
        f.stats.to = errors.date(tr, form, "to", false);
        if let (Some(a), Some(b)) = (f.stats.from, f.stats.to) {
            if a > b {
                errors.add("to", tr.t("err-date-order"));
            }
        }
        f.stats.region = errors.label(tr, form, "region", false);
        f.stats.offense_category = errors.label(tr, form, "offenseCategory", false);
        if let Some(o) = form.get("organizationId") {
            match Uuid::parse_str(o) {
                Ok(id) => f.stats.organization_id = Some(id),
                Err(_) => errors.add("organizationId", tr.t("err-choose")),
            }
        }
        let gender: Option<v::Gender> = errors.label(tr, form, "gender", false);
        let exploitation: Option<v::ExploitationType> = errors.label(tr, form, "exploitationType", false);
        if let Some(g) = gender {
            f.picks.push((Dimension::Gender, g.as_str().to_string()));
        }
        if let Some(a) = form.get("ageGroup") {
            if AGE_GROUPS.contains(&a) {
                f.picks.push((Dimension::AgeGroup, a.to_string()));
            } else {
                errors.add("ageGroup", tr.t("err-choose"));
            }
        }
        if let Some(e) = exploitation {
            f.picks.push((Dimension::ExploitationType, e.as_str().to_string()));
        }
        f.publish = form.checked("publish");
        for name in
            ["from", "to", "region", "organizationId", "exploitationType", "gender", "ageGroup", "offenseCategory"]
        {
            if let Some(v) = form.get(name) {
                if errors.of(name).is_none() {
                    f.query.push((name, v.to_string()));
                }
            }
        }
        if f.publish {
            f.query.push(("publish", "on".into()));
        }
        f
    }

    /// The query string of these filters plus `extra`.
    fn href(&self, path: &str, extra: &[(&str, String)]) -> String {
        let mut q = form_urlencoded(self.query.iter().map(|(k, v)| (*k, v.as_str())));
        let more = form_urlencoded(extra.iter().map(|(k, v)| (*k, v.as_str())));
        if !more.is_empty() {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&more);
        }
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }

    /// The filters in words, for the printed report and the case list.
    fn described(&self, tr: Tr, orgs: &[(String, String)]) -> Vec<(String, String)> {
        let mut out = vec![];
        if let Some(d) = self.stats.from {
            out.push((tr.t("dash-from"), tr.date(d)));
        }
        if let Some(d) = self.stats.to {
            out.push((tr.t("dash-to"), tr.date(d)));
        }
        if let Some(r) = self.stats.region {
            out.push((tr.t("field-region"), tr.label("Region", r.as_str())));
        }
        if let Some(o) = self.stats.organization_id {
            let name = orgs.iter().find(|(id, _)| *id == o.to_string()).map(|(_, n)| n.clone());
            out.push((tr.t("dash-organization"), name.unwrap_or_else(|| o.to_string())));
        }
        for (d, v) in &self.picks {
            let (label, kind) = match d {
                Dimension::Gender => ("field-gender", "Gender"),
                Dimension::AgeGroup => ("dash-age-group", "AgeGroup"),
                _ => ("field-exploitation-type", "ExploitationType"),
            };
            out.push((tr.t(label), tr.label(kind, v)));
        }
        if let Some(c) = self.stats.offense_category {
            out.push((tr.t("dash-offense-category"), tr.label("OffenseCategory", c.as_str())));
        }
        out
    }
}

fn form_urlencoded<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    pairs.map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// Percent-encodes a query component.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn kind_label(tr: Tr, k: FactKind) -> String {
    tr.label("Fact", k.as_str())
}

fn count(c: &Counts, k: FactKind) -> i64 {
    c.get(&k).copied().unwrap_or(0)
}

/// Which cells of a view the publication view hides: the export's own rule, per column.
fn suppressed(stats: &OutcomeStats, kinds: &[FactKind]) -> BTreeMap<(Vec<String>, FactKind), bool> {
    let mut out = BTreeMap::new();
    for k in kinds {
        let cells: BTreeMap<Vec<String>, i64> =
            stats.groups.iter().map(|(key, c)| (key.clone(), count(c, *k))).collect();
        let hidden = export::suppressed_cells(&cells, K);
        for key in cells.keys() {
            out.insert((key.clone(), *k), hidden.contains(key));
        }
        let total = count(&stats.totals, *k);
        out.insert((vec![], *k), (1..K).contains(&total));
    }
    out
}

/// One number of a table: a link to the cases behind it, or `<5` in the publication view.
fn cell(f: &Filters, n: i64, hidden: bool, kind: FactKind, at: &[(&str, String)]) -> Markup {
    if hidden {
        return html! { td { "<" (K) } };
    }
    let mut extra = vec![("kind", kind.as_str().to_string())];
    extra.extend(at.iter().map(|(k, v)| (*k, v.clone())));
    html! { td.num { a href=(f.href("/app/dashboard/cases", &extra)) { (n) } } }
}

async fn organization_options(ctx: &Ctx) -> Vec<(String, String)> {
    let Ok(caller) = ctx.caller() else { return vec![] };
    ctx.state
        .app
        .organizations(&caller)
        .await
        .map(|os| os.into_iter().map(|o| (o.id.to_string(), o.name)).collect())
        .unwrap_or_default()
}

fn filter_form(ctx: &Ctx, form: &Form, errors: &Errors, orgs: &[(String, String)]) -> Markup {
    let tr = ctx.tr;
    let f =
        |name: &'static str, label: &str| Field { name, label: tr.t(label), hint: None, value: form.raw(name), errors };
    let opts = |kind: &str, labels: Vec<&'static str>| forms::options(tr, kind, &labels);
    let any = tr.t("any");
    html! {
        section.card.no-print aria-labelledby="filters-h" {
            h2 #filters-h { (tr.t("dash-filters")) }
            (errors.summary(tr))
            form.filters method="get" action="/app/dashboard" {
                div.grid {
                    div { (f("from", "dash-from").input("date", false)) }
                    div { (f("to", "dash-to").input("date", false)) }
                    div { (f("region", "field-region").select(&opts("Region", v::Region::ALL.iter().map(|r| r.as_str()).collect()), false, &any)) }
                    div { (f("organizationId", "dash-organization").select(orgs, false, &any)) }
                    div { (f("exploitationType", "field-exploitation-type").select(&opts("ExploitationType", v::ExploitationType::ALL.iter().map(|r| r.as_str()).collect()), false, &any)) }
                    div { (f("gender", "field-gender").select(&opts("Gender", v::Gender::ALL.iter().map(|r| r.as_str()).collect()), false, &any)) }
                    div { (f("ageGroup", "dash-age-group").select(&opts("AgeGroup", AGE_GROUPS.to_vec()), false, &any)) }
                    div { (f("offenseCategory", "dash-offense-category").select(&opts("OffenseCategory", v::OffenseCategory::ALL.iter().map(|r| r.as_str()).collect()), false, &any)) }
                }
                label.check for="publish" {
                    input type="checkbox" id="publish" name="publish" value="on" checked[form.checked("publish")];
                    span { (tr.t("dash-publish")) }
                }
                button type="submit" { (tr.t("dash-apply")) }
                " "
                a href="/app/dashboard" { (tr.t("dash-clear")) }
            }
        }
    }
}

/// The report's heading for print: when, with which filters, and how small cells are shown.
fn report_head(tr: Tr, f: &Filters, orgs: &[(String, String)]) -> Markup {
    let described = f.described(tr, orgs);
    let today = chrono::Utc::now().date_naive();
    html! {
        section.report-head aria-label=(tr.t("dash-report")) {
            p { (tr.t_args("dash-generated", &[("date", &tr.date(today))])) }
            p {
                (tr.t("dash-filters")) ": "
                @if described.is_empty() { (tr.t("dash-no-filters")) }
                @for (i, (k, v)) in described.iter().enumerate() {
                    @if i > 0 { "; " }
                    (k) " — " (v)
                }
            }
            p { @if f.publish { (tr.t_args("dash-suppressed-note", &[("k", &K.to_string())])) } @else { (tr.t_args("dash-exact-note", &[("k", &K.to_string())])) } }
        }
    }
}

fn downloads(tr: Tr, f: &Filters, view: &str) -> Markup {
    html! {
        p.no-print { a download href=(f.href("/app/dashboard/export.csv", &[("view", view.to_string())])) { (tr.t("dash-download-csv")) } }
    }
}

/// `GET /app/dashboard`.
pub async fn show(ctx: Ctx, form: Form) -> Response {
    let saved = form.get("saved").is_some().then_some(true);
    Box::pin(render(&ctx, &form, &Form::default(), &Errors::default(), saved)).await
}

async fn render(ctx: &Ctx, query: &Form, posted: &Form, figure_errors: &Errors, saved: Option<bool>) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadStatistics) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let f = Filters::parse(tr, query, &mut errors);
    let orgs = organization_options(ctx).await;
    let app = &ctx.state.app;
    let (stats, f) = if errors.is_empty() { (Some(&f.stats), f.clone()) } else { (None, Filters::default()) };
    let sf = stats.cloned().unwrap_or_default();
    let picks = &f.picks;
    // Boxed: four use cases at once make a large future for a worker thread's stack.
    let all = Box::pin(async {
        futures::try_join!(
            Box::pin(app.outcome_stats_where(&caller, &sf, picks, &[])),
            Box::pin(app.outcome_stats_where(&caller, &sf, picks, &[Dimension::Year])),
            Box::pin(app.outcome_stats_where(&caller, &sf, picks, &[Dimension::Authority])),
            Box::pin(app.published_figures(&caller, None)),
        )
    });
    let (totals, years, authorities, figures) = match all.await {
        Ok(x) => x,
        Err(e) => return layout::error_page(ctx, &e),
    };
    let body = html! {
        (report_head(tr, &f, &orgs))
        (filter_form(ctx, query, &errors, &orgs))
        (funnel_section(tr, &f, &totals))
        (years_section(tr, &f, &years))
        (authority_section(tr, &f, &authorities))
        (figures_section(ctx, &figures, posted, figure_errors, saved))
        @if ctx.may(Op::ReadIdentityLog) {
            p.no-print { a href="/app/audit" { (tr.t("dash-audit-log")) } }
        }
    };
    let status =
        if errors.is_empty() && figure_errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &tr.t("dash-title"), body)
}

fn funnel_section(tr: Tr, f: &Filters, s: &OutcomeStats) -> Markup {
    let hide = suppressed(s, FUNNEL);
    let rows: Vec<(String, i64)> = FUNNEL
        .iter()
        .filter(|k| !(f.publish && hide.get(&(vec![], **k)).copied().unwrap_or(false)))
        .map(|k| (kind_label(tr, *k), count(&s.totals, *k)))
        .collect();
    html! {
        section.card aria-labelledby="funnel-h" {
            h2 #funnel-h { (tr.t("dash-funnel")) }
            p.hint { (tr.t("dash-funnel-hint")) }
            div.chart { (maud::PreEscaped(charts::bars(&tr.t("dash-funnel"), &rows))) }
            div.table-wrap { table {
                caption { (tr.t("dash-funnel")) }
                thead { tr { th scope="col" { (tr.t("dash-step")) } th scope="col" { (tr.t("dash-count")) } } }
                tbody { @for k in FUNNEL {
                    tr {
                        th scope="row" { (kind_label(tr, *k)) }
                        (cell(f, count(&s.totals, *k), f.publish && hide[&(vec![], *k)], *k, &[]))
                    }
                } }
            } }
            (downloads(tr, f, "funnel"))
        }
    }
}

fn years_section(tr: Tr, f: &Filters, s: &OutcomeStats) -> Markup {
    let hide = suppressed(s, BY_YEAR);
    let years: Vec<i32> = s.groups.keys().filter_map(|k| k.first().and_then(|y| y.parse().ok())).collect();
    let series: Vec<(String, Vec<i64>)> = BY_YEAR
        .iter()
        .map(|k| {
            let values = s.groups.values().map(|c| count(c, *k)).collect();
            (kind_label(tr, *k), values)
        })
        .collect();
    html! {
        section.card aria-labelledby="years-h" {
            h2 #years-h { (tr.t("dash-by-year")) }
            p.hint { (tr.t("dash-by-year-hint")) }
            @if years.is_empty() {
                p { (tr.t("dash-nothing")) }
            } @else {
                @if !f.publish { div.chart { (maud::PreEscaped(charts::lines(&tr.t("dash-by-year"), &years, &series))) } }
                div.table-wrap { table {
                    caption { (tr.t("dash-by-year")) }
                    thead { tr {
                        th scope="col" { (tr.t("dash-year")) }
                        @for k in BY_YEAR { th scope="col" { (kind_label(tr, *k)) } }
                    } }
                    tbody { @for (key, c) in &s.groups {
                        tr {
                            th scope="row" { (key.join(" ")) }
                            @for k in BY_YEAR {
                                (cell(f, count(c, *k), f.publish && hide[&(key.clone(), *k)], *k, &[("year", key.join(""))]))
                            }
                        }
                    } }
                } }
            }
            (downloads(tr, f, "years"))
        }
    }
}

fn authority_section(tr: Tr, f: &Filters, s: &OutcomeStats) -> Markup {
    // Every count that is not a reclassification has no authority (NONE): left out.
    let mut s = s.clone();
    s.groups.retain(|k, _| k.first().is_some_and(|a| a != "NONE"));
    let hide = suppressed(&s, BY_AUTHORITY);
    let rows: Vec<(String, i64)> = s
        .groups
        .iter()
        .map(|(k, c)| (tr.label("Authority", &k.join("")), count(c, FactKind::ReclassifiedToTip)))
        .collect();
    html! {
        section.card aria-labelledby="authority-h" {
            h2 #authority-h { (tr.t("dash-by-authority")) }
            p.hint { (tr.t("dash-by-authority-hint")) }
            @if s.groups.is_empty() {
                p { (tr.t("dash-nothing")) }
            } @else {
                @if !f.publish { div.chart { (maud::PreEscaped(charts::bars(&tr.t("dash-by-authority"), &rows))) } }
                div.table-wrap { table {
                    caption { (tr.t("dash-by-authority")) }
                    thead { tr {
                        th scope="col" { (tr.t("field-decided-by")) }
                        @for k in BY_AUTHORITY { th scope="col" { (kind_label(tr, *k)) } }
                    } }
                    tbody { @for (key, c) in &s.groups {
                        tr {
                            th scope="row" { (tr.label("Authority", &key.join(""))) }
                            @for k in BY_AUTHORITY {
                                (cell(f, count(c, *k), f.publish && hide[&(key.clone(), *k)], *k, &[("authority", key.join(""))]))
                            }
                        }
                    } }
                } }
            }
            (downloads(tr, f, "authorities"))
        }
    }
}

/// One table per indicator: a row per year, a column per source and the ledger's count;
/// a source that differs from the ledger is marked with a sign and a word, not colour alone.
fn figures_section(
    ctx: &Ctx,
    figures: &[FigureWithLedger],
    posted: &Form,
    errors: &Errors,
    saved: Option<bool>,
) -> Markup {
    let tr = ctx.tr;
    let mut by_indicator: Vec<(String, Vec<&FigureWithLedger>)> = vec![];
    for fig in figures {
        match by_indicator.iter_mut().find(|(i, _)| i.eq_ignore_ascii_case(&fig.figure.indicator)) {
            Some((_, v)) => v.push(fig),
            None => by_indicator.push((fig.figure.indicator.clone(), vec![fig])),
        }
    }
    let may_record = ctx.may(Op::RecordPublishedFigure);
    let field = |name: &'static str, label: &str, hint: Option<&str>| Field {
        name,
        label: tr.t(label),
        hint: hint.map(|h| tr.t(h)),
        value: posted.raw(name),
        errors,
    };
    html! {
        section.card aria-labelledby="figures-h" {
            h2 #figures-h { (tr.t("dash-figures")) }
            p.hint { (tr.t("dash-figures-hint")) }
            @if saved == Some(true) { div.notice role="status" { p { (tr.t("saved")) } } }
            @if by_indicator.is_empty() { p { (tr.t("dash-figures-none")) } }
            @for (n, (indicator, rows)) in by_indicator.iter().enumerate() {
                @let sources: Vec<String> = {
                    let mut s: Vec<String> = vec![];
                    for r in rows { if !s.contains(&r.figure.source) { s.push(r.figure.source.clone()); } }
                    s
                };
                @let years: std::collections::BTreeSet<i32> = rows.iter().map(|r| r.figure.year).collect();
                @let counted = ledger_kind(indicator).is_some();
                h3 id={ "indicator-" (n) } { (indicator) }
                div.table-wrap { table.figures aria-labelledby={ "indicator-" (n) } {
                    thead { tr {
                        th scope="col" { (tr.t("dash-year")) }
                        @for s in &sources { th scope="col" { (s) } }
                        th scope="col" { (tr.t("dash-ledger")) }
                    } }
                    tbody { @for y in &years {
                        @let ledger = rows.iter().find(|r| r.figure.year == *y).and_then(|r| r.ledger_value);
                        tr {
                            th scope="row" { (y) }
                            @for s in &sources {
                                @let fig = rows.iter().find(|r| r.figure.year == *y && &r.figure.source == s);
                                @match fig.map(|r| r.figure.value) {
                                    None | Some(None) => td.nodata { abbr title=(tr.t("dash-no-figure")) { "—" } span.skip { (tr.t("dash-no-figure")) } },
                                    Some(Some(v)) => {
                                        @if ledger.is_some_and(|l| l != v) {
                                            td.differs { (v) " " span.diff { "≠ " (tr.t("dash-differs")) } }
                                        } @else {
                                            td.num { (v) }
                                        }
                                    },
                                }
                            }
                            @match ledger {
                                Some(l) => td.num.ledger { strong { (l) } },
                                None => td { (tr.t("dash-not-counted")) },
                            }
                        }
                    } }
                } }
                @if counted { p.hint { (tr.t("dash-ledger-hint")) } }
                p.hint { (tr.t("dash-citations")) ":" }
                ul.citations { @for s in &sources {
                    @if let Some(r) = rows.iter().find(|r| &r.figure.source == s) { li { strong { (s) } ": " (r.figure.citation) } }
                } }
            }
            @if may_record {
                details.no-print open[!errors.is_empty()] {
                    summary { (tr.t("dash-record-figure")) }
                    (errors.summary(tr))
                    form method="post" action="/app/dashboard/figures" novalidate {
                        (hidden(&ctx.csrf()))
                        (field("source", "dash-source", Some("dash-source-hint")).input("text", true))
                        (field("citation", "dash-citation", Some("dash-citation-hint")).input("text", true))
                        (field("indicator", "dash-indicator", Some("dash-indicator-hint")).input("text", true))
                        (field("year", "dash-year", None).input("number", true))
                        (field("value", "dash-value", Some("dash-value-hint")).input("number", false))
                        button type="submit" { (tr.t("save")) }
                    }
                }
            }
        }
    }
}

/// `POST /app/dashboard/figures`: records one published figure.
pub async fn record_figure(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::RecordPublishedFigure) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let source = errors.required(tr, &form, "source").map(str::to_string);
    let citation = errors.required(tr, &form, "citation").map(str::to_string);
    let indicator = errors.required(tr, &form, "indicator").map(str::to_string);
    let year = errors.required(tr, &form, "year").and_then(|_| errors.number(tr, &form, "year"));
    let value = errors.number(tr, &form, "value");
    let (Some(source), Some(citation), Some(indicator), Some(year), true) =
        (source, citation, indicator, year, errors.is_empty())
    else {
        return Box::pin(render(&ctx, &Form::default(), &form, &errors, None)).await;
    };
    let input =
        NewFigure { source, citation, indicator, year: year.clamp(i32::MIN as i64, i32::MAX as i64) as i32, value };
    let app = ctx.state.app.clone();
    let run = async {
        app.record_published_figure(&caller, input).await.map(|_| "/app/dashboard?saved=1#figures-h".to_string())
    };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e @ (ApiError::BadInput(_) | ApiError::Rule(_))) => {
            let field = layout::field_of(&e, &["year", "value", "source", "citation", "indicator"])
                .unwrap_or_else(|| "source".into());
            let message =
                if field == "year" || field == "value" { tr.t("dash-err-figure") } else { layout::explain(tr, &e) };
            errors.add(&field, message);
            Box::pin(render(&ctx, &Form::default(), &form, &errors, None)).await
        }
        Err(e) => layout::error_page(&ctx, &e),
    }
}

/// `GET /app/dashboard/cases`: the cases behind one number (references, dates, outcomes; no
/// identity), each linking to the case's page and its timeline.
pub async fn cases(ctx: Ctx, form: Form) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadStatistics) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let mut f = Filters::parse(tr, &form, &mut errors);
    let kind = form.get("kind").and_then(FactKind::parse);
    if let Some(y) = form.get("year") {
        f.picks.push((Dimension::Year, y.to_string()));
    }
    if let Some(a) = form.get("authority") {
        f.picks.push((Dimension::Authority, a.to_string()));
    }
    let Some(kind) = kind.filter(|_| errors.is_empty()) else {
        return layout::error_page(&ctx, &ApiError::BadInput(tr.t("dash-err-filters")));
    };
    let (list, total) = match Box::pin(ctx.state.app.cases_behind(&caller, &f.stats, &f.picks, kind)).await {
        Ok(x) => x,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let orgs = organization_options(&ctx).await;
    let mut described = f.described(tr, &orgs);
    for (d, v) in &f.picks {
        match d {
            Dimension::Year => described.push((tr.t("dash-year"), v.clone())),
            Dimension::Authority => described.push((tr.t("field-decided-by"), tr.label("Authority", v))),
            _ => {}
        }
    }
    let body = html! {
        section.card {
            p { strong { (kind_label(tr, kind)) } }
            @if !described.is_empty() {
                ul { @for (k, v) in &described { li { (k) ": " (v) } } }
            }
            p { (tr.t_args("dash-cases-count", &[("n", &total.to_string()), ("shown", &list.len().to_string())])) }
            p.hint { (tr.t("dash-cases-hint")) }
            (super::cases::case_table(tr, &list.iter().map(|c| c.as_ref()).collect::<Vec<_>>()))
            p.no-print { a href=(f.href("/app/dashboard", &[])) { (tr.t("dash-back")) } }
        }
    };
    page(&ctx, &tr.t("dash-cases-title"), body)
}

/// `GET /app/dashboard/export.csv?view=funnel|years|authorities`: the view as CSV, through
/// the same code and the same suppression (cells under 5) as `probono export stats`.
pub async fn export_csv(ctx: Ctx, form: Form) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::ReadStatistics) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let f = Filters::parse(tr, &form, &mut errors);
    let (by, name): (Vec<Dimension>, &str) = match form.get("view").unwrap_or("funnel") {
        "funnel" => (vec![], "funnel"),
        "years" => (vec![Dimension::Year], "by-year"),
        "authorities" => (vec![Dimension::Authority], "by-authority"),
        _ => {
            errors.add("view", tr.t("err-choose"));
            (vec![], "")
        }
    };
    if !errors.is_empty() {
        return layout::error_page(&ctx, &ApiError::BadInput(tr.t("dash-err-filters")));
    }
    let stats = match Box::pin(ctx.state.app.outcome_stats_where(&caller, &f.stats, &f.picks, &by)).await {
        Ok(s) => s,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let dims: Vec<String> = by.iter().map(|d| d.name().to_string()).collect();
    let csv = match export::to_csv(&stats, &dims, K) {
        Ok(c) => c,
        Err(e) => return layout::error_page(&ctx, &e),
    };
    let mut r = csv.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let file = format!("attachment; filename=\"probono-{name}-{}.csv\"", chrono::Utc::now().date_naive());
    if let Ok(v) = HeaderValue::from_str(&file) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}
