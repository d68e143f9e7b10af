//! The web app's languages: Russian, Kyrgyz and English, from Fluent catalogues compiled
//! into the binary (`locales/*.ftl`). Every visible string, enum label, refusal and date goes
//! through [`Tr`]; a test fails when a message is missing in any language.

use chrono::NaiveDate;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    Ky,
    En,
}

impl Lang {
    pub const ALL: &'static [Lang] = &[Lang::Ru, Lang::Ky, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::Ky => "ky",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ru" => Some(Lang::Ru),
            "ky" => Some(Lang::Ky),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header (quality order), Russian
    /// when it names none of them: most users read Russian.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.unwrap_or("").split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim();
            let q = it.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(l) = Lang::parse(primary) {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, l));
                }
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Ru)
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Ru => include_str!("locales/ru.ftl"),
            Lang::Ky => include_str!("locales/ky.ftl"),
            Lang::En => include_str!("locales/en.ftl"),
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

fn bundle(lang: Lang) -> &'static Bundle {
    static BUNDLES: OnceLock<Vec<Bundle>> = OnceLock::new();
    let all = BUNDLES.get_or_init(|| {
        Lang::ALL
            .iter()
            .map(|l| {
                let id: unic_langid::LanguageIdentifier = l.code().parse().expect("a valid language tag");
                let mut b = FluentBundle::new_concurrent(vec![id]);
                b.set_use_isolating(false);
                // A syntax error in a shipped catalogue is a build defect the unit test catches.
                let res = FluentResource::try_new(l.source().to_string()).unwrap_or_else(|(r, _)| r);
                let _ = b.add_resource(res);
                b
            })
            .collect()
    });
    &all[Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0)]
}

