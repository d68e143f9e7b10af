//! Official figures side by side with the ledger's own: recording what a source published
//! (an event of its own stream, audited and hash-chained like every other), and reading them
//! with the ledger's count for the same indicator and year where the ledger has one.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use domain::figure::{Figure, FigureCommand};
use domain::values::Text;
use projections::model::facts::FactKind;
use projections::stats::{Dimension, StatsFilter};
use projections::store::FigureRow;
use std::collections::BTreeMap;

type Res<T> = Result<T, ApiError>;

/// The indicators the ledger counts itself, by their name (compared without letter case):
/// each is one count of `outcomeStats`, by YEAR. Other indicators are shown without a
/// ledger value.
pub const LEDGER_INDICATORS: &[(&str, FactKind)] = &[
    ("registered TIP cases", FactKind::RegisteredAsTip),
    ("registered TIP-related cases", FactKind::RegisteredAsTipRelated),
    ("registered fraud cases", FactKind::RegisteredAsFraud),
    ("cases reclassified to TIP", FactKind::ReclassifiedToTip),
];

/// The ledger's count behind an indicator, if it has one.
pub fn ledger_kind(indicator: &str) -> Option<FactKind> {
    let i = indicator.trim();
    LEDGER_INDICATORS.iter().find(|(name, _)| name.eq_ignore_ascii_case(i)).map(|(_, k)| *k)
}

/// What a caller records: `value` `None` where the source has no figure.
#[derive(Debug, Clone)]
pub struct NewFigure {
    pub source: String,
    pub citation: String,
    pub indicator: String,
    pub year: i32,
    pub value: Option<i64>,
}

/// A published figure with the ledger's count for the same indicator and year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureWithLedger {
    pub figure: FigureRow,
    /// `None` where the ledger counts no such indicator.
    pub ledger_value: Option<i64>,
}

impl App {
    /// Records (or corrects) what a source published for an indicator and year.
    #[tracing::instrument(skip_all, fields(year = input.year))]
    pub async fn record_published_figure(&self, caller: &Caller, input: NewFigure) -> Res<FigureWithLedger> {
        caller.allow(Op::RecordPublishedFigure)?;
        let figure = Figure {
            source: Text::parse_with_max("source", &input.source, 200)?,
            citation: Text::parse("citation", &input.citation)?,
            indicator: Text::parse_with_max("indicator", &input.indicator, 200)?,
            year: input.year,
            value: input.value,
        };
        let id = Figure::stream_id(figure.source.as_str(), figure.indicator.as_str(), figure.year);
        let (source, indicator, year) = (figure.source.to_string(), figure.indicator.to_string(), figure.year);
        self.execute(&self.cqrs.figures, caller, &id.to_string(), FigureCommand::Record(figure)).await?;
        // A correction with another spelling of the same source lands on the stored row.
        let key = |s: &str| s.trim().to_lowercase();
        Box::pin(self.published_figures(caller, Some(&indicator)))
            .await?
            .into_iter()
            .find(|f| key(&f.figure.source) == key(&source) && f.figure.year == year)
            .ok_or_else(|| ApiError::Internal("published figure not projected".into()))
    }

    /// Every published figure (or one indicator's), each with the ledger's own count.
    #[tracing::instrument(skip_all)]
    pub async fn published_figures(&self, caller: &Caller, indicator: Option<&str>) -> Res<Vec<FigureWithLedger>> {
        caller.allow(Op::ReadStatistics)?;
        let rows = projections::store::published_figures(&self.db, indicator).await?;
        let by_year = if rows.iter().any(|r| ledger_kind(&r.indicator).is_some()) {
            Box::pin(self.outcome_stats(caller, &StatsFilter::default(), &[Dimension::Year])).await?.groups
        } else {
            BTreeMap::new()
        };
        Ok(rows
            .into_iter()
            .map(|figure| {
                let ledger_value = ledger_kind(&figure.indicator)
                    .map(|k| by_year.get(&vec![figure.year.to_string()]).and_then(|c| c.get(&k)).copied().unwrap_or(0));
                FigureWithLedger { figure, ledger_value }
            })
            .collect())
    }
}
