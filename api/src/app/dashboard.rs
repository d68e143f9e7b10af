//! The auditor's dashboard: `outcomeStats` narrowed further by dimension values (gender,
//! age group, exploitation type — which `StatsFilter` does not narrow by), and the cases
//! behind one of its numbers.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use projections::model::facts::FactKind;
use projections::model::CaseView;
use projections::stats::{Counts, Dimension, OutcomeStats, StatsFilter};
use std::sync::Arc;

type Res<T> = Result<T, ApiError>;

/// At most this many cases are listed behind one number.
pub const CASES_BEHIND_LIMIT: i64 = 200;

impl App {
    /// `outcomeStats(filter, groupBy: by)`, counting only the facts whose dimensions have the
    /// values in `picks` (e.g. `GENDER` = `FEMALE`). The same numbers `outcomeStats` gives
    /// when grouped by the picked dimensions too and read at the picked values.
    #[tracing::instrument(skip_all, fields(picks = picks.len(), by = by.len()))]
    pub async fn outcome_stats_where(
        &self,
        caller: &Caller,
        filter: &StatsFilter,
        picks: &[(Dimension, String)],
        by: &[Dimension],
    ) -> Res<OutcomeStats> {
        caller.allow(Op::ReadStatistics)?;
        let pick_dims: Vec<Dimension> = super::stats::distinct(&picks.iter().map(|(d, _)| *d).collect::<Vec<_>>());
        if pick_dims.len() != picks.len() {
            return Err(ApiError::BadInput("each dimension may be picked once".into()));
        }
        let by = super::stats::distinct(by);
        if pick_dims.is_empty() {
            return Box::pin(self.outcome_stats(caller, filter, &by)).await;
        }
        let matches = |key: &[String]| picks.iter().zip(key).all(|((_, want), got)| want == got);
        // Totals: grouped by the picked dimensions alone, read at the picked values.
        let narrowed = Box::pin(self.outcome_stats(caller, filter, &pick_dims)).await?;
        let mut out = OutcomeStats::default();
        for (key, counts) in &narrowed.groups {
            if matches(key) {
                add(&mut out.totals, counts);
            }
        }
        if by.is_empty() {
            return Ok(out);
        }
        let mut dims = pick_dims.clone();
        dims.extend(by.iter().copied());
        let grouped = Box::pin(self.outcome_stats(caller, filter, &dims)).await?;
        for (key, counts) in &grouped.groups {
            let (head, tail) = key.split_at(pick_dims.len());
            if matches(head) {
                add(out.groups.entry(tail.to_vec()).or_default(), counts);
            }
        }
        Ok(out)
    }

    /// The cases behind one number of the dashboard: those with a fact of `kind` under
    /// `filter` and `picks`; at most [`CASES_BEHIND_LIMIT`], with the count of all of them.
    #[tracing::instrument(skip_all)]
    pub async fn cases_behind(
        &self,
        caller: &Caller,
        filter: &StatsFilter,
        picks: &[(Dimension, String)],
        kind: FactKind,
    ) -> Res<(Vec<Arc<CaseView>>, i64)> {
        caller.allow(Op::ReadStatistics)?;
        caller.allow(Op::ListCases)?;
        let (ids, total) = projections::stats::cases_behind(&self.db, filter, kind, picks, CASES_BEHIND_LIMIT).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(v) = self.case_view(id).await? {
                out.push(v);
            }
        }
        Ok((out, total))
    }
}

fn add(into: &mut Counts, from: &Counts) {
    for (k, n) in from {
        *into.entry(*k).or_default() += n;
    }
}