/// Translates for one request's language.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn lang(self) -> Lang {
        self.0
    }

    /// The message `id`; the id itself when missing (a test keeps that from shipping).
    pub fn t(self, id: &str) -> String {
        self.t_args(id, &[])
    }

    /// The message `id` with named arguments.
    pub fn t_args(self, id: &str, args: &[(&str, &str)]) -> String {
        let b = bundle(self.0);
        let Some(pattern) = b.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(id, lang = self.0.code(), "missing message");
            return id.to_string();
        };
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, FluentValue::from(*v));
        }
        let mut errors = vec![];
        b.format_pattern(pattern, Some(&fa), &mut errors).into_owned()
    }

    /// The label of an enumeration member, e.g. `enum("Region", "BISHKEK")`.
    pub fn label(self, kind: &str, value: &str) -> String {
        self.t(&format!("{kind}-{value}"))
    }

    /// A date as people write it: dd.mm.yyyy in Russian and Kyrgyz, ISO in English.
    pub fn date(self, d: NaiveDate) -> String {
        match self.0 {
            Lang::Ru | Lang::Ky => d.format("%d.%m.%Y").to_string(),
            Lang::En => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn has(self, id: &str) -> bool {
        bundle(self.0).has_message(id)
    }
}

/// The case events a timeline names: every one the domain has, so a new event type cannot
/// reach a page without its label in each language (the catalogue test checks them).
pub const EVENTS: &[&str] = domain::case::CaseEvent::TYPES;

/// Every enumeration whose labels the catalogue must name, as (kind, labels).
pub fn enumerations() -> Vec<(&'static str, Vec<&'static str>)> {
    use domain::values as v;
    fn l<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|x| f(*x)).collect()
    }
    vec![
        ("Role", l(v::Role::ALL, v::Role::as_str)),
        ("Gender", l(v::Gender::ALL, v::Gender::as_str)),
        ("Region", l(v::Region::ALL, v::Region::as_str)),
        ("ExploitationType", l(v::ExploitationType::ALL, v::ExploitationType::as_str)),
        ("ReferralSource", l(v::ReferralSource::ALL, v::ReferralSource::as_str)),
        ("LawyerStatus", l(v::LawyerStatus::ALL, v::LawyerStatus::as_str)),
        ("OffenseCategory", l(v::OffenseCategory::ALL, v::OffenseCategory::as_str)),
        ("Authority", l(v::Authority::ALL, v::Authority::as_str)),
        ("InvestigationOutcome", l(v::InvestigationOutcome::ALL, v::InvestigationOutcome::as_str)),
        ("VerdictOutcome", l(v::VerdictOutcome::ALL, v::VerdictOutcome::as_str)),
        ("ConsentScope", l(v::ConsentScope::ALL, v::ConsentScope::as_str)),
        ("ProtectionService", l(v::ProtectionService::ALL, v::ProtectionService::as_str)),
        ("LegalActionKind", l(v::LegalActionKind::ALL, v::LegalActionKind::as_str)),
        ("CaseStatus", l(projections::model::CaseStatus::ALL, projections::model::CaseStatus::as_str)),
        ("Purpose", crate::app::privacy::PURPOSES.to_vec()),
        ("Event", EVENTS.to_vec()),
        ("Fact", l(projections::model::facts::FactKind::ALL, projections::model::facts::FactKind::as_str)),
        ("AgeGroup", vec!["MINOR", "ADULT", "UNKNOWN"]),
        ("SignInOutcome", l(crate::app::sign_in::SignInOutcome::ALL, crate::app::sign_in::SignInOutcome::as_str)),
        ("ErasureStatus", vec!["PENDING", "APPROVED", "REJECTED"]),
        ("CourtInstance", l(v::CourtInstance::ALL, v::CourtInstance::as_str)),
        ("ComplaintSubject", l(v::ComplaintSubject::ALL, v::ComplaintSubject::as_str)),
        ("ComplaintAddressee", l(v::ComplaintAddressee::ALL, v::ComplaintAddressee::as_str)),
        ("ComplaintOutcome", l(v::ComplaintOutcome::ALL, v::ComplaintOutcome::as_str)),
        ("DefendantRole", l(v::DefendantRole::ALL, v::DefendantRole::as_str)),
        ("DefendantRelationship", l(v::DefendantRelationship::ALL, v::DefendantRelationship::as_str)),
        ("CompensationStep", l(v::CompensationStep::ALL, v::CompensationStep::as_str)),
        ("ReferralOutcome", l(v::ReferralOutcome::ALL, v::ReferralOutcome::as_str)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(src: &str) -> BTreeSet<String> {
        let res = FluentResource::try_new(src.to_string()).expect("the catalogue parses");
        res.entries()
            .filter_map(|e| match e {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                _ => None,
            })
            .collect()
    }

    /// Every message-id literal passed to `t` or `t_args` in the web module's sources.
    fn used_ids() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("read src/web") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).expect("read");
                    for pat in [".t(\"", ".t_args(\"", "msg!(\""] {
                        for (i, _) in text.match_indices(pat) {
                            let rest = &text[i + pat.len()..];
                            if let Some(end) = rest.find('"') {
                                out.insert(rest[..end].to_string());
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn every_language_has_every_message() {
        let en = ids(Lang::En.source());
        for l in [Lang::Ru, Lang::Ky] {
            let other = ids(l.source());
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", l.code());
            assert!(extra.is_empty(), "{} has messages English lacks: {extra:?}", l.code());
        }
        for id in used_ids() {
            assert!(en.contains(&id), "the code uses message {id:?}, which the catalogues lack");
        }
        for (kind, labels) in enumerations() {
            for label in labels {
                let id = format!("{kind}-{label}");
                assert!(en.contains(&id), "no label {id}");
            }
        }
    }

    #[test]
    fn no_message_is_defined_twice() {
        for l in Lang::ALL {
            let res = FluentResource::try_new(l.source().to_string()).expect("the catalogue parses");
            let mut seen = BTreeSet::new();
            for e in res.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = e {
                    // Fluent keeps the first of two definitions: the second would never show.
                    assert!(seen.insert(m.id.name), "{} defines {:?} twice", l.code(), m.id.name);
                }
            }
        }
    }

    #[test]
    fn the_catalogues_parse_without_errors() {
        for l in Lang::ALL {
            assert!(FluentResource::try_new(l.source().to_string()).is_ok(), "{} does not parse", l.code());
        }
    }

    #[test]
    fn languages_come_from_accept_language_in_quality_order() {
        assert_eq!(Lang::from_accept_language(Some("ky-KG,ky;q=0.9,ru;q=0.8")), Lang::Ky);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("de;q=1, ru;q=0.5, en;q=0.4")), Lang::Ru);
        assert_eq!(Lang::from_accept_language(Some("fr")), Lang::Ru);
        assert_eq!(Lang::from_accept_language(None), Lang::Ru);
    }

    #[test]
    fn dates_are_day_first_in_russian_and_kyrgyz() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 7).unwrap();
        assert_eq!(Tr(Lang::Ru).date(d), "07.03.2024");
        assert_eq!(Tr(Lang::Ky).date(d), "07.03.2024");
        assert_eq!(Tr(Lang::En).date(d), "2024-03-07");
    }

    #[test]
    fn arguments_are_filled_in() {
        assert!(Tr(Lang::En).t_args("err-too-long", &[("field", "X")]).contains('X'));
    }
}
