//! Read-model documents and the pure folds that build them from events. No I/O here:
//! [`crate::store`] loads and saves them, [`crate::projector`] feeds them events.

pub mod account;
pub mod case;
pub mod facts;
pub mod lawyer;
pub mod timeline;

pub use account::{AccountView, TokenView};
pub use case::{CaseView, ReportView};
pub use lawyer::LawyerView;

/// Who did something, as the event metadata records it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EventActor {
    pub account_id: Option<String>,
    pub role: Option<String>,
}
