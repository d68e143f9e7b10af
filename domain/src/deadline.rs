//! Procedural time limits as data: "after this kind of event, within so many days, this is
//! due", each rule with the article of the Criminal Procedure Code it comes from. Shipped as
//! a versioned file (`domain/data/deadlines.v1.json`) holding only limits verified from the
//! code's text, and changed at run time by an ADMIN through the [`DeadlineRules`] aggregate,
//! so every change to a rule is itself an audited event.

use crate::actor::Acting;
use crate::values::{InvalidInput, Text};
use chrono::NaiveDate;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The rules file compiled into the binary.
pub const SHIPPED_RULES: &str = include_str!("../data/deadlines.v1.json");

/// The one stream that holds the rules.
pub const RULES_ID: &str = "deadline-rules";

/// A kind of fact on a police report that starts a time limit or meets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeadlineEvent {
    PoliceReportFiled,
    OffenseRegistered,
    RegistrationRefused,
    OffenseReclassified,
    InvestigationTerminated,
    ReturnedForInvestigation,
    SentToCourt,
    /// A verdict (of any instance) coming into the record.
    Verdict,
    ComplaintFiled,
    ComplaintDecided,
    AppealFiled,
}

impl DeadlineEvent {
    pub const ALL: &'static [DeadlineEvent] = &[
        DeadlineEvent::PoliceReportFiled,
        DeadlineEvent::OffenseRegistered,
        DeadlineEvent::RegistrationRefused,
        DeadlineEvent::OffenseReclassified,
        DeadlineEvent::InvestigationTerminated,
        DeadlineEvent::ReturnedForInvestigation,
        DeadlineEvent::SentToCourt,
        DeadlineEvent::Verdict,
        DeadlineEvent::ComplaintFiled,
        DeadlineEvent::ComplaintDecided,
        DeadlineEvent::AppealFiled,
    ];
}

/// Where a time limit is written: the article (and part), the code and its edition, a URL
/// of the official text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub article: String,
    pub code: String,
    pub url: String,
}

/// One time limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    /// A short stable name, e.g. `cpc1999-156-2`.
    pub id: String,
    /// The fact that starts the limit.
    pub after: DeadlineEvent,
    /// Calendar days from the day of that fact.
    pub days: u16,
    /// What is due, in English; `what_ru`, `what_ky` where known.
    pub what: String,
    #[serde(default)]
    pub what_ru: Option<String>,
    #[serde(default)]
    pub what_ky: Option<String>,
    /// Facts on the same report, on or after the start, that meet the limit.
    #[serde(default)]
    pub met_by: Vec<DeadlineEvent>,
    /// The limit applies only to facts on or after / on or before these days (the code's
    /// edition in force).
    #[serde(default)]
    pub applies_from: Option<NaiveDate>,
    #[serde(default)]
    pub applies_until: Option<NaiveDate>,
    pub citation: Citation,
}

impl DeadlineRule {
    /// Checks the rule is complete: an id, 1–3650 days, something due, a full citation.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 60
            && self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !id_ok {
            return Err(InvalidInput::Malformed { field: "id", expected: "1-60 letters, digits, '-' or '.'" });
        }
        if !(1..=3650).contains(&self.days) {
            return Err(InvalidInput::Malformed { field: "days", expected: "between 1 and 3650" });
        }
        for (field, v) in [
            ("what", &self.what),
            ("citation.article", &self.citation.article),
            ("citation.code", &self.citation.code),
            ("citation.url", &self.citation.url),
        ] {
            Text::parse(field, v)?;
        }
        if !self.citation.url.starts_with("https://") && !self.citation.url.starts_with("http://") {
            return Err(InvalidInput::Malformed {
                field: "citation.url",
                expected: "an http(s) URL of the official text",
            });
        }
        if let (Some(from), Some(until)) = (self.applies_from, self.applies_until) {
            if until < from {
                return Err(InvalidInput::Malformed { field: "appliesUntil", expected: "on or after appliesFrom" });
            }
        }
        Ok(())
    }

    /// Whether the rule applies to a fact of `day`.
    pub fn applies_on(&self, day: NaiveDate) -> bool {
        self.applies_from.is_none_or(|f| day >= f) && self.applies_until.is_none_or(|u| day <= u)
    }
}

/// A version of the rules file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesFile {
    pub version: u32,
    pub rules: Vec<DeadlineRule>,
}

