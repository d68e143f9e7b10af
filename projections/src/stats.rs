//! Statistics over the read store: outcome counts from the fact table (any combination of
//! dimensions, one query), and the lawyer network.

use crate::db::Db;
use crate::model::facts::FactKind;
use crate::store::Arg;
use crate::{on_db, Result};
use chrono::NaiveDate;
use domain::values::{OffenseCategory, Region};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

mod index;
pub use index::{FactRow, Index, IndexSize, StatsIndex};

/// A dimension of `outcomeStats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Dimension {
    Year,
    Gender,
    AgeGroup,
    ExploitationType,
    CountryOfExploitation,
    Region,
    Organization,
    LawyerStatus,
    OffenseCategory,
    OffenseCode,
    Authority,
    DefendantGender,
}

impl Dimension {
    pub const ALL: &'static [Dimension] = &[
        Dimension::Year,
        Dimension::Gender,
        Dimension::AgeGroup,
        Dimension::ExploitationType,
        Dimension::CountryOfExploitation,
        Dimension::Region,
        Dimension::Organization,
        Dimension::LawyerStatus,
        Dimension::OffenseCategory,
        Dimension::OffenseCode,
        Dimension::Authority,
        Dimension::DefendantGender,
    ];

    /// The name clients use (`YEAR`, `AGE_GROUP`, …; the GraphQL enum's values).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Year => "YEAR",
            Dimension::Gender => "GENDER",
            Dimension::AgeGroup => "AGE_GROUP",
            Dimension::ExploitationType => "EXPLOITATION_TYPE",
            Dimension::CountryOfExploitation => "COUNTRY_OF_EXPLOITATION",
            Dimension::Region => "REGION",
            Dimension::Organization => "ORGANIZATION",
            Dimension::LawyerStatus => "LAWYER_STATUS",
            Dimension::OffenseCategory => "OFFENSE_CATEGORY",
            Dimension::OffenseCode => "OFFENSE_CODE",
            Dimension::Authority => "AUTHORITY",
            Dimension::DefendantGender => "DEFENDANT_GENDER",
        }
    }

    /// Parses a [`Dimension::name`], in any case.
    pub fn parse(name: &str) -> Option<Dimension> {
        let up = name.trim().to_ascii_uppercase();
        Dimension::ALL.iter().copied().find(|d| d.name() == up)
    }

    /// The SQL expression of the dimension's value (text; `NONE`/`UNKNOWN` when absent).
    fn expr(self) -> &'static str {
        match self {
            Dimension::Year => "CAST(f.year AS TEXT)",
            Dimension::Gender => "f.gender",
            Dimension::AgeGroup => "f.age_group",
            Dimension::ExploitationType => "e.exploitation_type",
            Dimension::CountryOfExploitation => "COALESCE(f.country, 'UNKNOWN')",
            Dimension::Region => "COALESCE(f.region, 'UNKNOWN')",
            Dimension::Organization => "f.organization_id",
            Dimension::LawyerStatus => "COALESCE(f.lawyer_status, 'NONE')",
            Dimension::OffenseCategory => "COALESCE(f.offense_category, 'NONE')",
            Dimension::OffenseCode => "COALESCE(f.offense_code, 'NONE')",
            Dimension::Authority => "COALESCE(f.authority, 'NONE')",
            Dimension::DefendantGender => "COALESCE(f.defendant_gender, 'NONE')",
        }
    }
}

/// Narrows every count; dates apply to each count's own date.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StatsFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
    pub region: Option<Region>,
    pub lawyer_id: Option<Uuid>,
    pub offense_category: Option<OffenseCategory>,
}

impl StatsFilter {
    /// Each filter as the text the fact table stores: `(from, to, organization, region,
    /// lawyer, offence category)`.
    pub(crate) fn as_text(&self) -> [Option<String>; 6] {
        [
            self.from.map(|d| d.to_string()),
            self.to.map(|d| d.to_string()),
            self.organization_id.map(|o| o.to_string()),
            self.region.map(|r| r.as_str().to_string()),
            self.lawyer_id.map(|l| l.to_string()),
            self.offense_category.map(|c| c.as_str().to_string()),
        ]
    }
}

/// Counts per kind.
pub type Counts = BTreeMap<FactKind, i64>;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutcomeStats {
    pub totals: Counts,
    /// Group key (one value per requested dimension, in order) → counts.
    pub groups: BTreeMap<Vec<String>, Counts>,
}

