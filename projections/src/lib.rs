//! The read side of Pro Bono Ledger: event-log readers for PostgreSQL and SQLite, the
//! checkpointed catch-up projector, the read models it maintains and the queries over them.
//!
//! Data flows one way: the event log → [`projector`] → read-model tables → queries.

pub mod append;
pub mod cache;
pub mod db;
pub mod error;
pub mod log;
pub mod model;
pub mod projector;
pub mod stats;
pub mod store;

pub use db::{Backend, Db, Tx};
pub use error::Error;
pub use log::{Position, StoredEvent};
pub use projector::Projector;

pub type Result<T, E = Error> = std::result::Result<T, E>;