impl RulesFile {
    /// Parses the rules shipped with this build.
    pub fn shipped() -> Result<Self, serde_json::Error> {
        serde_json::from_str(SHIPPED_RULES)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RulesCommand {
    /// Imports a version of the shipped file; a no-op for a version already imported.
    Import {
        file: RulesFile,
    },
    /// Adds a rule, or replaces the one with its id (which is then in force again).
    Set {
        rule: DeadlineRule,
    },
    Retire {
        id: String,
        reason: Text,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RulesEvent {
    RulesImported { version: u32, rules: Vec<DeadlineRule> },
    DeadlineRuleSet { rule: DeadlineRule },
    DeadlineRuleRetired { id: String, reason: Text },
}

impl DomainEvent for RulesEvent {
    fn event_type(&self) -> String {
        match self {
            RulesEvent::RulesImported { .. } => "RulesImported",
            RulesEvent::DeadlineRuleSet { .. } => "DeadlineRuleSet",
            RulesEvent::DeadlineRuleRetired { .. } => "DeadlineRuleRetired",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("there is no deadline rule {0}")]
    UnknownRule(String),
    #[error("deadline rule {0} is already retired")]
    AlreadyRetired(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

/// The rules as their events left them: each with whether it is retired.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeadlineRules {
    pub imported_version: u32,
    pub rules: BTreeMap<String, (DeadlineRule, bool)>,
}

impl DeadlineRules {
    /// The rules in force.
    pub fn in_force(&self) -> Vec<DeadlineRule> {
        self.rules.values().filter(|(_, retired)| !retired).map(|(r, _)| r.clone()).collect()
    }
}

impl Aggregate for DeadlineRules {
    const TYPE: &'static str = "DeadlineRules";
    type Command = Acting<RulesCommand>;
    type Event = RulesEvent;
    type Error = RulesError;
    type Services = ();

    async fn handle(
        &mut self,
        acting: Self::Command,
        _: &(),
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), RulesError> {
        match acting.command {
            RulesCommand::Import { file } => {
                if file.version > self.imported_version {
                    for r in &file.rules {
                        r.validate()?;
                    }
                    sink.write(RulesEvent::RulesImported { version: file.version, rules: file.rules }, self).await;
                }
            }
            RulesCommand::Set { rule } => {
                rule.validate()?;
                sink.write(RulesEvent::DeadlineRuleSet { rule }, self).await;
            }
            RulesCommand::Retire { id, reason } => match self.rules.get(&id) {
                None => return Err(RulesError::UnknownRule(id)),
                Some((_, true)) => return Err(RulesError::AlreadyRetired(id)),
                Some(_) => sink.write(RulesEvent::DeadlineRuleRetired { id, reason }, self).await,
            },
        }
        Ok(())
    }

    fn apply(&mut self, event: RulesEvent) {
        match event {
            RulesEvent::RulesImported { version, rules } => {
                self.imported_version = version;
                for r in rules {
                    // A rule an ADMIN retired stays retired across file versions.
                    let retired = self.rules.get(&r.id).is_some_and(|(_, x)| *x);
                    self.rules.insert(r.id.clone(), (r, retired));
                }
            }
            RulesEvent::DeadlineRuleSet { rule } => {
                self.rules.insert(rule.id.clone(), (rule, false));
            }
            RulesEvent::DeadlineRuleRetired { id, .. } => {
                if let Some(r) = self.rules.get_mut(&id) {
                    r.1 = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use cqrs_es::test::TestFramework;

    type F = TestFramework<DeadlineRules>;

    fn rule(id: &str, days: u16) -> DeadlineRule {
        DeadlineRule {
            id: id.into(),
            after: DeadlineEvent::Verdict,
            days,
            what: "an appeal".into(),
            what_ru: None,
            what_ky: None,
            met_by: vec![DeadlineEvent::AppealFiled],
            applies_from: None,
            applies_until: None,
            citation: Citation {
                article: "Art. 1".into(),
                code: "Test code".into(),
                url: "https://example.org".into(),
            },
        }
    }

    fn acting(c: RulesCommand) -> Acting<RulesCommand> {
        Acting::new(Actor::system(), c)
    }

    #[test]
    fn the_shipped_file_parses_and_every_rule_is_complete() {
        let file = RulesFile::shipped().expect("deadlines.v1.json parses");
        for r in &file.rules {
            r.validate().unwrap_or_else(|e| panic!("rule {}: {e}", r.id));
        }
    }

    #[test]
    fn a_rule_is_set_replaced_and_retired() {
        F::with(())
            .given_no_previous_events()
            .when(acting(RulesCommand::Set { rule: rule("r1", 10) }))
            .then_expect_events(vec![RulesEvent::DeadlineRuleSet { rule: rule("r1", 10) }]);
        let reason = Text::parse("r", "repealed").unwrap();
        F::with(())
            .given(vec![RulesEvent::DeadlineRuleSet { rule: rule("r1", 10) }])
            .when(acting(RulesCommand::Retire { id: "r1".into(), reason: reason.clone() }))
            .then_expect_events(vec![RulesEvent::DeadlineRuleRetired { id: "r1".into(), reason: reason.clone() }]);
        F::with(())
            .given(vec![
                RulesEvent::DeadlineRuleSet { rule: rule("r1", 10) },
                RulesEvent::DeadlineRuleRetired { id: "r1".into(), reason: reason.clone() },
            ])
            .when(acting(RulesCommand::Retire { id: "r1".into(), reason }))
            .then_expect_error(RulesError::AlreadyRetired("r1".into()));
    }

    #[test]
    fn an_incomplete_rule_is_refused() {
        let mut no_url = rule("r1", 10);
        no_url.citation.url = "cbd".into();
        assert!(no_url.validate().is_err());
        assert!(rule("r1", 0).validate().is_err());
        assert!(rule("bad id", 5).validate().is_err());
        let mut no_article = rule("r1", 10);
        no_article.citation.article = " ".into();
        assert!(no_article.validate().is_err());
        assert!(rule("r1", 10).validate().is_ok());
    }

    #[test]
    fn a_rule_applies_only_within_its_era() {
        let mut r = rule("r1", 3);
        r.applies_until = Some("2018-12-31".parse().unwrap());
        assert!(r.applies_on("2018-06-01".parse().unwrap()));
        assert!(!r.applies_on("2019-01-01".parse().unwrap()));
    }
}