fn where_clause(f: &StatsFilter, args: &mut Vec<Arg>) -> String {
    let mut clauses = vec!["1 = 1".to_string()];
    let columns =
        ["f.on_date >=", "f.on_date <=", "f.organization_id =", "f.region =", "f.lawyer_id =", "f.offense_category ="];
    for (sql, v) in columns.into_iter().zip(f.as_text()) {
        if let Some(v) = v {
            args.push(Arg::Text(v));
            clauses.push(format!("{sql} ${}", args.len()));
        }
    }
    clauses.join(" AND ")
}

async fn grouped(db: &Db, sql: &str, args: &[Arg], width: usize) -> Result<Vec<(FactKind, Vec<String>, i64)>> {
    let rows = on_db!(db, p => {
        let mut q = sqlx::query(sql);
        for a in args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        let rows = q.fetch_all(p).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let kind: String = r.try_get(0)?;
            let mut key = Vec::with_capacity(width);
            for i in 0..width {
                key.push(r.try_get::<String, _>(i + 1)?);
            }
            let n: i64 = r.try_get(width + 1)?;
            out.push((kind, key, n));
        }
        out
    });
    Ok(rows.into_iter().filter_map(|(k, key, n)| FactKind::parse(&k).map(|k| (k, key, n))).collect())
}

/// `outcomeStats`: totals, and counts grouped by `dims` (duplicates ignored).
pub async fn outcome_stats(db: &Db, filter: &StatsFilter, dims: &[Dimension]) -> Result<OutcomeStats> {
    let mut dims: Vec<Dimension> = dims.to_vec();
    let mut seen = std::collections::HashSet::new();
    dims.retain(|d| seen.insert(*d));
    let mut args = Vec::new();
    let wh = where_clause(filter, &mut args);
    let totals_sql = format!("SELECT f.kind, count(*) AS n FROM rm_fact f WHERE {wh} GROUP BY f.kind");
    let mut stats = OutcomeStats::default();
    for (kind, _, n) in grouped(db, &totals_sql, &args, 0).await? {
        stats.totals.insert(kind, n);
    }
    if dims.is_empty() {
        return Ok(stats);
    }
    let join = if dims.contains(&Dimension::ExploitationType) {
        " JOIN rm_case_exploitation e ON e.case_id = f.case_id"
    } else {
        ""
    };
    let cols: Vec<String> = dims.iter().enumerate().map(|(i, d)| format!("{} AS d{i}", d.expr())).collect();
    let group: Vec<String> = dims.iter().map(|d| d.expr().to_string()).collect();
    let sql = format!(
        "SELECT f.kind, {}, count(*) AS n FROM rm_fact f{join} WHERE {wh} GROUP BY f.kind, {}",
        cols.join(", "),
        group.join(", ")
    );
    for (kind, key, n) in grouped(db, &sql, &args, dims.len()).await? {
        stats.groups.entry(key).or_default().insert(kind, n);
    }
    Ok(stats)
}

