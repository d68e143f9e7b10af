//! The offence catalogue: which article of which edition of the Criminal Code counts as
//! trafficking, TIP-related, fraud or other. Shipped as a versioned data file
//! (`domain/data/offenses.v1.json`) and extended at run time by an ADMIN through the
//! [`OffenseCatalogue`] aggregate, so every change to the catalogue is itself an event.

use crate::actor::Acting;
use crate::values::{InvalidInput, OffenseCategory, Text};
use chrono::NaiveDate;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The catalogue file compiled into the binary.
pub const SHIPPED_CATALOGUE: &str = include_str!("../data/offenses.v1.json");

/// The stream id of the single catalogue aggregate.
pub const CATALOGUE_ID: &str = "offense-catalogue";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Titles {
    pub en: String,
    #[serde(default)]
    pub ru: Option<String>,
    #[serde(default)]
    pub ky: Option<String>,
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffenseEntry {
    /// `<edition>-<article>`, e.g. `2021-166`.
    pub code: String,
    pub edition: String,
    pub article: String,
    pub title: Titles,
    pub category: OffenseCategory,
    #[serde(default)]
    pub source: Option<String>,
}

impl OffenseEntry {
    /// Checks the shape of an entry an ADMIN adds.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        Text::parse_with_max("edition", &self.edition, 8)?;
        Text::parse_with_max("article", &self.article, 16)?;
        Text::parse("title.en", &self.title.en)?;
        if self.code != format!("{}-{}", self.edition, self.article) {
            return Err(InvalidInput::Malformed { field: "code", expected: "<edition>-<article>, e.g. 2021-166" });
        }
        Ok(())
    }
}

/// An edition of the Criminal Code: when it was adopted and when it was in force, each date
/// only where a cited source states it (`docs/offense-catalogue.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edition {
    /// The year that names the edition and prefixes its codes, e.g. `2021`.
    pub edition: String,
    /// E.g. "Criminal Code of the Kyrgyz Republic of 28 October 2021 No. 127".
    pub name: String,
    /// The date of the code itself (its signing); it cannot apply before it.
    pub dated: NaiveDate,
    /// The first day it was in force, when verified.
    #[serde(default)]
    pub in_force_from: Option<NaiveDate>,
    /// The last day it was in force, when verified; its articles stay usable after it
    /// (acts committed while it was in force are judged under it).
    #[serde(default)]
    pub in_force_until: Option<NaiveDate>,
    pub source: String,
}

impl Edition {
    /// The earliest day an article of this edition may be applied: the day it entered into
    /// force, or where that is not verified, the date of the code itself.
    pub fn applies_from(&self) -> NaiveDate {
        self.in_force_from.unwrap_or(self.dated)
    }
}

/// The editions of the shipped catalogue file, in order of their dates.
pub fn editions() -> &'static [Edition] {
    static EDITIONS: OnceLock<Vec<Edition>> = OnceLock::new();
    EDITIONS.get_or_init(|| {
        // The file is compiled in and checked by a test; a broken file means no era rule
        // rather than a panic in a request.
        let mut e = CatalogueFile::shipped().map(|f| f.editions).unwrap_or_default();
        e.sort_by_key(|x| x.applies_from());
        e
    })
}

/// The edition an offence code belongs to (`2021-166` → the 2021 Code), if it is known.
pub fn edition_of(code: &str) -> Option<&'static Edition> {
    let year = code.split_once('-').map(|(y, _)| y)?;
    editions().iter().find(|e| e.edition == year)
}

/// The edition in force on a day: the latest one that applied by then.
pub fn edition_in_force_on(day: NaiveDate) -> Option<&'static Edition> {
    editions().iter().rev().find(|e| e.applies_from() <= day)
}

/// Why an article cannot be applied on a day: its code was not yet in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotYetInForce {
    pub code: String,
    pub edition: String,
    pub applies_from: NaiveDate,
    /// The name of the edition that was in force on that day, if any is known.
    pub in_force: Option<String>,
}

/// The era rule: an article of a code not yet in force on `day` may not be applied; an
/// article of a repealed code stays usable. Codes of an unknown edition are not checked.
pub fn check_era(code: &str, day: NaiveDate) -> Result<(), NotYetInForce> {
    let Some(edition) = edition_of(code) else { return Ok(()) };
    if day >= edition.applies_from() {
        return Ok(());
    }
    Err(NotYetInForce {
        code: code.to_string(),
        edition: edition.name.clone(),
        applies_from: edition.applies_from(),
        in_force: edition_in_force_on(day).map(|e| e.name.clone()),
    })
}

