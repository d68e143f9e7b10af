//! Use cases on organisations: registering them and listing them.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use domain::organization::OrganizationCommand;
use domain::values::{OrganizationKind, Text};
use projections::store::OrganizationRow;
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

impl App {
    /// Registers an organisation; `organization_id` is a new one when `None`.
    #[tracing::instrument(skip_all)]
    pub async fn register_organization(
        &self,
        caller: &Caller,
        organization_id: Option<Uuid>,
        name: &str,
        kind: OrganizationKind,
    ) -> Res<Arc<OrganizationRow>> {
        caller.allow(Op::RegisterOrganization)?;
        let id = organization_id.unwrap_or_else(Uuid::new_v4);
        let cmd =
            OrganizationCommand::Register { organization_id: id, name: Text::parse_with_max("name", name, 200)?, kind };
        self.execute(&self.cqrs.organizations, caller, &id.to_string(), cmd).await?;
        self.organization(id).await?.ok_or_else(|| ApiError::Internal("organisation not projected".into()))
    }

    #[tracing::instrument(skip_all)]
    pub async fn organizations(&self, caller: &Caller) -> Res<Vec<OrganizationRow>> {
        caller.allow(Op::ListOrganizations)?;
        Ok(projections::store::list_organizations(&self.db).await?)
    }
}
