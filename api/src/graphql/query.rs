use super::enums::*;
use super::objects::*;
use super::scalars::Date;
use super::{allow, app, case_for, parse_id, principal};
use crate::authz::Op;
use crate::error::ApiError;
use async_graphql::{Context, InputObject, MergedObject, Object, ID};
use domain::values::Role as DRole;
use projections::store::{self, CaseFilter as StoreFilter};

type Res<T> = Result<T, ApiError>;

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

/// Queries about cases, lawyers, organisations and the catalogue.
#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// The caller's account, with its role and scope.
    async fn me(&self, ctx: &Context<'_>) -> Res<Account> {
        allow(ctx, Op::Me)?;
        let p = principal(ctx)?;
        let a =
            store::account_by_id(&app(ctx)?.db, &p.account_id.to_string()).await?.ok_or(ApiError::Unauthenticated)?;
        Ok(Account(a))
    }

    /// One case, or null when there is none with this id.
    async fn case(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Case>> {
        let id = parse_id("id", &id)?;
        match case_for(ctx, id, Op::ReadCase).await {
            Ok(v) => Ok(Some(Case(v))),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Cases in opening order, `first` (1–100, default 20) after the cursor `after`.
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn cases(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Res<CaseConnection> {
        allow(ctx, Op::ListCases)?;
        let p = principal(ctx)?;
        let first = first.unwrap_or(20);
        if !(1..=100).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 100".into()));
        }
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let f = filter.unwrap_or_default();
        if let Some(s) = &f.status {
            if !projections::model::CaseView::STATUSES.contains(&s.as_str()) {
                return Err(ApiError::BadInput(format!(
                    "status must be one of {}",
                    projections::model::CaseView::STATUSES.join(", ")
                )));
            }
        }
        let mut sf = StoreFilter {
            status: f.status,
            organization_id: f
                .organization_id
                .as_ref()
                .map(|i| parse_id("organizationId", i))
                .transpose()?
                .map(|u| u.to_string()),
            lawyer_id: f.lawyer_id.as_ref().map(|i| parse_id("lawyerId", i)).transpose()?.map(|u| u.to_string()),
            region: f.region.map(|r| domain::values::Region::from(r).as_str().to_string()),
            exploitation_type: f
                .exploitation_type
                .map(|t| domain::values::ExploitationType::from(t).as_str().to_string()),
            offense_category: f.offense_category.map(|c| domain::values::OffenseCategory::from(c).as_str().to_string()),
            identified_from: f.identified_from.map(|d| d.0.to_string()),
            identified_to: f.identified_to.map(|d| d.0.to_string()),
        };
        // Scope: lawyers see their cases, intake workers their organisation's.
        match p.role {
            DRole::Lawyer => {
                let own = p.lawyer_id.map(|l| l.to_string());
                if sf.lawyer_id.is_some() && sf.lawyer_id != own {
                    return Err(ApiError::forbidden());
                }
                sf.lawyer_id = Some(own.ok_or_else(ApiError::forbidden)?);
            }
            DRole::IntakeWorker => {
                let own = p.organization_id.map(|o| o.to_string());
                if sf.organization_id.is_some() && sf.organization_id != own {
                    return Err(ApiError::forbidden());
                }
                sf.organization_id = Some(own.ok_or_else(ApiError::forbidden)?);
            }
            _ => {}
        }
        let page = store::list_cases(&app(ctx)?.db, &sf, first as i64, after).await?;
        let end_cursor = page.cases.last().map(|c| encode_cursor(c.opened_seq));
        Ok(CaseConnection {
            edges: page
                .cases
                .into_iter()
                .map(|c| CaseEdge { cursor: encode_cursor(c.opened_seq), node: Case(c) })
                .collect(),
            page_info: PageInfo { has_next_page: page.has_next, end_cursor },
            total_count: page.total as i32,
        })
    }

    async fn lawyer(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Lawyer>> {
        allow(ctx, Op::ReadLawyer)?;
        let id = parse_id("id", &id)?;
        lawyer(ctx, &id.to_string()).await
    }

    /// The whole pro bono network, in registration order.
    async fn lawyers(&self, ctx: &Context<'_>) -> Res<Vec<Lawyer>> {
        allow(ctx, Op::ListLawyers)?;
        Ok(store::list_lawyers(&app(ctx)?.db).await?.into_iter().map(Lawyer).collect())
    }

    async fn organizations(&self, ctx: &Context<'_>) -> Res<Vec<Organization>> {
        allow(ctx, Op::ListOrganizations)?;
        store::list_organizations(&app(ctx)?.db).await?.into_iter().map(Organization::from_row).collect()
    }

    /// The offence catalogue, retired entries included (old reports refer to them).
    async fn offenses(&self, ctx: &Context<'_>) -> Res<Vec<Offense>> {
        allow(ctx, Op::ListOffenses)?;
        store::offenses(&app(ctx)?.db).await?.into_iter().map(Offense::from_row).collect()
    }
}

// The query root: each part lives in its own module.
#[derive(MergedObject, Default)]
pub struct QueryRoot(CoreQuery, super::privacy::PrivacyQuery);
