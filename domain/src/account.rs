//! A user with one role and scope, and the access tokens issued to it. Tokens are stored
//! only as SHA-256 hashes, so the log records every issue and revocation without secrets.

use crate::values::*;
use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccount {
    pub account_id: Uuid,
    pub name: Text,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountCommand {
    Create(CreateAccount),
    IssueToken {
        token_id: Uuid,
        token_hash: String,
        expires_at: Option<DateTime<Utc>>,
    },
    RevokeToken {
        token_id: Uuid,
    },
    Disable {
        reason: Text,
    },
    /// A second person confirms an account that can read client identity (see
    /// [`Role::reads_identity`]); the actor is the approver.
    Approve,
}

/// The actor and command, as the aggregate receives them.
pub type AccountActing = crate::actor::Acting<AccountCommand>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountCreated {
        account_id: Uuid,
        name: Text,
        role: Role,
        organization_id: Option<Uuid>,
        lawyer_id: Option<Uuid>,
        /// Who created the account (nil: the command-line operator). Absent from accounts
        /// created before second-person approval existed, which count as approved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_by: Option<Uuid>,
    },
    /// The second person's approval: from now on the account reaches client identity.
    AccountApproved {
        approved_by: Uuid,
    },
    TokenIssued {
        token_id: Uuid,
        token_hash: String,
        expires_at: Option<DateTime<Utc>>,
    },
    TokenRevoked {
        token_id: Uuid,
    },
    AccountDisabled {
        reason: Text,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            AccountEvent::AccountCreated { .. } => "AccountCreated",
            AccountEvent::TokenIssued { .. } => "TokenIssued",
            AccountEvent::TokenRevoked { .. } => "TokenRevoked",
            AccountEvent::AccountDisabled { .. } => "AccountDisabled",
            AccountEvent::AccountApproved { .. } => "AccountApproved",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the account already exists")]
    AlreadyExists,
    #[error("no such account")]
    NotFound,
    #[error("the account is disabled")]
    Disabled,
    #[error("an {0} account needs {1}")]
    MissingScope(&'static str, &'static str),
    #[error("a {0} account cannot have {1}")]
    UnexpectedScope(&'static str, &'static str),
    #[error("no such token on this account")]
    UnknownToken,
    #[error("the token is already revoked")]
    AlreadyRevoked,
    #[error("a token hash is 64 hexadecimal characters")]
    BadTokenHash,
    #[error("a {0} account cannot read client identity and needs no approval")]
    NoApprovalNeeded(&'static str),
    #[error("the account is already approved")]
    AlreadyApproved,
    #[error("the person who created an account cannot approve it: another person must")]
    SelfApproval,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub created: bool,
    pub disabled: bool,
    pub tokens: Vec<(Uuid, bool)>,
    pub role: Option<Role>,
    pub created_by: Option<Uuid>,
    /// Approved by a second person, or needing no approval.
    pub approved: bool,
}

impl Aggregate for Account {
    const TYPE: &'static str = "Account";
    type Command = AccountActing;
    type Event = AccountEvent;
    type Error = AccountError;
    type Services = ();

    async fn handle(&mut self, acting: AccountActing, _: &(), sink: &EventSink<Self>) -> Result<(), AccountError> {
        let event = match acting.command {
            AccountCommand::Create(c) => {
                if self.created {
                    return Err(AccountError::AlreadyExists);
                }
                check_scope(&c)?;
                AccountEvent::AccountCreated {
                    account_id: c.account_id,
                    name: c.name,
                    role: c.role,
                    organization_id: c.organization_id,
                    lawyer_id: c.lawyer_id,
                    created_by: Some(acting.actor.account_id),
                }
            }
            _ if !self.created => return Err(AccountError::NotFound),
            AccountCommand::IssueToken { token_id, token_hash, expires_at } => {
                if self.disabled {
                    return Err(AccountError::Disabled);
                }
                if token_hash.len() != 64 || !token_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(AccountError::BadTokenHash);
                }
                AccountEvent::TokenIssued { token_id, token_hash, expires_at }
            }
            AccountCommand::RevokeToken { token_id } => match self.tokens.iter().find(|(id, _)| *id == token_id) {
                None => return Err(AccountError::UnknownToken),
                Some((_, true)) => return Err(AccountError::AlreadyRevoked),
                Some(_) => AccountEvent::TokenRevoked { token_id },
            },
            AccountCommand::Disable { reason } => {
                if self.disabled {
                    return Err(AccountError::Disabled);
                }
                AccountEvent::AccountDisabled { reason }
            }
            AccountCommand::Approve => {
                let role = self.role.unwrap_or(Role::Auditor);
                if !role.reads_identity() {
                    return Err(AccountError::NoApprovalNeeded(role.as_str()));
                }
                if self.disabled {
                    return Err(AccountError::Disabled);
                }
                if self.approved {
                    return Err(AccountError::AlreadyApproved);
                }
                if self.created_by == Some(acting.actor.account_id) {
                    return Err(AccountError::SelfApproval);
                }
                AccountEvent::AccountApproved { approved_by: acting.actor.account_id }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::AccountCreated { role, created_by, .. } => {
                self.created = true;
                self.role = Some(role);
                self.approved = created_by.is_none() || !role.reads_identity();
                self.created_by = created_by;
            }
            AccountEvent::AccountApproved { .. } => self.approved = true,
            AccountEvent::TokenIssued { token_id, .. } => self.tokens.push((token_id, false)),
            AccountEvent::TokenRevoked { token_id } => {
                if let Some(t) = self.tokens.iter_mut().find(|(id, _)| *id == token_id) {
                    t.1 = true;
                }
            }
            AccountEvent::AccountDisabled { .. } => self.disabled = true,
        }
    }
}

/// Intake workers belong to an organisation; lawyers act as one lawyer; nobody else is scoped
/// to a lawyer.
fn check_scope(c: &CreateAccount) -> Result<(), AccountError> {
    match c.role {
        Role::IntakeWorker if c.organization_id.is_none() => {
            Err(AccountError::MissingScope("INTAKE_WORKER", "an organizationId"))
        }
        Role::Lawyer if c.lawyer_id.is_none() => Err(AccountError::MissingScope("LAWYER", "a lawyerId")),
        Role::Admin | Role::Coordinator | Role::Auditor | Role::IntakeWorker if c.lawyer_id.is_some() => {
            Err(AccountError::UnexpectedScope(c.role.as_str(), "a lawyerId"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use cqrs_es::test::TestFramework;

    fn create(role: Role, org: Option<Uuid>, lawyer: Option<Uuid>) -> AccountActing {
        AccountActing {
            actor: Actor::system(),
            command: AccountCommand::Create(CreateAccount {
                account_id: Uuid::nil(),
                name: Text::parse("name", "Nurgul").unwrap(),
                role,
                organization_id: org,
                lawyer_id: lawyer,
            }),
        }
    }
    fn created() -> AccountEvent {
        AccountEvent::AccountCreated {
            account_id: Uuid::nil(),
            name: Text::parse("name", "Nurgul").unwrap(),
            role: Role::Auditor,
            organization_id: None,
            lawyer_id: None,
            created_by: Some(Uuid::nil()),
        }
    }

    fn acting(account: u128, role: Role, command: AccountCommand) -> AccountActing {
        AccountActing {
            actor: Actor { account_id: Uuid::from_u128(account), role, organization_id: None, lawyer_id: None },
            command,
        }
    }

    fn intake_worker_created_by(creator: u128) -> AccountEvent {
        AccountEvent::AccountCreated {
            account_id: Uuid::from_u128(7),
            name: Text::parse("name", "Nurgul").unwrap(),
            role: Role::IntakeWorker,
            organization_id: Some(Uuid::from_u128(9)),
            lawyer_id: None,
            created_by: Some(Uuid::from_u128(creator)),
        }
    }

    #[test]
    fn an_identity_reading_account_is_approved_by_a_second_person_once() {
        TestFramework::<Account>::with(())
            .given(vec![intake_worker_created_by(1)])
            .when(acting(2, Role::Admin, AccountCommand::Approve))
            .then_expect_events(vec![AccountEvent::AccountApproved { approved_by: Uuid::from_u128(2) }]);
        TestFramework::<Account>::with(())
            .given(vec![intake_worker_created_by(1)])
            .when(acting(1, Role::Admin, AccountCommand::Approve))
            .then_expect_error(AccountError::SelfApproval);
        TestFramework::<Account>::with(())
            .given(vec![intake_worker_created_by(1), AccountEvent::AccountApproved { approved_by: Uuid::from_u128(2) }])
            .when(acting(3, Role::Admin, AccountCommand::Approve))
            .then_expect_error(AccountError::AlreadyApproved);
        TestFramework::<Account>::with(())
            .given(vec![created()])
            .when(acting(2, Role::Admin, AccountCommand::Approve))
            .then_expect_error(AccountError::NoApprovalNeeded("AUDITOR"));
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(acting(2, Role::Admin, AccountCommand::Approve))
            .then_expect_error(AccountError::NotFound);
    }

    #[test]
    fn accounts_from_before_approval_existed_count_as_approved() {
        let mut old = Account::default();
        old.apply(AccountEvent::AccountCreated {
            account_id: Uuid::from_u128(7),
            name: Text::parse("name", "Nurgul").unwrap(),
            role: Role::IntakeWorker,
            organization_id: Some(Uuid::from_u128(9)),
            lawyer_id: None,
            created_by: None,
        });
        assert!(old.approved);
        let mut new = Account::default();
        new.apply(intake_worker_created_by(1));
        assert!(!new.approved);
        // The old payload (no `created_by`) still reads.
        let v1 = r#"{"AccountCreated":{"account_id":"00000000-0000-0000-0000-000000000007","name":"Nurgul","role":"INTAKE_WORKER","organization_id":"00000000-0000-0000-0000-000000000009","lawyer_id":null}}"#;
        let e: AccountEvent = serde_json::from_str(v1).unwrap();
        assert!(matches!(e, AccountEvent::AccountCreated { created_by: None, .. }));
    }

    #[test]
    fn accounts_carry_the_scope_their_role_needs() {
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(create(Role::Auditor, None, None))
            .then_expect_events(vec![created()]);
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(create(Role::IntakeWorker, None, None))
            .then_expect_error(AccountError::MissingScope("INTAKE_WORKER", "an organizationId"));
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(create(Role::Lawyer, None, None))
            .then_expect_error(AccountError::MissingScope("LAWYER", "a lawyerId"));
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(create(Role::Auditor, None, Some(Uuid::nil())))
            .then_expect_error(AccountError::UnexpectedScope("AUDITOR", "a lawyerId"));
    }

    #[test]
    fn tokens_are_issued_as_hashes_and_revoked_once() {
        let id = Uuid::from_u128(7);
        let hash = "ab".repeat(32);
        let issue = |h: String| AccountActing {
            actor: Actor::system(),
            command: AccountCommand::IssueToken { token_id: id, token_hash: h, expires_at: None },
        };
        TestFramework::<Account>::with(()).given(vec![created()]).when(issue(hash.clone())).then_expect_events(vec![
            AccountEvent::TokenIssued { token_id: id, token_hash: hash.clone(), expires_at: None },
        ]);
        TestFramework::<Account>::with(())
            .given(vec![created()])
            .when(issue("plaintext-token".into()))
            .then_expect_error(AccountError::BadTokenHash);
        let issued = AccountEvent::TokenIssued { token_id: id, token_hash: hash, expires_at: None };
        let revoke = AccountActing { actor: Actor::system(), command: AccountCommand::RevokeToken { token_id: id } };
        TestFramework::<Account>::with(())
            .given(vec![created(), issued.clone()])
            .when(revoke.clone())
            .then_expect_events(vec![AccountEvent::TokenRevoked { token_id: id }]);
        TestFramework::<Account>::with(())
            .given(vec![created(), issued, AccountEvent::TokenRevoked { token_id: id }])
            .when(revoke.clone())
            .then_expect_error(AccountError::AlreadyRevoked);
        TestFramework::<Account>::with(())
            .given_no_previous_events()
            .when(revoke)
            .then_expect_error(AccountError::NotFound);
    }
}
