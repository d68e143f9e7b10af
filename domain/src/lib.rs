//! The Pro Bono Ledger domain: aggregates, commands, events, value types and the invariants
//! that hold between them. Pure: no I/O, no database, no HTTP. Every rule broken by a command
//! is a typed error; nothing here panics on input.

pub mod account;
pub mod actor;
pub mod case;
pub mod chain;
pub mod clock;
pub mod deadline;
pub mod erasure;
pub mod figure;
pub mod lawyer;
pub mod offense;
pub mod organization;
pub mod sealed;
pub mod values;

pub use actor::Actor;
pub use clock::{Clock, FixedClock, ManualClock, SystemClock};
pub use sealed::Sealed;

/// The version every event type is written with today. An upcaster keys on
/// `(event_type, event_version)` when a payload shape changes; see `docs/adr`.
pub const EVENT_VERSION_1: &str = "1.0";
