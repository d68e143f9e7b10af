//! The event store: cqrs-es over postgres-es / sqlite-es with our hash-chained appends
//! ([`ledger`]), and the writes that must commit with a command's events ([`guard`]).

pub mod guard;
pub mod ledger;

pub use ledger::{capture_position, Framework, Frameworks, LedgerRepository};
