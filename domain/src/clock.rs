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

/// A clock an operator moves by hand: for back-dated data entry, such as the demo data set
/// that replays six years of cases.
#[derive(Debug)]
pub struct ManualClock(std::sync::Mutex<NaiveDate>);

impl ManualClock {
    pub fn new(day: NaiveDate) -> Self {
        ManualClock(std::sync::Mutex::new(day))
    }

    pub fn set(&self, day: NaiveDate) {
        if let Ok(mut d) = self.0.lock() {
            *d = day;
        }
    }
}

impl Clock for ManualClock {
    fn today(&self) -> NaiveDate {
        self.0.lock().map(|d| *d).unwrap_or(NaiveDate::MIN)
    }
}
