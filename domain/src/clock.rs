//! "Today", injected so that date invariants are testable.

use chrono::NaiveDate;

pub trait Clock: Send + Sync {
    fn today(&self) -> NaiveDate;
}

/// The server's clock (UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn today(&self) -> NaiveDate {
        chrono::Utc::now().date_naive()
    }
}

/// A clock that always says the same day: for tests and deterministic seeding.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub NaiveDate);

impl Clock for FixedClock {
    fn today(&self) -> NaiveDate {
        self.0
    }
}
