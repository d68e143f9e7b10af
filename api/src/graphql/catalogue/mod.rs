//! The offence catalogue: its type, query and mutations.

use super::enums::OffenseCategory;
use super::scalars::Date;
use super::{app, caller, Res};
use crate::app::catalogue::NewOffense;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use domain::offense::OffenseRef;
use projections::store::OffenseRow;

#[derive(SimpleObject, Clone)]
pub struct Offense {
    /// `<edition>-<article>`, e.g. `2021-166`.
    pub code: String,
    pub edition: String,
    pub article: String,
    /// English title.
    pub title: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    pub retired: bool,
    pub source: Option<String>,
    /// The first day the article's code was in force, where a cited source states it.
    pub in_force_from: Option<Date>,
    /// The last day the code was in force, where a cited source states it. Its articles
    /// stay usable afterwards (acts committed while it was in force).
    pub in_force_until: Option<Date>,
    /// The code the article belongs to, e.g. "Criminal Code of the Kyrgyz Republic of 28
    /// October 2021 No. 127".
    pub edition_name: Option<String>,
    /// The earliest day a registration, reclassification, charge or verdict may apply the
    /// article: `inForceFrom`, or where that is not verified, the date of the code itself.
    pub applies_from: Option<Date>,
}

/// The era fields of an offence code, from the edition its code names.
fn era(code: &str) -> (Option<Date>, Option<Date>, Option<String>, Option<Date>) {
    match domain::offense::edition_of(code) {
        Some(e) => {
            (e.in_force_from.map(Date), e.in_force_until.map(Date), Some(e.name.clone()), Some(Date(e.applies_from())))
        }
        None => (None, None, None, None),
    }
}

impl Offense {
    pub fn from_row(r: OffenseRow) -> Offense {
        let (in_force_from, in_force_until, edition_name, applies_from) = era(&r.code);
        Offense {
            in_force_from,
            in_force_until,
            edition_name,
            applies_from,
            code: r.code,
            edition: r.edition,
            article: r.article,
            title: r.title_en,
            title_ru: r.title_ru,
            title_ky: r.title_ky,
            category: r.category.into(),
            retired: r.retired,
            source: r.source,
        }
    }
}

/// The catalogue entry behind a recorded offence; the category is the one recorded with
/// the event (the catalogue may have changed since).
pub(crate) async fn offense_of(ctx: &Context<'_>, r: &OffenseRef) -> Res<Offense> {
    let row = app(ctx)?.offense(&r.code).await?;
    Ok(match row {
        Some(row) => Offense { category: r.category.into(), ..Offense::from_row(row) },
        None => {
            let (edition, article) = r.code.split_once('-').unwrap_or(("", r.code.as_str()));
            let (in_force_from, in_force_until, edition_name, applies_from) = era(&r.code);
            Offense {
                in_force_from,
                in_force_until,
                edition_name,
                applies_from,
                code: r.code.clone(),
                edition: edition.into(),
                article: article.into(),
                title: r.code.clone(),
                title_ru: None,
                title_ky: None,
                category: r.category.into(),
                retired: true,
                source: None,
            }
        }
    })
}

#[derive(InputObject)]
pub struct AddOffenseInput {
    pub edition: String,
    pub article: String,
    pub title: String,
    pub title_ru: Option<String>,
    pub title_ky: Option<String>,
    pub category: OffenseCategory,
    /// Where the article number was verified.
    pub source: String,
}

#[derive(InputObject)]
pub struct RetireOffenseInput {
    pub code: String,
    pub reason: String,
}

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// The offence catalogue, retired entries included (old reports refer to them).
    async fn offenses(&self, ctx: &Context<'_>) -> Res<Vec<Offense>> {
        Ok(app(ctx)?.catalogue(caller(ctx)?).await?.iter().cloned().map(Offense::from_row).collect())
    }
}

#[derive(Default)]
pub struct CatalogueMutation;

#[Object]
impl CatalogueMutation {
    async fn add_offense(&self, ctx: &Context<'_>, input: AddOffenseInput) -> Res<Offense> {
        let input = NewOffense {
            edition: input.edition,
            article: input.article,
            title: input.title,
            title_ru: input.title_ru,
            title_ky: input.title_ky,
            category: input.category.into(),
            source: input.source,
        };
        Ok(Offense::from_row(app(ctx)?.add_offense(caller(ctx)?, input).await?))
    }

    async fn retire_offense(&self, ctx: &Context<'_>, input: RetireOffenseInput) -> Res<Offense> {
        Ok(Offense::from_row(app(ctx)?.retire_offense(caller(ctx)?, &input.code, &input.reason).await?))
    }
}
