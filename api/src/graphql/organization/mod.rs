//! Organisations: their type, query and mutation.

use super::enums::OrganizationKind;
use super::{app, caller, Res};
use crate::error::ApiError;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use projections::store::OrganizationRow;

#[derive(SimpleObject, Clone)]
pub struct Organization {
    pub id: ID,
    pub name: String,
    pub kind: OrganizationKind,
}

impl Organization {
    pub fn from_row(r: &OrganizationRow) -> Res<Organization> {
        let kind: domain::values::OrganizationKind = r.kind.parse().map_err(ApiError::internal)?;
        Ok(Organization { id: ID(r.id.clone()), name: r.name.clone(), kind: kind.into() })
    }

    pub(crate) async fn by_id(ctx: &Context<'_>, id: &str) -> Res<Option<Organization>> {
        app(ctx)?.organization(id).await?.map(|r| Organization::from_row(&r)).transpose()
    }
}

#[derive(InputObject)]
pub struct RegisterOrganizationInput {
    pub name: String,
    pub kind: OrganizationKind,
}

#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    async fn organizations(&self, ctx: &Context<'_>) -> Res<Vec<Organization>> {
        app(ctx)?.organizations(caller(ctx)?).await?.iter().map(Organization::from_row).collect()
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    async fn register_organization(&self, ctx: &Context<'_>, input: RegisterOrganizationInput) -> Res<Organization> {
        let row = app(ctx)?.register_organization(caller(ctx)?, None, &input.name, input.kind.into()).await?;
        Organization::from_row(&row)
    }
}
