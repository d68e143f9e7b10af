//! `recordPublishedFigure` and `publishedFigures`: official figures beside the ledger's own.

use super::{app, caller, Res};
use crate::app::figures::{FigureWithLedger, NewFigure};
use async_graphql::{Context, InputObject, Object, SimpleObject};

/// What a source published for one indicator and year, and the ledger's own count.
#[derive(SimpleObject, Clone, Debug)]
pub struct PublishedFigure {
    /// Who published it (e.g. the National Statistics Committee, MOI/GPO, the US TIP Report).
    pub source: String,
    /// Where it was published (document, table, page).
    pub citation: String,
    /// What is counted, e.g. "registered TIP cases".
    pub indicator: String,
    pub year: i32,
    /// Null: the source has no figure for the year (which is not zero).
    pub value: Option<i32>,
    /// The ledger's own count for the indicator and year (registered TIP cases: reports first
    /// registered as TIP in the year); null where the ledger counts no such indicator.
    pub ledger_value: Option<i32>,
}

impl From<FigureWithLedger> for PublishedFigure {
    fn from(f: FigureWithLedger) -> Self {
        let clamp = |v: i64| v.clamp(0, i32::MAX as i64) as i32;
        PublishedFigure {
            source: f.figure.source,
            citation: f.figure.citation,
            indicator: f.figure.indicator,
            year: f.figure.year,
            value: f.figure.value.map(clamp),
            ledger_value: f.ledger_value.map(clamp),
        }
    }
}

#[derive(InputObject)]
pub struct RecordPublishedFigureInput {
    pub source: String,
    pub citation: String,
    pub indicator: String,
    pub year: i32,
    /// Leave out (or null) where the source has no figure for the year.
    pub value: Option<i32>,
}

#[derive(Default)]
pub struct FigureQuery;

#[Object]
impl FigureQuery {
    /// Every recorded figure, or one indicator's (in any letter case).
    async fn published_figures(&self, ctx: &Context<'_>, indicator: Option<String>) -> Res<Vec<PublishedFigure>> {
        // Boxed: a small future keeps the merged root's resolver small for every other field.
        let figures = Box::pin(app(ctx)?.published_figures(caller(ctx)?, indicator.as_deref())).await?;
        Ok(figures.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct FigureMutation;

#[Object]
impl FigureMutation {
    /// Records what a source published (again: a correction). ADMIN and AUDITOR.
    async fn record_published_figure(
        &self,
        ctx: &Context<'_>,
        input: RecordPublishedFigureInput,
    ) -> Res<PublishedFigure> {
        let new = NewFigure {
            source: input.source,
            citation: input.citation,
            indicator: input.indicator,
            year: input.year,
            value: input.value.map(i64::from),
        };
        // Boxed, as above.
        Ok(Box::pin(app(ctx)?.record_published_figure(caller(ctx)?, new)).await?.into())
    }
}
