//! Read-model documents and the pure folds that build them from events. No I/O here:
//! [`crate::store`] loads and saves them, [`crate::projector`] feeds them events.
//!
//! Every type here is typed the way the API uses it (ids as [`uuid::Uuid`], dates as
//! [`chrono::NaiveDate`], instants as `DateTime<Utc>`, labels as the domain's enums): the
//! store decodes a row once, and a row it cannot decode is a [`crate::Error::CorruptRow`].

pub mod account;
pub mod case;
pub mod deadlines;
pub mod facts;
pub mod lawyer;
pub mod timeline;

pub use account::{AccountView, TokenView};
pub use case::{CaseStatus, CaseView, ReportView};
pub use lawyer::LawyerView;
