//! The numbers the ledger exists for: outcome counts and the lawyer network.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use projections::stats::{self as ps, Dimension, NetworkDimension, NetworkStats, OutcomeStats, StatsFilter};
use projections::Db;

type Res<T> = Result<T, ApiError>;

/// The dimensions once each, in the order first asked.
pub fn distinct<T: PartialEq + Copy>(dims: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(dims.len());
    for d in dims {
        if !out.contains(d) {
            out.push(*d);
        }
    }
    out
}

impl App {
    /// `outcomeStats`: totals, and counts grouped by `dims` (duplicates ignored). From the
    /// in-memory index when this instance projects (it keeps the index exact), from SQL
    /// otherwise.
    #[tracing::instrument(skip_all, fields(dims = dims.len()))]
    pub async fn outcome_stats(&self, caller: &Caller, filter: &StatsFilter, dims: &[Dimension]) -> Res<OutcomeStats> {
        caller.allow(Op::ReadStatistics)?;
        if dims.len() > Dimension::ALL.len() {
            return Err(ApiError::BadInput(format!("at most {} dimensions", Dimension::ALL.len())));
        }
        if let (Some(a), Some(b)) = (&filter.from, &filter.to) {
            if a > b {
                return Err(ApiError::BadInput("from is after to".into()));
            }
        }
        let dims = distinct(dims);
        let cache = self.projector.cache();
        let projecting = self.projector.status().leader || matches!(self.db, Db::Sqlite(_));
        if projecting {
            if let Some(s) = cache.stats.query(filter, &dims) {
                return Ok(s);
            }
            let seen = cache.generation();
            let all = projections::store::all_case_facts(&self.db).await?;
            if cache.install_stats(seen, all) {
                if let Some(s) = cache.stats.query(filter, &dims) {
                    return Ok(s);
                }
            }
        }
        Ok(ps::outcome_stats(&self.db, filter, &dims).await?)
    }

    /// Compensation claimed, awarded and paid, summed per currency; each amount in the
    /// period of its own date.
    #[tracing::instrument(skip_all)]
    pub async fn compensation_totals(&self, caller: &Caller, filter: &StatsFilter) -> Res<Vec<ps::CompensationTotal>> {
        caller.allow(Op::ReadStatistics)?;
        if let (Some(a), Some(b)) = (&filter.from, &filter.to) {
            if a > b {
                return Err(ApiError::BadInput("from is after to".into()));
            }
        }
        Ok(ps::compensation_totals(&self.db, filter).await?)
    }

    /// The pro bono network: active members (all with `include_inactive`), grouped.
    #[tracing::instrument(skip_all)]
    pub async fn network_stats(
        &self,
        caller: &Caller,
        dims: &[NetworkDimension],
        include_inactive: bool,
    ) -> Res<NetworkStats> {
        caller.allow(Op::ReadStatistics)?;
        Ok(ps::network_stats(&self.db, &distinct(dims), include_inactive).await?)
    }
}
