//! `/app/admin/offenses`: the ADMIN's view of the offence catalogue — every article of every
//! edition of the Criminal Code with the category it counts under, the edition's dates in
//! force and each entry's source — with the forms to add an article (a source citation is
//! required) and to retire one (with a reason; reports that cite it keep it).

use super::forms::{self, hidden, Errors, Field, Form};
use super::layout::{self, page_status};
use super::legal::offense_title;
use super::session::Ctx;
use crate::access::Op;
use crate::app::catalogue::NewOffense;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use domain::offense::{editions, Edition};
use domain::values::OffenseCategory;
use maud::{html, Markup};
use projections::store::OffenseRow;

/// A code as the catalogue writes them: `<edition>-<article>`, letters, digits, `-`, `.`.
fn valid_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 40 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn table(ctx: &Ctx, rows: &[&OffenseRow]) -> Markup {
    let tr = ctx.tr;
    html! {
        div.table-wrap { table {
            thead { tr {
                th scope="col" { (tr.t("col-article")) }
                th scope="col" { (tr.t("col-title")) }
                th scope="col" { (tr.t("field-category")) }
                th scope="col" { (tr.t("col-status")) }
            } }
            tbody { @for o in rows { tr {
                td { a href={ "/app/admin/offenses/" (o.code) } { (tr.t_args("article", &[("article", &o.article)])) } }
                td { (offense_title(tr, o)) }
                td { (tr.label("OffenseCategory", o.category.as_str())) }
                td { (tr.t(if o.retired { "offense-retired" } else { "offense-active" })) }
            } } }
        } }
    }
}

fn era(ctx: &Ctx, e: &Edition) -> Markup {
    let tr = ctx.tr;
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| tr.date(d)).unwrap_or_else(|| tr.t("catalogue-not-verified"));
    html! {
        dl.facts {
            dt { (tr.t("catalogue-in-force-from")) } dd { (day(e.in_force_from)) }
            dt { (tr.t("catalogue-in-force-until")) } dd { (day(e.in_force_until)) }
        }
    }
}

/// `GET /app/admin/offenses`.
pub async fn list(ctx: Ctx) -> Response {
    list_page(&ctx, &Form::default(), &Errors::default()).await
}

