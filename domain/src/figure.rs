//! Published figures: what an official source (a statistics committee, a ministry, the US
//! TIP Report, any named publication) printed for one indicator and year, so the ledger's own
//! count can be set beside it. One stream per (source, indicator, year); recording it again
//! with other values is a correction, kept in the stream like every other fact.

use crate::actor::Acting;
use crate::values::Text;
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The earliest and latest year a figure may be about.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// What a source printed: `value` is `None` where the source has no figure for the year
/// (a "-" in its table), which is not zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub source: Text,
    pub citation: Text,
    pub indicator: Text,
    pub year: i32,
    pub value: Option<i64>,
}

impl Figure {
    /// The stream of this (source, indicator, year): the same whatever the letter case or
    /// surrounding spaces, so a correction lands on the figure it corrects.
    pub fn stream_id(source: &str, indicator: &str, year: i32) -> Uuid {
        let key = format!("{}\u{1f}{}\u{1f}{year}", source.trim().to_lowercase(), indicator.trim().to_lowercase());
        let digest = Sha256::digest(key.as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FigureCommand {
    Record(Figure),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FigureEvent {
    PublishedFigureRecorded(Figure),
}

impl DomainEvent for FigureEvent {
    fn event_type(&self) -> String {
        match self {
            FigureEvent::PublishedFigureRecorded(_) => "PublishedFigureRecorded",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    #[error("year must be between {} and {}", YEARS.start(), YEARS.end())]
    Year,
    #[error("value must not be negative (leave it empty where the source has no figure)")]
    Negative,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublishedFigure {
    pub current: Option<Figure>,
}

impl Aggregate for PublishedFigure {
    const TYPE: &'static str = "PublishedFigure";
    type Command = Acting<FigureCommand>;
    type Event = FigureEvent;
    type Error = FigureError;
    type Services = ();

    async fn handle(
        &mut self,
        acting: Acting<FigureCommand>,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), FigureError> {
        let FigureCommand::Record(figure) = acting.command;
        if !YEARS.contains(&figure.year) {
            return Err(FigureError::Year);
        }
        if figure.value.is_some_and(|v| v < 0) {
            return Err(FigureError::Negative);
        }
        // Recording what is already recorded changes nothing: no event.
        if self.current.as_ref() == Some(&figure) {
            return Ok(());
        }
        sink.write(FigureEvent::PublishedFigureRecorded(figure), self).await;
        Ok(())
    }

    fn apply(&mut self, event: FigureEvent) {
        let FigureEvent::PublishedFigureRecorded(f) = event;
        self.current = Some(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use cqrs_es::test::TestFramework;

    fn figure(value: Option<i64>) -> Figure {
        Figure {
            source: Text::parse("source", "US TIP Report").unwrap(),
            citation: Text::parse("citation", "UNODC report, table 3").unwrap(),
            indicator: Text::parse("indicator", "registered TIP cases").unwrap(),
            year: 2020,
            value,
        }
    }

    fn record(f: Figure) -> Acting<FigureCommand> {
        Acting::new(Actor::system(), FigureCommand::Record(f))
    }

    #[test]
    fn a_figure_is_recorded_corrected_and_not_recorded_twice() {
        let first = FigureEvent::PublishedFigureRecorded(figure(Some(40)));
        TestFramework::<PublishedFigure>::with(())
            .given_no_previous_events()
            .when(record(figure(Some(40))))
            .then_expect_events(vec![first.clone()]);
        TestFramework::<PublishedFigure>::with(())
            .given(vec![first.clone()])
            .when(record(figure(Some(40))))
            .then_expect_events(vec![]);
        // "No figure" is a value of its own, not zero.
        TestFramework::<PublishedFigure>::with(())
            .given(vec![first])
            .when(record(figure(None)))
            .then_expect_events(vec![FigureEvent::PublishedFigureRecorded(figure(None))]);
    }

    #[test]
    fn a_negative_value_or_an_impossible_year_is_refused() {
        TestFramework::<PublishedFigure>::with(())
            .given_no_previous_events()
            .when(record(figure(Some(-1))))
            .then_expect_error(FigureError::Negative);
        TestFramework::<PublishedFigure>::with(())
            .given_no_previous_events()
            .when(record(Figure { year: 20201, ..figure(Some(1)) }))
            .then_expect_error(FigureError::Year);
    }

    #[test]
    fn the_stream_ignores_case_and_spaces() {
        assert_eq!(
            Figure::stream_id("NSC ", "Registered TIP cases", 2016),
            Figure::stream_id("nsc", " registered tip cases", 2016)
        );
        assert_ne!(Figure::stream_id("NSC", "x", 2016), Figure::stream_id("NSC", "x", 2017));
    }
}