/// A version of the catalogue file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueFile {
    pub version: u32,
    /// The editions the entries' codes refer to (version 2 on).
    #[serde(default)]
    pub editions: Vec<Edition>,
    pub offenses: Vec<OffenseEntry>,
}

impl CatalogueFile {
    /// Parses the catalogue shipped with this build.
    pub fn shipped() -> Result<Self, serde_json::Error> {
        serde_json::from_str(SHIPPED_CATALOGUE)
    }
}

/// A reference to a catalogue entry as a command carries it: the code and the category
/// the catalogue gave it when the command was issued (recorded in the event, because the
/// catalogue may change later and the count must not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffenseRef {
    pub code: String,
    pub category: OffenseCategory,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogueCommand {
    /// Imports a version of the shipped file; a no-op for a version already imported.
    Import {
        file: CatalogueFile,
    },
    Add {
        entry: OffenseEntry,
    },
    Retire {
        code: String,
        reason: Text,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogueEvent {
    CatalogueImported { version: u32, offenses: Vec<OffenseEntry> },
    OffenseAdded { entry: OffenseEntry },
    OffenseRetired { code: String, reason: Text },
}

impl DomainEvent for CatalogueEvent {
    fn event_type(&self) -> String {
        match self {
            CatalogueEvent::CatalogueImported { .. } => "CatalogueImported",
            CatalogueEvent::OffenseAdded { .. } => "OffenseAdded",
            CatalogueEvent::OffenseRetired { .. } => "OffenseRetired",
        }
        .to_string()
    }
    fn event_version(&self) -> String {
        crate::EVENT_VERSION_1.to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("offence {0} is already in the catalogue")]
    DuplicateCode(String),
    #[error("offence {0} is not in the catalogue")]
    UnknownCode(String),
    #[error("offence {0} is already retired")]
    AlreadyRetired(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

/// The catalogue as its events left it. Retired entries stay (old events refer to them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OffenseCatalogue {
    pub imported_version: u32,
    pub entries: BTreeMap<String, (OffenseEntry, bool)>,
}

impl Aggregate for OffenseCatalogue {
    const TYPE: &'static str = "OffenseCatalogue";
    type Command = Acting<CatalogueCommand>;
    type Event = CatalogueEvent;
    type Error = CatalogueError;
    type Services = ();

    async fn handle(
        &mut self,
        acting: Self::Command,
        _: &(),
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match acting.command {
            CatalogueCommand::Import { file } => {
                if file.version > self.imported_version {
                    sink.write(
                        CatalogueEvent::CatalogueImported { version: file.version, offenses: file.offenses },
                        self,
                    )
                    .await;
                }
            }
            CatalogueCommand::Add { entry } => {
                entry.validate()?;
                if self.entries.contains_key(&entry.code) {
                    return Err(CatalogueError::DuplicateCode(entry.code));
                }
                sink.write(CatalogueEvent::OffenseAdded { entry }, self).await;
            }
            CatalogueCommand::Retire { code, reason } => match self.entries.get(&code) {
                None => return Err(CatalogueError::UnknownCode(code)),
                Some((_, true)) => return Err(CatalogueError::AlreadyRetired(code)),
                Some(_) => sink.write(CatalogueEvent::OffenseRetired { code, reason }, self).await,
            },
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CatalogueEvent::CatalogueImported { version, offenses } => {
                self.imported_version = version;
                for e in offenses {
                    // An entry an ADMIN retired stays retired across file versions.
                    let retired = self.entries.get(&e.code).is_some_and(|(_, r)| *r);
                    self.entries.insert(e.code.clone(), (e, retired));
                }
            }
            CatalogueEvent::OffenseAdded { entry } => {
                self.entries.insert(entry.code.clone(), (entry, false));
            }
            CatalogueEvent::OffenseRetired { code, .. } => {
                if let Some(e) = self.entries.get_mut(&code) {
                    e.1 = true;
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

    type F = TestFramework<OffenseCatalogue>;

    fn admin() -> Actor {
        Actor::system()
    }

    fn entry(code: &str, category: OffenseCategory) -> OffenseEntry {
        let (edition, article) = code.split_once('-').unwrap();
        OffenseEntry {
            code: code.into(),
            edition: edition.into(),
            article: article.into(),
            title: Titles { en: "Test".into(), ru: None, ky: None },
            category,
            source: None,
        }
    }

    #[test]
    fn the_shipped_file_parses_and_every_entry_is_well_formed() {
        let file = CatalogueFile::shipped().expect("domain/data/offenses.v1.json must parse");
        assert!(file.version >= 1);
        assert!(file.offenses.iter().any(|o| o.code == "1997-124" && o.category == OffenseCategory::Tip));
        for o in &file.offenses {
            o.validate().unwrap_or_else(|e| panic!("{}: {e}", o.code));
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn every_shipped_entry_belongs_to_a_dated_edition() {
        let file = CatalogueFile::shipped().unwrap();
        assert_eq!(editions().len(), 3, "1997, 2017 and 2021");
        for o in &file.offenses {
            let e = edition_of(&o.code).unwrap_or_else(|| panic!("{}: no edition", o.code));
            assert_eq!(e.edition, o.edition);
            assert!(!e.source.trim().is_empty());
        }
    }

    #[test]
    fn the_era_rule_refuses_an_article_before_its_code_and_keeps_repealed_ones() {
        // The 2017 Code entered into force on 1 January 2019.
        assert!(check_era("2017-171", day("2019-01-01")).is_ok());
        let e = check_era("2017-171", day("2018-12-31")).unwrap_err();
        assert_eq!(e.applies_from, day("2019-01-01"));
        assert!(e.in_force.as_deref().unwrap().contains("1997"), "{e:?}");
        // The 2021 Code cannot apply in 2018.
        let e = check_era("2021-166", day("2018-05-03")).unwrap_err();
        assert!(e.edition.contains("2021") && e.in_force.unwrap().contains("1997"));
        // A repealed code's article stays usable (acts committed before the change).
        assert!(check_era("1997-124", day("2024-03-01")).is_ok());
        // Codes of an edition the catalogue does not date are not checked.
        assert!(check_era("1960-1", day("2000-01-01")).is_ok());
        assert_eq!(edition_in_force_on(day("2020-06-01")).unwrap().edition, "2017");
        assert_eq!(edition_in_force_on(day("2016-06-01")).unwrap().edition, "1997");
    }

    #[test]
    fn import_is_idempotent_per_version() {
        let file =
            CatalogueFile { version: 1, editions: vec![], offenses: vec![entry("1997-124", OffenseCategory::Tip)] };
        F::with(())
            .given(vec![CatalogueEvent::CatalogueImported { version: 1, offenses: file.offenses.clone() }])
            .when(Acting::new(Actor::system(), CatalogueCommand::Import { file }))
            .then_expect_events(vec![]);
    }

    #[test]
    fn admin_adds_and_retires_entries() {
        let e = entry("2021-999", OffenseCategory::Other);
        F::with(())
            .given_no_previous_events()
            .when(Acting::new(admin(), CatalogueCommand::Add { entry: e.clone() }))
            .then_expect_events(vec![CatalogueEvent::OffenseAdded { entry: e.clone() }]);
        let reason = Text::parse("reason", "repealed").unwrap();
        F::with(())
            .given(vec![CatalogueEvent::OffenseAdded { entry: e.clone() }])
            .when(Acting::new(admin(), CatalogueCommand::Retire { code: e.code.clone(), reason: reason.clone() }))
            .then_expect_events(vec![CatalogueEvent::OffenseRetired { code: e.code.clone(), reason: reason.clone() }]);
        F::with(())
            .given(vec![
                CatalogueEvent::OffenseAdded { entry: e.clone() },
                CatalogueEvent::OffenseRetired { code: e.code.clone(), reason: reason.clone() },
            ])
            .when(Acting::new(admin(), CatalogueCommand::Retire { code: e.code.clone(), reason }))
            .then_expect_error(CatalogueError::AlreadyRetired(e.code));
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let e = entry("2021-998", OffenseCategory::Fraud);
        F::with(())
            .given(vec![CatalogueEvent::OffenseAdded { entry: e.clone() }])
            .when(Acting::new(admin(), CatalogueCommand::Add { entry: e.clone() }))
            .then_expect_error(CatalogueError::DuplicateCode(e.code));
        let mut bad = entry("2021-997", OffenseCategory::Fraud);
        bad.code = "nonsense".into();
        F::with(())
            .given_no_previous_events()
            .when(Acting::new(admin(), CatalogueCommand::Add { entry: bad }))
            .then_expect_error(CatalogueError::Invalid(InvalidInput::Malformed {
                field: "code",
                expected: "<edition>-<article>, e.g. 2021-166",
            }));
    }
}
