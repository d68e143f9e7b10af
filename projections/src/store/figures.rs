//! Published figures (`domain::figure`): the projector's upsert and the API's read.

use crate::db::{Db, Tx};
use crate::{on_db, on_tx, Result};
use domain::figure::Figure;

/// One published figure as the read model holds it (the latest correction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    pub source: String,
    pub citation: String,
    pub indicator: String,
    pub year: i32,
    /// `None`: the source has no figure for the year.
    pub value: Option<i64>,
}

pub(crate) async fn upsert_figure(tx: &mut Tx, f: &Figure, seq: i64) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_published_figure (source, indicator, year, citation, figure_value, recorded_seq) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (source, indicator, year) DO UPDATE SET citation = excluded.citation, \
         figure_value = excluded.figure_value, recorded_seq = excluded.recorded_seq")
        .bind(f.source.as_str()).bind(f.indicator.as_str()).bind(f.year as i64).bind(f.citation.as_str())
        .bind(f.value).bind(seq)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Every figure, or one indicator's (in any letter case), by indicator, source and year.
pub async fn published_figures(db: &Db, indicator: Option<&str>) -> Result<Vec<FigureRow>> {
    type Columns = (String, String, String, i64, Option<i64>);
    let sql = "SELECT source, citation, indicator, year, figure_value FROM rm_published_figure \
               WHERE $1 = '' OR lower(indicator) = lower($1) ORDER BY lower(indicator), recorded_seq, year";
    let want = indicator.map(str::trim).unwrap_or("").to_string();
    let rows: Vec<Columns> = on_db!(db, p => sqlx::query_as(sql).bind(&want).fetch_all(p).await?);
    Ok(rows
        .into_iter()
        .map(|(source, citation, indicator, year, value)| FigureRow {
            source,
            citation,
            indicator,
            year: year as i32,
            value,
        })
        .collect())
}
