//! Requests to erase a client's data, decided by a second person. One stream per case (its
//! id is the case's): at most one request waits at a time, and whoever asked for the erasure
//! can never be the one who approves it. The crypto-shredding itself is the case's
//! `EraseClientData`, run by the application once the approval is on record (ADR 0014).

use crate::actor::Acting;
use crate::values::Text;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErasureCommand {
    /// Someone who works on the case (or an ADMIN) asks for the client's data to be erased.
    Request { request_id: Uuid, case_id: Uuid, reason: Text },
    /// An ADMIN other than the requester approves the waiting request.
    Approve { request_id: Uuid },
    /// An ADMIN turns the waiting request down, with a reason.
    Reject { request_id: Uuid, reason: Text },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErasureEvent {
    ErasureRequested { request_id: Uuid, case_id: Uuid, reason: Text, requested_by: Uuid },
    ErasureApproved { request_id: Uuid, approved_by: Uuid },
    ErasureRejected { request_id: Uuid, rejected_by: Uuid, reason: Text },
}

impl DomainEvent for ErasureEvent {
    fn event_type(&self) -> String {
        match self {
            ErasureEvent::ErasureRequested { .. } => "ErasureRequested",
            ErasureEvent::ErasureApproved { .. } => "ErasureApproved",
            ErasureEvent::ErasureRejected { .. } => "ErasureRejected",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErasureError {
    #[error("an erasure request for this case is already waiting for a decision")]
    AlreadyPending,
    #[error("the client's data was already erased after an approved request")]
    AlreadyErased,
    #[error("no erasure request of this case waits for a decision")]
    NoPendingRequest,
    #[error("the person who requested an erasure cannot approve it: another ADMIN must")]
    SelfApproval,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErasureRequests {
    /// The request waiting for a decision, and who made it.
    pub pending: Option<(Uuid, Uuid)>,
    /// A request was approved: the data is erased (or being erased).
    pub approved: bool,
}

impl Aggregate for ErasureRequests {
    const TYPE: &'static str = "ErasureRequest";
    type Command = Acting<ErasureCommand>;
    type Event = ErasureEvent;
    type Error = ErasureError;
    type Services = ();

    async fn handle(
        &mut self,
        acting: Acting<ErasureCommand>,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ErasureError> {
        let me = acting.actor.account_id;
        let pending = |id: Uuid| match self.pending {
            Some((p, by)) if p == id => Ok(by),
            _ => Err(ErasureError::NoPendingRequest),
        };
        let event = match acting.command {
            ErasureCommand::Request { request_id, case_id, reason } => {
                if self.approved {
                    return Err(ErasureError::AlreadyErased);
                }
                if self.pending.is_some() {
                    return Err(ErasureError::AlreadyPending);
                }
                ErasureEvent::ErasureRequested { request_id, case_id, reason, requested_by: me }
            }
            ErasureCommand::Approve { request_id } => {
                if pending(request_id)? == me {
                    return Err(ErasureError::SelfApproval);
                }
                ErasureEvent::ErasureApproved { request_id, approved_by: me }
            }
            ErasureCommand::Reject { request_id, reason } => {
                pending(request_id)?;
                ErasureEvent::ErasureRejected { request_id, rejected_by: me, reason }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: ErasureEvent) {
        match event {
            ErasureEvent::ErasureRequested { request_id, requested_by, .. } => {
                self.pending = Some((request_id, requested_by))
            }
            ErasureEvent::ErasureApproved { .. } => {
                self.pending = None;
                self.approved = true;
            }
            ErasureEvent::ErasureRejected { .. } => self.pending = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::values::Role;
    use cqrs_es::test::TestFramework;

    fn by(account: u128, command: ErasureCommand) -> Acting<ErasureCommand> {
        let actor =
            Actor { account_id: Uuid::from_u128(account), role: Role::Admin, organization_id: None, lawyer_id: None };
        Acting::new(actor, command)
    }
    fn reason() -> Text {
        Text::parse("reason", "the client withdrew consent and asked for erasure").unwrap()
    }
    fn requested(by: u128) -> ErasureEvent {
        ErasureEvent::ErasureRequested {
            request_id: Uuid::from_u128(10),
            case_id: Uuid::from_u128(20),
            reason: reason(),
            requested_by: Uuid::from_u128(by),
        }
    }
    const REQ: Uuid = Uuid::from_u128(10);

    #[test]
    fn a_second_person_approves_an_erasure_request() {
        TestFramework::<ErasureRequests>::with(())
            .given_no_previous_events()
            .when(by(1, ErasureCommand::Request { request_id: REQ, case_id: Uuid::from_u128(20), reason: reason() }))
            .then_expect_events(vec![requested(1)]);
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1)])
            .when(by(2, ErasureCommand::Approve { request_id: REQ }))
            .then_expect_events(vec![ErasureEvent::ErasureApproved {
                request_id: REQ,
                approved_by: Uuid::from_u128(2),
            }]);
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1)])
            .when(by(1, ErasureCommand::Approve { request_id: REQ }))
            .then_expect_error(ErasureError::SelfApproval);
    }

    #[test]
    fn one_request_waits_at_a_time_and_a_decision_is_made_once() {
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1)])
            .when(by(
                3,
                ErasureCommand::Request {
                    request_id: Uuid::from_u128(11),
                    case_id: Uuid::from_u128(20),
                    reason: reason(),
                },
            ))
            .then_expect_error(ErasureError::AlreadyPending);
        let approved = ErasureEvent::ErasureApproved { request_id: REQ, approved_by: Uuid::from_u128(2) };
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1), approved.clone()])
            .when(by(3, ErasureCommand::Approve { request_id: REQ }))
            .then_expect_error(ErasureError::NoPendingRequest);
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1), approved])
            .when(by(
                3,
                ErasureCommand::Request {
                    request_id: Uuid::from_u128(11),
                    case_id: Uuid::from_u128(20),
                    reason: reason(),
                },
            ))
            .then_expect_error(ErasureError::AlreadyErased);
        // After a refusal, a new request can be made.
        let rejected =
            ErasureEvent::ErasureRejected { request_id: REQ, rejected_by: Uuid::from_u128(2), reason: reason() };
        TestFramework::<ErasureRequests>::with(())
            .given(vec![requested(1), rejected])
            .when(by(
                1,
                ErasureCommand::Request {
                    request_id: Uuid::from_u128(11),
                    case_id: Uuid::from_u128(20),
                    reason: reason(),
                },
            ))
            .then_expect_events(vec![ErasureEvent::ErasureRequested {
                request_id: Uuid::from_u128(11),
                case_id: Uuid::from_u128(20),
                reason: reason(),
                requested_by: Uuid::from_u128(1),
            }]);
        TestFramework::<ErasureRequests>::with(())
            .given_no_previous_events()
            .when(by(2, ErasureCommand::Reject { request_id: REQ, reason: reason() }))
            .then_expect_error(ErasureError::NoPendingRequest);
    }
}
