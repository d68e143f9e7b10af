//! `outcomeStats` and `networkStats`: the numbers the ledger exists for.

use super::enums::{OffenseCategory, Region};
use super::scalars::Date;
use super::{app, caller, opt_id, Res};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use projections::model::facts::FactKind;
use projections::stats::{self as ps, Counts};

/// A dimension of `outcomeStats`. AUTHORITY is the authority that decided a
/// reclassification (NONE for every other count).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Hash, Debug)]
#[graphql(remote = "ps::Dimension")]
pub enum StatsDimension {
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
    /// The defendant's own gender, for counts of defendants (NONE for every other count).
    DefendantGender,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Hash, Debug)]
#[graphql(remote = "ps::NetworkDimension")]
pub enum NetworkDimension {
    Gender,
    Status,
    Region,
    Trained,
}

/// Narrows every count. `from`/`to` apply to each count's own date (intake, filing,
/// registration, decision); `offenseCategory` to the offence each count is classed by.
#[derive(InputObject, Default)]
pub struct StatsFilter {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub organization_id: Option<ID>,
    pub region: Option<Region>,
    pub lawyer_id: Option<ID>,
    pub offense_category: Option<OffenseCategory>,
}

/// The funnel, counted as API.md states.
#[derive(SimpleObject, Default, Clone, PartialEq, Eq, Debug)]
pub struct OutcomeCounts {
    pub cases_opened: i32,
    pub lawyers_assigned: i32,
    pub police_reports_filed: i32,
    pub registered_as_tip: i32,
    pub registered_as_tip_related: i32,
    pub registered_as_fraud: i32,
    pub registered_as_other: i32,
    pub registration_refused: i32,
    /// Reports first registered outside TIP whose current category is TIP.
    pub reclassified_to_tip: i32,
    /// Reports first registered as TIP whose current category is not TIP.
    pub reclassified_from_tip: i32,
    pub returned_for_investigation: i32,
    pub sent_to_court: i32,
    pub convictions: i32,
    pub acquittals: i32,
    pub dismissals: i32,
    /// Defendants (persons) charged under an article, in the year of the charge.
    pub defendants_charged: i32,
    /// Defendants convicted by their own verdict, in the year of the verdict.
    pub defendants_convicted: i32,
    /// Compensation claims, in the year of the claim.
    pub compensation_claimed: i32,
    /// Compensation awards, in the year of the award.
    pub compensation_awarded: i32,
    /// Compensation payments (a claim may be paid in parts), in the year of each payment.
    pub compensation_paid: i32,
}

/// Compensation in one currency (whole units).
#[derive(SimpleObject, Clone, Debug)]
pub struct CompensationTotal {
    /// ISO 4217.
    pub currency: String,
    pub claimed: i64,
    pub awarded: i64,
    pub paid: i64,
    pub claims: i32,
    pub awards: i32,
    pub payments: i32,
}

