//! The pro bono network: the lawyer type, its queries and mutations (assignment included).

use super::case::Case;
use super::enums::*;
use super::scalars::Date;
use super::{app, caller, parse_id, Res};
use crate::app::lawyers::RegisterLawyerInput as NewLawyer;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use projections::model::LawyerView;
use std::sync::Arc;
use uuid::Uuid;

#[derive(SimpleObject, Clone)]
pub struct Training {
    pub course: String,
    pub completed_on: Date,
}

pub struct Lawyer(pub Arc<LawyerView>);

#[Object]
impl Lawyer {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn full_name(&self) -> &str {
        &self.0.full_name
    }
    async fn gender(&self) -> Gender {
        self.0.gender.into()
    }
    async fn status(&self) -> LawyerStatus {
        self.0.status.into()
    }
    async fn region(&self) -> Region {
        self.0.region.into()
    }
    async fn languages(&self) -> &[String] {
        &self.0.languages
    }
    async fn license_number(&self) -> Option<&str> {
        self.0.license_number.as_deref()
    }
    async fn registered_on(&self) -> Option<Date> {
        Some(Date(self.0.registered_on))
    }
    async fn trained(&self) -> bool {
        !self.0.trainings.is_empty()
    }
    async fn trainings(&self) -> Vec<Training> {
        self.0
            .trainings
            .iter()
            .map(|t| Training { course: t.course.clone(), completed_on: Date(t.completed_on) })
            .collect()
    }
    async fn max_active_cases(&self) -> Option<i32> {
        self.0.max_active_cases.map(i32::from)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Open cases assigned to this lawyer.
    async fn active_caseload(&self, ctx: &Context<'_>) -> Res<i32> {
        Ok(app(ctx)?.active_caseload(self.0.id).await? as i32)
    }
}

impl Lawyer {
    pub(crate) async fn by_id(ctx: &Context<'_>, id: Uuid) -> Res<Option<Lawyer>> {
        Ok(app(ctx)?.lawyer_view(id).await?.map(Lawyer))
    }
}

#[derive(InputObject)]
pub struct RegisterLawyerInput {
    pub full_name: String,
    pub gender: Gender,
    pub status: LawyerStatus,
    pub region: Region,
    pub languages: Option<Vec<String>>,
    pub license_number: Option<String>,
}

#[derive(InputObject)]
pub struct AssignLawyerInput {
    pub case_id: ID,
    pub lawyer_id: ID,
    /// The day of the assignment; today when omitted. Not in the future, not before the
    /// intake.
    pub assigned_on: Option<Date>,
}

#[derive(InputObject)]
pub struct LawyerTrainingInput {
    pub lawyer_id: ID,
    pub course: String,
    pub completed_on: Date,
}

#[derive(InputObject)]
pub struct LawyerCapacityInput {
    pub lawyer_id: ID,
    pub max_active_cases: i32,
}

#[derive(InputObject)]
pub struct LawyerReasonInput {
    pub lawyer_id: ID,
    pub reason: String,
}

#[derive(Default)]
pub struct LawyerQuery;

#[Object]
impl LawyerQuery {
    async fn lawyer(&self, ctx: &Context<'_>, id: ID) -> Res<Option<Lawyer>> {
        Ok(app(ctx)?.lawyer(caller(ctx)?, parse_id("id", &id)?).await?.map(Lawyer))
    }

    /// The whole pro bono network, in registration order.
    async fn lawyers(&self, ctx: &Context<'_>) -> Res<Vec<Lawyer>> {
        Ok(app(ctx)?.lawyers(caller(ctx)?).await?.into_iter().map(|l| Lawyer(Arc::new(l))).collect())
    }
}

#[derive(Default)]
pub struct LawyerMutation;

#[Object]
impl LawyerMutation {
    async fn register_lawyer(&self, ctx: &Context<'_>, input: RegisterLawyerInput) -> Res<Lawyer> {
        let input = NewLawyer {
            lawyer_id: None,
            full_name: input.full_name,
            gender: input.gender.into(),
            status: input.status.into(),
            region: input.region.into(),
            languages: input.languages.unwrap_or_default(),
            license_number: input.license_number,
        };
        Ok(Lawyer(app(ctx)?.register_lawyer(caller(ctx)?, input).await?))
    }

    async fn record_lawyer_training(&self, ctx: &Context<'_>, input: LawyerTrainingInput) -> Res<Lawyer> {
        let id = parse_id("lawyerId", &input.lawyer_id)?;
        let l = app(ctx)?.record_lawyer_training(caller(ctx)?, id, &input.course, input.completed_on.0).await?;
        Ok(Lawyer(l))
    }

    async fn set_lawyer_capacity(&self, ctx: &Context<'_>, input: LawyerCapacityInput) -> Res<Lawyer> {
        let id = parse_id("lawyerId", &input.lawyer_id)?;
        let l = app(ctx)?.set_lawyer_capacity(caller(ctx)?, id, input.max_active_cases.into()).await?;
        Ok(Lawyer(l))
    }

    async fn deactivate_lawyer(&self, ctx: &Context<'_>, input: LawyerReasonInput) -> Res<Lawyer> {
        let id = parse_id("lawyerId", &input.lawyer_id)?;
        Ok(Lawyer(app(ctx)?.deactivate_lawyer(caller(ctx)?, id, &input.reason).await?))
    }

    async fn reactivate_lawyer(&self, ctx: &Context<'_>, lawyer_id: ID) -> Res<Lawyer> {
        let id = parse_id("lawyerId", &lawyer_id)?;
        Ok(Lawyer(app(ctx)?.reactivate_lawyer(caller(ctx)?, id).await?))
    }

    /// Assigns (or reassigns) a case to an active lawyer with spare capacity.
    async fn assign_lawyer(&self, ctx: &Context<'_>, input: AssignLawyerInput) -> Res<Case> {
        let lawyer_id = parse_id("lawyerId", &input.lawyer_id)?;
        let case_id = parse_id("caseId", &input.case_id)?;
        let on = input.assigned_on.map(|d| d.0);
        Ok(Case(app(ctx)?.assign_lawyer(caller(ctx)?, case_id, lawyer_id, on).await?))
    }
}