async fn list_page(ctx: &Ctx, form: &Form, errors: &Errors) -> Response {
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !ctx.may(Op::AddOffense) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let catalogue = match ctx.state.app.catalogue(&caller).await {
        Ok(c) => c,
        Err(e) => return layout::error_page(ctx, &e),
    };
    // Newest code first: that is the one new decisions mostly apply.
    let known: Vec<&Edition> = editions().iter().rev().collect();
    let others: Vec<&OffenseRow> = catalogue.iter().filter(|o| !known.iter().any(|e| e.edition == o.edition)).collect();
    let categories: Vec<&str> = OffenseCategory::ALL.iter().map(|c| c.as_str()).collect();
    let f = |name: &'static str, label: &str, hint: Option<&str>| Field {
        name,
        label: tr.t(label),
        hint: hint.map(|h| tr.t(h)),
        value: form.raw(name),
        errors,
    };
    let body = html! {
        p { (tr.t("catalogue-intro")) }
        @for e in &known {
            @let rows: Vec<&OffenseRow> = catalogue.iter().filter(|o| o.edition == e.edition).collect();
            section.card aria-labelledby={ "edition-" (e.edition) } {
                h2 id={ "edition-" (e.edition) } { (tr.t(&format!("edition-{}", e.edition))) }
                p.hint { (e.name) }
                (era(ctx, e))
                (table(ctx, &rows))
            }
        }
        @if !others.is_empty() {
            section.card aria-labelledby="edition-other" {
                h2 #edition-other { (tr.t("catalogue-other-editions")) }
                (table(ctx, &others))
            }
        }
        section.card aria-labelledby="offense-add-h" {
            h2 #offense-add-h { (tr.t("offense-add-title")) }
            (errors.summary(tr))
            form method="post" action="/app/admin/offenses" novalidate {
                (hidden(&ctx.csrf()))
                (f("edition", "field-edition", Some("hint-edition")).input("text", true))
                (f("article", "field-article", Some("hint-article")).input("text", true))
                (f("title", "field-title-en", None).input("text", true))
                (f("titleRu", "field-title-ru", Some("hint-title-official")).input("text", false))
                (f("titleKy", "field-title-ky", Some("hint-title-official")).input("text", false))
                (f("category", "field-category", None).select(&forms::options(tr, "OffenseCategory", &categories), true, &tr.t("choose")))
                (f("source", "field-source", Some("hint-source")).textarea())
                button type="submit" { (tr.t("offense-add")) }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &tr.t("catalogue-title"), body)
}

/// `POST /app/admin/offenses`: adds an article with its source; then shows it.
pub async fn add(ctx: Ctx, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let edition = errors.required(tr, &form, "edition").map(str::to_string);
    let article = errors.required(tr, &form, "article").map(str::to_string);
    let title = errors.required(tr, &form, "title").map(str::to_string);
    let category: Option<OffenseCategory> = errors.label(tr, &form, "category", true);
    let source = errors.required(tr, &form, "source").map(str::to_string);
    if let (Some(e), Some(a)) = (&edition, &article) {
        if !valid_code(&format!("{}-{}", e.trim(), a.trim())) {
            errors.add("article", tr.t("err-offense-code-shape"));
        }
    }
    let (Some(edition), Some(article), Some(title), Some(category), Some(source), true) =
        (edition, article, title, category, source, errors.is_empty())
    else {
        return list_page(&ctx, &form, &errors).await;
    };
    let optional = |name: &str| form.get(name).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let input = NewOffense {
        edition,
        article,
        title,
        title_ru: optional("titleRu"),
        title_ky: optional("titleKy"),
        category,
        source,
    };
    let app = ctx.state.app.clone();
    let run = async { app.add_offense(&caller, input).await.map(|o| format!("/app/admin/offenses/{}", o.code)) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => {
            errors.add("article", layout::explain(tr, &e));
            list_page(&ctx, &form, &errors).await
        }
    }
}

/// `GET /app/admin/offenses/{code}`: one article, and the form to retire it.
pub async fn show(ctx: Ctx, Path(code): Path<String>) -> Response {
    entry_page(&ctx, &code, &Form::default(), &Errors::default()).await
}

async fn entry_page(ctx: &Ctx, code: &str, form: &Form, errors: &Errors) -> Response {
    if let Err(r) = ctx.caller() {
        return r;
    }
    if !ctx.may(Op::RetireOffense) || !valid_code(code) {
        return layout::not_found(ctx);
    }
    let tr = ctx.tr;
    let o = match ctx.state.app.offense(code).await {
        Ok(Some(o)) => o,
        Ok(None) => return layout::not_found(ctx),
        Err(e) => return layout::error_page(ctx, &e),
    };
    let edition = domain::offense::edition_of(&o.code);
    let body = html! {
        section.card {
            dl.facts {
                dt { (tr.t("field-edition")) } dd { (edition.map(|e| e.name.clone()).unwrap_or_else(|| o.edition.clone())) }
                dt { (tr.t("field-title-en")) } dd { (o.title_en) }
                dt { (tr.t("field-title-ru")) } dd { (o.title_ru.clone().unwrap_or_else(|| "—".into())) }
                dt { (tr.t("field-title-ky")) } dd { (o.title_ky.clone().unwrap_or_else(|| "—".into())) }
                dt { (tr.t("field-category")) } dd { (tr.label("OffenseCategory", o.category.as_str())) }
                dt { (tr.t("field-source")) } dd { (o.source.clone().unwrap_or_else(|| "—".into())) }
                dt { (tr.t("col-status")) } dd { (tr.t(if o.retired { "offense-retired" } else { "offense-active" })) }
            }
            @if let Some(e) = edition { (era(ctx, e)) }
            p { a href="/app/admin/offenses" { (tr.t("catalogue-back")) } }
        }
        @if !o.retired {
            section.card aria-labelledby="retire-h" {
                h2 #retire-h { (tr.t("offense-retire-title")) }
                p { (tr.t("offense-retire-intro")) }
                (errors.summary(tr))
                form method="post" action={ "/app/admin/offenses/" (o.code) "/retire" } novalidate {
                    (hidden(&ctx.csrf()))
                    (Field { name: "reason", label: tr.t("field-reason"), hint: Some(tr.t("hint-retire-reason")), value: form.raw("reason"), errors }.input("text", true))
                    button.danger type="submit" { (tr.t("offense-retire")) }
                }
            }
        }
    };
    let title = format!("{} — {}", tr.t_args("article", &[("article", &o.article)]), offense_title(tr, &o));
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    page_status(ctx, status, &title, body)
}

/// `POST /app/admin/offenses/{code}/retire`.
pub async fn retire(ctx: Ctx, Path(code): Path<String>, form: Form) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let caller = match ctx.caller() {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !valid_code(&code) {
        return layout::not_found(&ctx);
    }
    let tr = ctx.tr;
    let mut errors = Errors::default();
    let Some(reason) = errors.required(tr, &form, "reason").map(str::to_string) else {
        return entry_page(&ctx, &code, &form, &errors).await;
    };
    let app = ctx.state.app.clone();
    let next = format!("/app/admin/offenses/{code}");
    let run = async { app.retire_offense(&caller, &code, &reason).await.map(|_| next.clone()) };
    match ctx.once(&caller, &form, run).await {
        Ok(r) => r,
        Err(e) => {
            errors.add("reason", layout::explain(tr, &e));
            entry_page(&ctx, &code, &form, &errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::valid_code;

    #[test]
    fn codes_are_edition_dash_article_and_nothing_else() {
        assert!(valid_code("2021-166"));
        assert!(valid_code("1997-124-1"));
        assert!(!valid_code(""));
        assert!(!valid_code("2021-166/../x"));
        assert!(!valid_code("2021 166"));
        assert!(!valid_code(&"9".repeat(41)));
    }
}
