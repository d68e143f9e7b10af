//! Who issues a command. The edge authenticates and `api::access::policy` decides who may
//! call what; the domain uses the actor only for invariants about the case's own people
//! ("only the assigned lawyer, once they accepted, acts for the client").

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

/// A command with the actor who issued it: every aggregate's `Command` type. The actor is
/// given once, by the application layer, which also writes it into the event metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acting<C> {
    pub actor: Actor,
    pub command: C,
}

impl<C> Acting<C> {
    pub fn new(actor: Actor, command: C) -> Self {
        Acting { actor, command }
    }
}

impl Actor {
    /// The command-line operator: an ADMIN with no scope, used by `probono` sub-commands.
    pub fn system() -> Self {
        Actor { account_id: Uuid::nil(), role: Role::Admin, organization_id: None, lawyer_id: None }
    }
}
