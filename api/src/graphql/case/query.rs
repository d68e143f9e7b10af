//! Case queries: one case, and the case list.

use super::{decode_cursor, encode_cursor, Case, CaseConnection, CaseEdge, PageInfo};
use crate::app::cases::CaseListFilter;
use crate::graphql::enums::*;
use crate::graphql::scalars::Date;
use crate::graphql::{app, caller, opt_id, parse_id, Res};
use async_graphql::{Context, InputObject, Object, ID};
use std::sync::Arc;

/// Narrows the case list; every field is optional. Callers see only cases in their scope
/// whatever the filter says.
#[derive(InputObject, Default)]
pub struct CaseFilter {
    /// One of the values of `Case.status`.
    pub status: Option<String>,
    pub organization_id: Option<ID>,
    pub lawyer_id: Option<ID>,
    pub region: Option<Region>,
    pub exploitation_type: Option<ExploitationType>,
    /// Cases with a police report currently classed in this category.
    pub offense_category: Option<OffenseCategory>,
    pub identified_from: Option<Date>,
    pub identified_to: Option<Date>,
}

#[derive(Default)]
pub struct CaseQuery;

#[Object]
impl CaseQuery {
    /// One case, or null when there is none with this id.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Case>> {
        let id = parse_id("id", &id)?;
        Ok(app(ctx)?.case(caller(ctx)?, id).await?.map(Case))
    }

    /// Cases in opening order, `first` (1–100, default 20) after the cursor `after`.
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Res<CaseConnection> {
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let f = filter.unwrap_or_default();
        let filter = CaseListFilter {
            status: f.status,
            organization_id: opt_id("organizationId", &f.organization_id)?,
            lawyer_id: opt_id("lawyerId", &f.lawyer_id)?,
            region: f.region.map(Into::into),
            exploitation_type: f.exploitation_type.map(Into::into),
            offense_category: f.offense_category.map(Into::into),
            identified_from: f.identified_from.map(|d| d.0),
            identified_to: f.identified_to.map(|d| d.0),
        };
        let page = app(ctx)?.cases(caller(ctx)?, filter, first.unwrap_or(20).into(), after).await?;
        let end_cursor = page.cases.last().map(|c| encode_cursor(c.opened_seq));
        Ok(CaseConnection {
            edges: page
                .cases
                .into_iter()
                .map(|c| CaseEdge { cursor: encode_cursor(c.opened_seq), node: Case(Arc::new(c)) })
                .collect(),
            page_info: PageInfo { has_next_page: page.has_next, end_cursor },
            total_count: page.total as i32,
        })
    }
}
