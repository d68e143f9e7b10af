//! Use cases on the pro bono network: registering lawyers, their training, capacity and
//! membership; reading them and their caseloads.

use super::{App, Caller};
use crate::access::Op;
use crate::error::ApiError;
use chrono::NaiveDate;
use domain::lawyer::{LawyerCommand, RegisterLawyer};
use domain::values::{self as v, Text};
use projections::model::LawyerView;
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct RegisterLawyerInput {
    /// The lawyer's id; a new one when `None` (the demo seed gives its own).
    pub lawyer_id: Option<Uuid>,
    pub full_name: String,
    pub gender: v::Gender,
    pub status: v::LawyerStatus,
    pub region: v::Region,
    pub languages: Vec<String>,
    pub license_number: Option<String>,
}

impl App {
    /// One lawyer (every role may look a lawyer up by id).
    #[tracing::instrument(skip_all)]
    pub async fn lawyer(&self, caller: &Caller, id: Uuid) -> Res<Option<Arc<LawyerView>>> {
        caller.allow(Op::ReadLawyer)?;
        self.lawyer_view(id).await
    }

    /// The whole pro bono network, in registration order.
    #[tracing::instrument(skip_all)]
    pub async fn lawyers(&self, caller: &Caller) -> Res<Vec<LawyerView>> {
        caller.allow(Op::ListLawyers)?;
        Ok(projections::store::list_lawyers(&self.db).await?)
    }

    /// Open cases assigned to a lawyer.
    pub async fn active_caseload(&self, lawyer_id: Uuid) -> Res<i64> {
        Ok(projections::store::active_caseload(&self.db, lawyer_id).await?)
    }

    #[tracing::instrument(skip_all)]
    pub async fn register_lawyer(&self, caller: &Caller, input: RegisterLawyerInput) -> Res<Arc<LawyerView>> {
        caller.allow(Op::RegisterLawyer)?;
        if input.languages.len() > 20 {
            return Err(ApiError::BadInput("at most 20 languages".into()));
        }
        let languages =
            input.languages.iter().map(|l| Text::parse_with_max("languages", l, 40)).collect::<Result<Vec<_>, _>>()?;
        let id = input.lawyer_id.unwrap_or_else(Uuid::new_v4);
        let cmd = LawyerCommand::Register(RegisterLawyer {
            lawyer_id: id,
            full_name: Text::parse_with_max("fullName", &input.full_name, 200)?,
            gender: input.gender,
            status: input.status,
            region: input.region,
            languages,
            license_number: super::cases::opt_text("licenseNumber", &input.license_number)?,
        });
        self.execute(&self.cqrs.lawyers, caller, &id.to_string(), cmd).await?;
        self.lawyer_view(id).await?.ok_or_else(|| ApiError::Internal("lawyer not projected".into()))
    }

    /// Runs a command on a registered lawyer, as the coordinator.
    async fn manage_lawyer(&self, caller: &Caller, lawyer_id: Uuid, cmd: LawyerCommand) -> Res<Arc<LawyerView>> {
        caller.allow(Op::ManageLawyer)?;
        self.execute(&self.cqrs.lawyers, caller, &lawyer_id.to_string(), cmd).await?;
        self.lawyer_view(lawyer_id).await?.ok_or_else(|| ApiError::NotFound(format!("no lawyer {lawyer_id}")))
    }

    #[tracing::instrument(skip_all, fields(%lawyer_id))]
    pub async fn record_lawyer_training(
        &self,
        caller: &Caller,
        lawyer_id: Uuid,
        course: &str,
        completed_on: NaiveDate,
    ) -> Res<Arc<LawyerView>> {
        let course = super::cases::text("course", course)?;
        self.manage_lawyer(caller, lawyer_id, LawyerCommand::RecordTraining { course, completed_on }).await
    }

    #[tracing::instrument(skip_all, fields(%lawyer_id))]
    pub async fn set_lawyer_capacity(&self, caller: &Caller, lawyer_id: Uuid, max: i64) -> Res<Arc<LawyerView>> {
        let n =
            u16::try_from(max).map_err(|_| ApiError::BadInput("maxActiveCases must be between 1 and 200".into()))?;
        self.manage_lawyer(caller, lawyer_id, LawyerCommand::SetCapacity { max_active_cases: n }).await
    }

    #[tracing::instrument(skip_all, fields(%lawyer_id))]
    pub async fn deactivate_lawyer(&self, caller: &Caller, lawyer_id: Uuid, reason: &str) -> Res<Arc<LawyerView>> {
        let reason = super::cases::text("reason", reason)?;
        self.manage_lawyer(caller, lawyer_id, LawyerCommand::Deactivate { reason }).await
    }

    #[tracing::instrument(skip_all, fields(%lawyer_id))]
    pub async fn reactivate_lawyer(&self, caller: &Caller, lawyer_id: Uuid) -> Res<Arc<LawyerView>> {
        self.manage_lawyer(caller, lawyer_id, LawyerCommand::Reactivate).await
    }
}
