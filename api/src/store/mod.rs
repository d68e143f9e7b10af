//! The event store: cqrs-es over postgres-es / sqlite-es with our hash-chained appends
//! ([`ledger`]), the writes that must commit with a command's events ([`guard`]), the
//! Idempotency-Key records of retried mutations ([`idempotency`]), raw copies of the
//! database for backups and restores ([`backup`]), and the web app's users, sessions and
//! sign-in log ([`web`]).

pub mod backup;
pub mod guard;
pub mod idempotency;
pub mod ledger;
pub mod web;

pub use ledger::{capture_position, Framework, Frameworks, LedgerRepository};
