//! The event store: cqrs-es over postgres-es / sqlite-es with our hash-chained appends
//! ([`ledger`]), the writes that must commit with a command's events ([`guard`]), the
//! Idempotency-Key records of retried mutations ([`idempotency`]), and raw copies of the
//! database for backups and restores ([`backup`]).

pub mod backup;
pub mod guard;
pub mod idempotency;
pub mod ledger;

pub use ledger::{capture_position, Framework, Frameworks, LedgerRepository};
