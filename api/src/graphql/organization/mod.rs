//! Organisations: their type, query and mutation.

use super::enums::OrganizationKind;
use super::{app, caller, Res};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use projections::store::OrganizationRow;
use uuid::Uuid;

#[derive(SimpleObject, Clone)]
pub struct Organization {
    pub id: ID,
    pub name: String,
    pub kind: OrganizationKind,
}

impl Organization {
    pub fn from_row(r: &OrganizationRow) -> Organization {
        Organization { id: ID(r.id.to_string()), name: r.name.clone(), kind: r.kind.into() }
    }

    pub(crate) async fn by_id(ctx: &Context<'_>, id: Uuid) -> Res<Option<Organization>> {
        Ok(app(ctx)?.organization(id).await?.map(|r| Organization::from_row(&r)))
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
        Ok(app(ctx)?.organizations(caller(ctx)?).await?.iter().map(Organization::from_row).collect())
    }
}

#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    async fn register_organization(&self, ctx: &Context<'_>, input: RegisterOrganizationInput) -> Res<Organization> {
        let row = app(ctx)?.register_organization(caller(ctx)?, None, &input.name, input.kind.into()).await?;
        Ok(Organization::from_row(&row))
    }
}