impl From<&Counts> for OutcomeCounts {
    fn from(c: &Counts) -> Self {
        let n = |k: FactKind| c.get(&k).copied().unwrap_or(0) as i32;
        OutcomeCounts {
            cases_opened: n(FactKind::CasesOpened),
            lawyers_assigned: n(FactKind::LawyersAssigned),
            police_reports_filed: n(FactKind::PoliceReportsFiled),
            registered_as_tip: n(FactKind::RegisteredAsTip),
            registered_as_tip_related: n(FactKind::RegisteredAsTipRelated),
            registered_as_fraud: n(FactKind::RegisteredAsFraud),
            registered_as_other: n(FactKind::RegisteredAsOther),
            registration_refused: n(FactKind::RegistrationRefused),
            reclassified_to_tip: n(FactKind::ReclassifiedToTip),
            reclassified_from_tip: n(FactKind::ReclassifiedFromTip),
            returned_for_investigation: n(FactKind::ReturnedForInvestigation),
            sent_to_court: n(FactKind::SentToCourt),
            convictions: n(FactKind::Convictions),
            acquittals: n(FactKind::Acquittals),
            dismissals: n(FactKind::Dismissals),
            defendants_charged: n(FactKind::DefendantsCharged),
            defendants_convicted: n(FactKind::DefendantsConvicted),
            compensation_claimed: n(FactKind::CompensationClaimed),
            compensation_awarded: n(FactKind::CompensationAwarded),
            compensation_paid: n(FactKind::CompensationPaid),
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct DimensionValue {
    pub dimension: StatsDimension,
    /// Enum names, ISO codes, four-digit years, offence codes, organisation ids; `NONE` or
    /// `UNKNOWN` where a count has no value for the dimension.
    pub value: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct OutcomeGroup {
    pub key: Vec<DimensionValue>,
    pub counts: OutcomeCounts,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct OutcomeStats {
    pub totals: OutcomeCounts,
    pub groups: Vec<OutcomeGroup>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct NetworkDimensionValue {
    pub dimension: NetworkDimension,
    pub value: String,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct NetworkGroup {
    pub key: Vec<NetworkDimensionValue>,
    pub count: i32,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct NetworkStats {
    pub total: i32,
    pub groups: Vec<NetworkGroup>,
}

/// Converts the GraphQL filter for the application.
fn app_filter(f: Option<StatsFilter>) -> Res<ps::StatsFilter> {
    let f = f.unwrap_or_default();
    Ok(ps::StatsFilter {
        from: f.from.map(|d| d.0),
        to: f.to.map(|d| d.0),
        organization_id: opt_id("organizationId", &f.organization_id)?,
        region: f.region.map(Into::into),
        lawyer_id: opt_id("lawyerId", &f.lawyer_id)?,
        offense_category: f.offense_category.map(Into::into),
    })
}

impl OutcomeStats {
    /// The application's answer, keyed by the dimensions it was grouped by.
    fn from_app(s: &ps::OutcomeStats, dims: &[ps::Dimension]) -> OutcomeStats {
        let dims = crate::app::stats::distinct(dims);
        OutcomeStats {
            totals: (&s.totals).into(),
            groups: s
                .groups
                .iter()
                .map(|(key, counts)| OutcomeGroup {
                    key: dims
                        .iter()
                        .zip(key)
                        .map(|(d, v)| DimensionValue { dimension: (*d).into(), value: v.clone() })
                        .collect(),
                    counts: counts.into(),
                })
                .collect(),
        }
    }
}

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Outcome counts, in total and grouped by any combination of dimensions.
    async fn outcome_stats(
        &self,
        ctx: &Context<'_>,
        filter: Option<StatsFilter>,
        group_by: Option<Vec<StatsDimension>>,
    ) -> Res<OutcomeStats> {
        let dims: Vec<ps::Dimension> = group_by.unwrap_or_default().into_iter().map(Into::into).collect();
        let s = app(ctx)?.outcome_stats(caller(ctx)?, &app_filter(filter)?, &dims).await?;
        Ok(OutcomeStats::from_app(&s, &dims))
    }

    /// Compensation claimed, awarded and paid, summed per currency; `from`/`to` apply to
    /// each amount's own date.
    async fn compensation_totals(&self, ctx: &Context<'_>, filter: Option<StatsFilter>) -> Res<Vec<CompensationTotal>> {
        let t = app(ctx)?.compensation_totals(caller(ctx)?, &app_filter(filter)?).await?;
        Ok(t.into_iter()
            .map(|t| CompensationTotal {
                currency: t.currency,
                claimed: t.claimed,
                awarded: t.awarded,
                paid: t.paid,
                claims: t.claims as i32,
                awards: t.awards as i32,
                payments: t.payments as i32,
            })
            .collect())
    }

    /// The pro bono network: active members (all with `includeInactive`), grouped.
    async fn network_stats(
        &self,
        ctx: &Context<'_>,
        group_by: Option<Vec<NetworkDimension>>,
        include_inactive: Option<bool>,
    ) -> Res<NetworkStats> {
        let dims: Vec<NetworkDimension> = crate::app::stats::distinct(&group_by.unwrap_or_default());
        let store_dims: Vec<ps::NetworkDimension> = dims.iter().map(|d| (*d).into()).collect();
        let s = app(ctx)?.network_stats(caller(ctx)?, &store_dims, include_inactive.unwrap_or(false)).await?;
        Ok(NetworkStats {
            total: s.total as i32,
            groups: s
                .groups
                .into_iter()
                .map(|(key, count)| NetworkGroup {
                    key: dims.iter().zip(key).map(|(d, v)| NetworkDimensionValue { dimension: *d, value: v }).collect(),
                    count: count as i32,
                })
                .collect(),
        })
    }
}
