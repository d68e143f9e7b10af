//! Who issues a command. The edge authenticates; the domain uses the actor for the
//! invariants that are about people ("only the assigned lawyer acts for the client").

use crate::values::Role;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account_id: Uuid,
    pub role: Role,
    /// The organisation an intake worker (or any scoped account) belongs to.
    pub organization_id: Option<Uuid>,
    /// The lawyer a LAWYER account acts as.
    pub lawyer_id: Option<Uuid>,
}

impl Actor {
    /// The command-line operator: an ADMIN with no scope, used by `probono` sub-commands.
    pub fn system() -> Self {
        Actor { account_id: Uuid::nil(), role: Role::Admin, organization_id: None, lawyer_id: None }
    }
}
