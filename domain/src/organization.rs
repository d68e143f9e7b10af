//! NGOs, crisis centres, legal clinics and the Bar Association.

use crate::actor::Acting;
use crate::values::*;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationCommand {
    Register { organization_id: Uuid, name: Text, kind: OrganizationKind },
    Rename { name: Text },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrganizationEvent {
    OrganizationRegistered { organization_id: Uuid, name: Text, kind: OrganizationKind },
    OrganizationRenamed { name: Text },
}

impl DomainEvent for OrganizationEvent {
    fn event_type(&self) -> String {
        match self {
            OrganizationEvent::OrganizationRegistered { .. } => "OrganizationRegistered",
            OrganizationEvent::OrganizationRenamed { .. } => "OrganizationRenamed",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationError {
    #[error("the organisation is already registered")]
    AlreadyRegistered,
    #[error("no such organisation")]
    NotRegistered,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub registered: bool,
}

impl Aggregate for Organization {
    const TYPE: &'static str = "Organization";
    type Command = Acting<OrganizationCommand>;
    type Event = OrganizationEvent;
    type Error = OrganizationError;
    type Services = ();

    async fn handle(
        &mut self,
        acting: Acting<OrganizationCommand>,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), OrganizationError> {
        let event = match acting.command {
            OrganizationCommand::Register { organization_id, name, kind } => {
                if self.registered {
                    return Err(OrganizationError::AlreadyRegistered);
                }
                OrganizationEvent::OrganizationRegistered { organization_id, name, kind }
            }
            OrganizationCommand::Rename { name } => {
                if !self.registered {
                    return Err(OrganizationError::NotRegistered);
                }
                OrganizationEvent::OrganizationRenamed { name }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: OrganizationEvent) {
        if let OrganizationEvent::OrganizationRegistered { .. } = event {
            self.registered = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use cqrs_es::test::TestFramework;

    #[test]
    fn an_admin_registers_and_renames_an_organisation() {
        let id = Uuid::nil();
        let name = Text::parse("name", "Oasis").unwrap();
        let registered = OrganizationEvent::OrganizationRegistered {
            organization_id: id,
            name: name.clone(),
            kind: OrganizationKind::Ngo,
        };
        TestFramework::<Organization>::with(())
            .given_no_previous_events()
            .when(Acting::new(
                Actor::system(),
                OrganizationCommand::Register { organization_id: id, name: name.clone(), kind: OrganizationKind::Ngo },
            ))
            .then_expect_events(vec![registered.clone()]);
        TestFramework::<Organization>::with(())
            .given(vec![registered.clone()])
            .when(Acting::new(
                Actor::system(),
                OrganizationCommand::Register { organization_id: id, name: name.clone(), kind: OrganizationKind::Ngo },
            ))
            .then_expect_error(OrganizationError::AlreadyRegistered);
        TestFramework::<Organization>::with(())
            .given_no_previous_events()
            .when(Acting::new(Actor::system(), OrganizationCommand::Rename { name }))
            .then_expect_error(OrganizationError::NotRegistered);
    }
}
