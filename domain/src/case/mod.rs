//! A victim's legal-aid case: intake, consent, lawyer, police reports and what the police,
//! prosecutors and courts made of them.

pub mod aggregate;
pub mod command;
pub mod error;
pub mod event;
pub mod proceedings;
pub mod upcast;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use aggregate::{Assignment, Case, CaseServices, CaseState, CompensationState, DefendantState, ReportState};
pub use command::*;
pub use error::CaseError;
pub use event::*;
pub use upcast::{case_upcasters, needs_upcast, upcast_case_payload};