/// The cases behind one count of `outcomeStats`: the distinct cases with a fact of `kind`
/// under `filter` whose dimensions have the given values (`YEAR` `2019`, `GENDER` `FEMALE`, …,
/// as in [`OutcomeStats::groups`]). Returns at most `limit` case ids, in id order, and how
/// many cases there are in all.
pub async fn cases_behind(
    db: &Db,
    filter: &StatsFilter,
    kind: FactKind,
    values: &[(Dimension, String)],
    limit: i64,
) -> Result<(Vec<Uuid>, i64)> {
    let mut args = Vec::new();
    let mut wh = where_clause(filter, &mut args);
    args.push(Arg::Text(kind.as_str().to_string()));
    wh.push_str(&format!(" AND f.kind = ${}", args.len()));
    for (d, v) in values {
        args.push(Arg::Text(v.clone()));
        wh.push_str(&format!(" AND {} = ${}", d.expr(), args.len()));
    }
    let join = if values.iter().any(|(d, _)| *d == Dimension::ExploitationType) {
        " JOIN rm_case_exploitation e ON e.case_id = f.case_id"
    } else {
        ""
    };
    let count_sql = format!("SELECT count(DISTINCT f.case_id) FROM rm_fact f{join} WHERE {wh}");
    let list_sql =
        format!("SELECT DISTINCT f.case_id FROM rm_fact f{join} WHERE {wh} ORDER BY f.case_id LIMIT {}", limit.max(0));
    let (total, ids): (i64, Vec<String>) = on_db!(db, p => {
        let total: i64 = crate::store::bind_all!(sqlx::query_scalar(&count_sql), &args).fetch_one(p).await?;
        let ids: Vec<String> = crate::store::bind_all!(sqlx::query_scalar(&list_sql), &args).fetch_all(p).await?;
        (total, ids)
    });
    let ids = ids
        .iter()
        .map(|s| {
            Uuid::parse_str(s).map_err(|_| crate::Error::CorruptRow {
                table: "rm_fact",
                id: String::new(),
                reason: "case_id is not a UUID".into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((ids, total))
}

/// Compensation in one currency: the sums claimed, awarded and paid, and how many claims,
/// awards and payments they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompensationTotal {
    pub currency: String,
    pub claimed: i64,
    pub awarded: i64,
    pub paid: i64,
    pub claims: i64,
    pub awards: i64,
    pub payments: i64,
}

/// `compensationTotals`: sums per currency, each amount in the period of its own date.
pub async fn compensation_totals(db: &Db, filter: &StatsFilter) -> Result<Vec<CompensationTotal>> {
    let mut args = Vec::new();
    let wh = where_clause(filter, &mut args);
    let mut by_currency: BTreeMap<String, CompensationTotal> = BTreeMap::new();
    for (agg, sql_agg) in [("sum", "CAST(sum(f.amount) AS bigint)"), ("count", "count(*)")] {
        let sql = format!(
            "SELECT f.kind, f.currency, {sql_agg} AS n FROM rm_fact f \
             WHERE {wh} AND f.amount IS NOT NULL AND f.currency IS NOT NULL GROUP BY f.kind, f.currency"
        );
        for (kind, key, n) in grouped(db, &sql, &args, 1).await? {
            let currency = key.into_iter().next().unwrap_or_default();
            let t = by_currency
                .entry(currency.clone())
                .or_insert_with(|| CompensationTotal { currency, ..Default::default() });
            let slot = match (kind, agg) {
                (FactKind::CompensationClaimed, "sum") => &mut t.claimed,
                (FactKind::CompensationAwarded, "sum") => &mut t.awarded,
                (FactKind::CompensationPaid, "sum") => &mut t.paid,
                (FactKind::CompensationClaimed, _) => &mut t.claims,
                (FactKind::CompensationAwarded, _) => &mut t.awards,
                (FactKind::CompensationPaid, _) => &mut t.payments,
                _ => continue,
            };
            *slot += n;
        }
    }
    Ok(by_currency.into_values().collect())
}

/// A dimension of `networkStats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NetworkDimension {
    Gender,
    Status,
    Region,
    Trained,
}

impl NetworkDimension {
    fn expr(self) -> &'static str {
        match self {
            NetworkDimension::Gender => "gender",
            NetworkDimension::Status => "status",
            NetworkDimension::Region => "region",
            NetworkDimension::Trained => "CASE WHEN trained = 1 THEN 'TRAINED' ELSE 'NOT_TRAINED' END",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkStats {
    pub total: i64,
    pub groups: BTreeMap<Vec<String>, i64>,
}

/// The pro bono network: active members (or all, with `include_inactive`) by the dimensions.
pub async fn network_stats(db: &Db, dims: &[NetworkDimension], include_inactive: bool) -> Result<NetworkStats> {
    let mut dims = dims.to_vec();
    let mut seen = std::collections::HashSet::new();
    dims.retain(|d| seen.insert(*d));
    let wh = if include_inactive { "1 = 1" } else { "active = 1" };
    let total: i64 =
        on_db!(db, p => sqlx::query_scalar(&format!("SELECT count(*) FROM rm_lawyer WHERE {wh}")).fetch_one(p).await?);
    let mut out = NetworkStats { total, groups: BTreeMap::new() };
    if dims.is_empty() {
        return Ok(out);
    }
    let cols: Vec<String> = dims.iter().enumerate().map(|(i, d)| format!("{} AS d{i}", d.expr())).collect();
    let group: Vec<&str> = dims.iter().map(|d| d.expr()).collect();
    let sql =
        format!("SELECT {}, count(*) AS n FROM rm_lawyer WHERE {wh} GROUP BY {}", cols.join(", "), group.join(", "));
    let width = dims.len();
    let rows: Vec<(Vec<String>, i64)> = on_db!(db, p => {
        let rows = sqlx::query(&sql).fetch_all(p).await?;
        let mut v = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut key = Vec::with_capacity(width);
            for i in 0..width {
                key.push(r.try_get::<String, _>(i)?);
            }
            v.push((key, r.try_get::<i64, _>(width)?));
        }
        v
    });
    out.groups.extend(rows);
    Ok(out)
}
