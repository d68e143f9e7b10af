//! A member of the Bar Association's pro bono network.

use crate::clock::Clock;
use crate::values::*;
use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterLawyer {
    pub lawyer_id: Uuid,
    pub full_name: Text,
    pub gender: Gender,
    pub status: LawyerStatus,
    pub region: Region,
    pub languages: Vec<Text>,
    pub license_number: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LawyerCommand {
    Register(RegisterLawyer),
    RecordTraining { course: Text, completed_on: NaiveDate },
    SetCapacity { max_active_cases: u16 },
    Deactivate { reason: Text },
    Reactivate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LawyerEvent {
    LawyerRegistered {
        lawyer_id: Uuid,
        full_name: Text,
        gender: Gender,
        status: LawyerStatus,
        region: Region,
        languages: Vec<Text>,
        license_number: Option<Text>,
        registered_on: NaiveDate,
    },
    TrainingRecorded {
        course: Text,
        completed_on: NaiveDate,
    },
    CapacitySet {
        max_active_cases: u16,
    },
    LawyerDeactivated {
        reason: Text,
        deactivated_on: NaiveDate,
    },
    LawyerReactivated {
        reactivated_on: NaiveDate,
    },
}

impl DomainEvent for LawyerEvent {
    fn event_type(&self) -> String {
        match self {
            LawyerEvent::LawyerRegistered { .. } => "LawyerRegistered",
            LawyerEvent::TrainingRecorded { .. } => "TrainingRecorded",
            LawyerEvent::CapacitySet { .. } => "CapacitySet",
            LawyerEvent::LawyerDeactivated { .. } => "LawyerDeactivated",
            LawyerEvent::LawyerReactivated { .. } => "LawyerReactivated",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LawyerError {
    #[error("the lawyer is already registered")]
    AlreadyRegistered,
    #[error("no such lawyer")]
    NotRegistered,
    #[error("the lawyer is already deactivated")]
    AlreadyInactive,
    #[error("the lawyer is active")]
    AlreadyActive,
    #[error("{field} ({date}) is in the future")]
    FutureDate { field: &'static str, date: NaiveDate },
    #[error("capacity must be between 1 and 200 active cases")]
    BadCapacity,
}

/// The actor and command, as the aggregate receives them.
pub type LawyerActing = crate::actor::Acting<LawyerCommand>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Lawyer {
    pub registered: bool,
    pub active: bool,
    /// The most open cases the lawyer takes at once; no limit when `None`.
    pub max_active_cases: Option<u16>,
}

#[derive(Clone)]
pub struct LawyerServices {
    pub clock: Arc<dyn Clock>,
}

impl Aggregate for Lawyer {
    const TYPE: &'static str = "Lawyer";
    type Command = LawyerActing;
    type Event = LawyerEvent;
    type Error = LawyerError;
    type Services = LawyerServices;

    async fn handle(
        &mut self,
        acting: LawyerActing,
        services: &LawyerServices,
        sink: &EventSink<Self>,
    ) -> Result<(), LawyerError> {
        let today = services.clock.today();
        let event = match acting.command {
            LawyerCommand::Register(r) => {
                if self.registered {
                    return Err(LawyerError::AlreadyRegistered);
                }
                LawyerEvent::LawyerRegistered {
                    lawyer_id: r.lawyer_id,
                    full_name: r.full_name,
                    gender: r.gender,
                    status: r.status,
                    region: r.region,
                    languages: r.languages,
                    license_number: r.license_number,
                    registered_on: today,
                }
            }
            _ if !self.registered => return Err(LawyerError::NotRegistered),
            LawyerCommand::RecordTraining { course, completed_on } => {
                if completed_on > today {
                    return Err(LawyerError::FutureDate { field: "completedOn", date: completed_on });
                }
                LawyerEvent::TrainingRecorded { course, completed_on }
            }
            LawyerCommand::SetCapacity { max_active_cases } => {
                if !(1..=200).contains(&max_active_cases) {
                    return Err(LawyerError::BadCapacity);
                }
                LawyerEvent::CapacitySet { max_active_cases }
            }
            LawyerCommand::Deactivate { reason } => {
                if !self.active {
                    return Err(LawyerError::AlreadyInactive);
                }
                LawyerEvent::LawyerDeactivated { reason, deactivated_on: today }
            }
            LawyerCommand::Reactivate => {
                if self.active {
                    return Err(LawyerError::AlreadyActive);
                }
                LawyerEvent::LawyerReactivated { reactivated_on: today }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: LawyerEvent) {
        match event {
            LawyerEvent::LawyerRegistered { .. } => {
                self.registered = true;
                self.active = true;
            }
            LawyerEvent::LawyerDeactivated { .. } => self.active = false,
            LawyerEvent::LawyerReactivated { .. } => self.active = true,
            LawyerEvent::CapacitySet { max_active_cases } => self.max_active_cases = Some(max_active_cases),
            LawyerEvent::TrainingRecorded { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::clock::FixedClock;
    use cqrs_es::test::TestFramework;

    fn services() -> LawyerServices {
        LawyerServices { clock: Arc::new(FixedClock(NaiveDate::from_ymd_opt(2021, 6, 1).unwrap())) }
    }
    fn coordinator() -> Actor {
        Actor { account_id: Uuid::nil(), role: Role::Coordinator, organization_id: None, lawyer_id: None }
    }
    fn t(s: &str) -> Text {
        Text::parse("t", s).unwrap()
    }
    fn registered() -> LawyerEvent {
        LawyerEvent::LawyerRegistered {
            lawyer_id: Uuid::nil(),
            full_name: t("Aida Bekova"),
            gender: Gender::Female,
            status: LawyerStatus::Student,
            region: Region::Osh,
            languages: vec![t("ky"), t("ru")],
            license_number: None,
            registered_on: NaiveDate::from_ymd_opt(2021, 6, 1).unwrap(),
        }
    }
    fn acting(command: LawyerCommand) -> LawyerActing {
        LawyerActing { actor: coordinator(), command }
    }

    #[test]
    fn a_coordinator_registers_a_lawyer_once() {
        let cmd = LawyerCommand::Register(RegisterLawyer {
            lawyer_id: Uuid::nil(),
            full_name: t("Aida Bekova"),
            gender: Gender::Female,
            status: LawyerStatus::Student,
            region: Region::Osh,
            languages: vec![t("ky"), t("ru")],
            license_number: None,
        });
        TestFramework::<Lawyer>::with(services())
            .given_no_previous_events()
            .when(acting(cmd.clone()))
            .then_expect_events(vec![registered()]);
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered()])
            .when(acting(cmd))
            .then_expect_error(LawyerError::AlreadyRegistered);
    }

    #[test]
    fn training_capacity_and_activation() {
        let on = NaiveDate::from_ymd_opt(2021, 5, 1).unwrap();
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered()])
            .when(acting(LawyerCommand::RecordTraining { course: t("TIP casework"), completed_on: on }))
            .then_expect_events(vec![LawyerEvent::TrainingRecorded { course: t("TIP casework"), completed_on: on }]);
        let later = NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered()])
            .when(acting(LawyerCommand::RecordTraining { course: t("TIP casework"), completed_on: later }))
            .then_expect_error(LawyerError::FutureDate { field: "completedOn", date: later });
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered()])
            .when(acting(LawyerCommand::SetCapacity { max_active_cases: 0 }))
            .then_expect_error(LawyerError::BadCapacity);
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered()])
            .when(acting(LawyerCommand::Reactivate))
            .then_expect_error(LawyerError::AlreadyActive);
        let today = NaiveDate::from_ymd_opt(2021, 6, 1).unwrap();
        TestFramework::<Lawyer>::with(services())
            .given(vec![registered(), LawyerEvent::LawyerDeactivated { reason: t("left"), deactivated_on: today }])
            .when(acting(LawyerCommand::Reactivate))
            .then_expect_events(vec![LawyerEvent::LawyerReactivated { reactivated_on: today }]);
        TestFramework::<Lawyer>::with(services())
            .given_no_previous_events()
            .when(acting(LawyerCommand::Reactivate))
            .then_expect_error(LawyerError::NotRegistered);
    }
}
