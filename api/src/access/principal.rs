//! The authenticated caller.

use domain::values::Role;
use domain::Actor;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: Uuid,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    pub token_id: Uuid,
    /// The account may reach client identity: approved by a second person, or of a role
    /// that needs no approval (see `Role::reads_identity`).
    pub approved: bool,
}

impl Principal {
    /// The command-line operator (and start-up tasks): an ADMIN with no scope and no token.
    pub fn system() -> Principal {
        let a = Actor::system();
        Principal {
            account_id: a.account_id,
            name: "system".into(),
            role: a.role,
            organization_id: None,
            lawyer_id: None,
            token_id: Uuid::nil(),
            approved: true,
        }
    }

    /// The same caller as the domain knows it.
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: self.account_id,
            role: self.role,
            organization_id: self.organization_id,
            lawyer_id: self.lawyer_id,
        }
    }
}
