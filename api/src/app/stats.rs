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
        if self.keeps_statistics_index() {
            if let Some(s) = self.projector.cache().stats.query(filter, &dims) {
                return Ok(s);
            }
            self.load_statistics_index().await?;
            if let Some(s) = self.projector.cache().stats.query(filter, &dims) {
                return Ok(s);
            }
        }
        Ok(ps::outcome_stats(&self.db, filter, &dims).await?)
    }

    /// Whether this instance keeps the in-memory statistics index (it projects, so it can
    /// keep the index exact).
    fn keeps_statistics_index(&self) -> bool {
        self.projector.status().leader || matches!(self.db, Db::Sqlite(_))
    }

    /// Loads the statistics index if it is not loaded: one load at a time — requests that
    /// find it missing meanwhile wait for that load instead of each reading every case's
    /// facts. A load that a concurrent batch made stale is dropped (`install_stats`); the
    /// caller then answers from SQL.
    pub async fn load_statistics_index(&self) -> Res<bool> {
        let cache = self.projector.cache();
        let _one = cache.stats.loading.lock().await;
        if cache.stats.is_loaded() {
            return Ok(true);
        }
        let seen = cache.generation();
        let index = projections::store::load_stats_index(&self.db).await?;
        Ok(cache.install_stats(seen, index))
    }

    /// Loads the statistics index ahead of the first statistics request (at start-up, once
    /// the read models have caught up), so that the first dashboard does not wait for it.
    pub async fn warm_statistics(&self) {
        if !self.keeps_statistics_index() {
            return;
        }
        let started = std::time::Instant::now();
        match self.load_statistics_index().await {
            Ok(true) => tracing::info!(ms = started.elapsed().as_millis() as u64, "statistics index loaded"),
            Ok(false) => {
                tracing::info!("statistics index not loaded (the ledger changed meanwhile): loads on first use")
            }
            Err(e) => tracing::warn!(error = %e.message(), "statistics index not loaded: loads on first use"),
        }
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
