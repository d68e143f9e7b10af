//! Value types. "Parse, don't validate": once a value exists it is valid.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A label that names no member of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {kind}")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub value: String,
}

/// Declares an enumeration whose stored and published label is SCREAMING_CASE.
macro_rules! labelled {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $label)] $variant),+ }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable label, as stored in events and shown by the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabel;
            fn from_str(s: &str) -> Result<Self, UnknownLabel> {
                match s {
                    $($label => Ok($name::$variant),)+
                    _ => Err(UnknownLabel { kind: stringify!($name), value: s.chars().take(40).collect() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

labelled!(
    /// What an account may do; see DESIGN.md §1.
    Role { Admin => "ADMIN", Coordinator => "COORDINATOR", Lawyer => "LAWYER", IntakeWorker => "INTAKE_WORKER", Auditor => "AUDITOR" }
);
impl Role {
    /// Roles whose accounts can reach client identity, and so need a second person's
    /// approval before they do.
    pub fn reads_identity(self) -> bool {
        matches!(self, Role::IntakeWorker | Role::Lawyer | Role::Coordinator)
    }
}

labelled!(Gender { Female => "FEMALE", Male => "MALE", Other => "OTHER", Unknown => "UNKNOWN" });
labelled!(
    /// Regions of origin in the Kyrgyz Republic.
    Region { Bishkek => "BISHKEK", OshCity => "OSH_CITY", Chui => "CHUI", Osh => "OSH", JalalAbad => "JALAL_ABAD", Batken => "BATKEN", Talas => "TALAS", Naryn => "NARYN", IssykKul => "ISSYK_KUL" }
);
labelled!(ExploitationType {
    ForcedLabor => "FORCED_LABOR", Sexual => "SEXUAL", ForcedMarriage => "FORCED_MARRIAGE",
    ForcedBegging => "FORCED_BEGGING", ForcedCriminality => "FORCED_CRIMINALITY",
    IllegalAdoption => "ILLEGAL_ADOPTION", OrganRemoval => "ORGAN_REMOVAL",
    ArmedGroupRecruitment => "ARMED_GROUP_RECRUITMENT", Other => "OTHER"
});
labelled!(ReferralSource { Hotline => "HOTLINE", NgoOutreach => "NGO_OUTREACH", Police => "POLICE", Iom => "IOM", SelfReferral => "SELF", Other => "OTHER" });
labelled!(OrganizationKind { Ngo => "NGO", CrisisCenter => "CRISIS_CENTER", LegalClinic => "LEGAL_CLINIC", BarAssociation => "BAR_ASSOCIATION", Other => "OTHER" });
labelled!(LawyerStatus { Professional => "PROFESSIONAL", Student => "STUDENT" });
labelled!(
    /// How the catalogue classes an offence: the distinction the whole ledger exists to count.
    OffenseCategory { Tip => "TIP", TipRelated => "TIP_RELATED", Fraud => "FRAUD", Other => "OTHER" }
);
labelled!(Authority { Police => "POLICE", Prosecutor => "PROSECUTOR", Court => "COURT" });
labelled!(InvestigationOutcome { Terminated => "TERMINATED", ReturnedForInvestigation => "RETURNED_FOR_INVESTIGATION", SentToCourt => "SENT_TO_COURT" });
labelled!(VerdictOutcome { Convicted => "CONVICTED", Acquitted => "ACQUITTED", Dismissed => "DISMISSED" });
labelled!(
    /// A step of a compensation claim.
    CompensationStep { Claimed => "CLAIMED", Awarded => "AWARDED", Paid => "PAID" }
);
labelled!(
    /// What an accused person did in the trafficking chain.
    DefendantRole {
        Recruiter => "RECRUITER", Transporter => "TRANSPORTER", Harbourer => "HARBOURER",
        Exploiter => "EXPLOITER", Organiser => "ORGANISER", Other => "OTHER"
    }
);
labelled!(
    /// What a client consented to; each scope is given and withdrawn on its own.
    ConsentScope { LegalAid => "LEGAL_AID", ReportToPolice => "REPORT_TO_POLICE", DataSharing => "DATA_SHARING" }
);
labelled!(
    /// Protection services of the National Referral Mechanism.
    ProtectionService { Shelter => "SHELTER", Medical => "MEDICAL", Psychological => "PSYCHOLOGICAL", Reintegration => "REINTEGRATION", Other => "OTHER" }
);
labelled!(LegalActionKind {
    Consultation => "CONSULTATION", ComplaintDrafted => "COMPLAINT_DRAFTED", EvidenceSubmitted => "EVIDENCE_SUBMITTED",
    HearingAttended => "HEARING_ATTENDED", AppealFiled => "APPEAL_FILED", Other => "OTHER"
});
labelled!(AgeGroup { Minor => "MINOR", Adult => "ADULT", Unknown => "UNKNOWN" });

impl AgeGroup {
    /// Age at identification below 18 is a minor (API.md counting rules).
    pub fn from_age(age: Option<u8>) -> Self {
        match age {
            Some(a) if a < 18 => AgeGroup::Minor,
            Some(_) => AgeGroup::Adult,
            None => AgeGroup::Unknown,
        }
    }
}

// ---- proceedings: who started a report, hearings, complaints, appeals, referrals

labelled!(
    /// Who started a police report: the client's lawyer, the NGO on the victim's behalf, or
    /// the police on their own initiative. Reports recorded before this was asked have none.
    ReportInitiator { Lawyer => "LAWYER", Ngo => "NGO", Police => "POLICE" }
);
labelled!(
    /// The court instance that decided (or hears) a case, lowest first.
    CourtInstance { FirstInstance => "FIRST_INSTANCE", Appeal => "APPEAL", Cassation => "CASSATION" }
);
#[allow(clippy::derivable_impls)] // the `labelled!` macro derives the rest
impl Default for CourtInstance {
    fn default() -> Self {
        CourtInstance::FirstInstance
    }
}
impl CourtInstance {
    /// True for the first instance (the default, left out of stored verdicts).
    pub fn is_first(&self) -> bool {
        *self == CourtInstance::FirstInstance
    }
}
labelled!(
    /// What a complaint is against.
    ComplaintSubject {
        RefusalToRegister => "REFUSAL_TO_REGISTER", Termination => "TERMINATION", Qualification => "QUALIFICATION"
    }
);
labelled!(
    /// Whom a complaint was filed with.
    ComplaintAddressee {
        Prosecutor => "PROSECUTOR", InvestigatingJudge => "INVESTIGATING_JUDGE", Court => "COURT",
        HigherProsecutor => "HIGHER_PROSECUTOR"
    }
);
labelled!(
    /// The decision on a complaint (pending until one is recorded).
    ComplaintOutcome { Upheld => "UPHELD", Rejected => "REJECTED" }
);
labelled!(
    /// What came of a referral to a protection service.
    ReferralOutcome { ServiceProvided => "SERVICE_PROVIDED", Declined => "DECLINED", Unavailable => "UNAVAILABLE" }
);
labelled!(
    /// Who gave a consent: the client, or for a minor (or a client who cannot) a parent or
    /// guardian, or another legal representative.
    ConsentGiver { Client => "CLIENT", Guardian => "GUARDIAN", Representative => "REPRESENTATIVE" }
);

/// Why a piece of input was refused before it reached an aggregate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error("{field} contains invisible formatting characters (such as right-to-left overrides or zero-width spaces); remove them")]
    FormatCharacters { field: &'static str },
    #[error("{field} must be {expected}")]
    Malformed { field: &'static str, expected: &'static str },
    #[error(transparent)]
    Label(#[from] UnknownLabel),
}

/// A short, trimmed, non-empty line of text without control characters (names, units,
/// reasons). Control characters are refused because they corrupt logs and exports and
/// PostgreSQL's jsonb cannot store NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text(String);

impl Text {
    pub const MAX: usize = 500;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        Self::parse_with_max(field, raw, Self::MAX)
    }

    /// Parses new input: also refuses invisible formatting characters, which can make an
    /// audit display read other than what is stored.
    pub fn parse_with_max(field: &'static str, raw: &str, max: usize) -> Result<Self, InvalidInput> {
        let t = Self::stored(field, raw, max)?;
        if t.0.chars().any(is_format_character) {
            return Err(InvalidInput::FormatCharacters { field });
        }
        Ok(t)
    }

    /// The rules every stored text already met when it was written (events written before
    /// format characters were refused must still replay).
    fn stored(field: &'static str, raw: &str, max: usize) -> Result<Self, InvalidInput> {
        let t = raw.trim();
        if t.is_empty() {
            return Err(InvalidInput::Empty { field });
        }
        if t.chars().count() > max {
            return Err(InvalidInput::TooLong { field, max });
        }
        if t.chars().any(char::is_control) {
            return Err(InvalidInput::ControlCharacters { field });
        }
        Ok(Text(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Text {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, InvalidInput> {
        Text::stored("text", &s, Text::MAX)
    }
}

/// Unicode format characters (category Cf) that can hide or reorder text: bidirectional
/// embeddings, overrides, isolates and marks; zero-width spaces, joiners and the word joiner
/// family; the byte-order mark; the soft hyphen; interlinear annotation and tag characters.
pub fn is_format_character(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        let up = raw.trim().to_ascii_uppercase();
        if up.len() == 2 && up.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CountryCode(up))
        } else {
            Err(InvalidInput::Malformed { field, expected: "an ISO 3166-1 alpha-2 code such as RU or KZ" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CountryCode {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, InvalidInput> {
        CountryCode::parse("country", &s)
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.0
    }
}

/// An ISO 4217 currency code, upper case (KGS, RUB, USD, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CurrencyCode(String);

impl CurrencyCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        let up = raw.trim().to_ascii_uppercase();
        if up.len() == 3 && up.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(CurrencyCode(up))
        } else {
            Err(InvalidInput::Malformed { field, expected: "an ISO 4217 currency code such as KGS or RUB" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CurrencyCode {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, InvalidInput> {
        CurrencyCode::parse("currency", &s)
    }
}

impl From<CurrencyCode> for String {
    fn from(c: CurrencyCode) -> String {
        c.0
    }
}

/// Age in whole years at identification: 0 to 120.
/// Free text that may span lines (a narrative, a note): trimmed, at most `max` characters,
/// tabs and line breaks allowed, other control characters not.
pub fn parse_long_text(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidInput> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(InvalidInput::TooLong { field, max });
    }
    if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(InvalidInput::ControlCharacters { field });
    }
    if t.chars().any(is_format_character) {
        return Err(InvalidInput::FormatCharacters { field });
    }
    Ok(t.to_string())
}

pub fn parse_age(raw: i64) -> Result<u8, InvalidInput> {
    if (0..=120).contains(&raw) {
        Ok(raw as u8)
    } else {
        Err(InvalidInput::Malformed { field: "ageAtIdentification", expected: "a whole number of years from 0 to 120" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_strings_and_serde() {
        for r in Region::ALL {
            assert_eq!(r.as_str().parse::<Region>().unwrap(), *r);
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert!("NOWHERE".parse::<Region>().is_err());
    }

    #[test]
    fn text_refuses_empty_long_and_control_input() {
        assert_eq!(Text::parse("x", "  a b ").unwrap().as_str(), "a b");
        assert!(matches!(Text::parse("x", "   "), Err(InvalidInput::Empty { .. })));
        assert!(matches!(Text::parse("x", "a\u{0}b"), Err(InvalidInput::ControlCharacters { .. })));
        assert!(matches!(Text::parse("x", &"a".repeat(501)), Err(InvalidInput::TooLong { .. })));
    }

    #[test]
    fn new_text_refuses_invisible_formatting_but_stored_text_still_replays() {
        for spoof in ["Asel\u{202E}txt.exe", "\u{200B}", "a\u{2066}b", "x\u{FEFF}", "a\u{E0041}"] {
            assert!(matches!(Text::parse("name", spoof), Err(InvalidInput::FormatCharacters { .. })), "{spoof:?}");
            assert!(matches!(parse_long_text("note", spoof, 100), Err(InvalidInput::FormatCharacters { .. })));
        }
        assert_eq!(Text::parse("name", "Айгүл Асанова").unwrap().as_str(), "Айгүл Асанова");
        let stored: Text = serde_json::from_str(r#""Asel\u202Etxt""#).unwrap();
        assert_eq!(stored.as_str(), "Asel\u{202E}txt");
    }

    #[test]
    fn country_codes_are_two_letters() {
        assert_eq!(CountryCode::parse("c", "ru").unwrap().as_str(), "RU");
        assert!(CountryCode::parse("c", "RUS").is_err());
        assert!(CountryCode::parse("c", "1A").is_err());
    }

    #[test]
    fn age_groups_split_at_eighteen() {
        assert_eq!(AgeGroup::from_age(Some(17)), AgeGroup::Minor);
        assert_eq!(AgeGroup::from_age(Some(18)), AgeGroup::Adult);
        assert_eq!(AgeGroup::from_age(None), AgeGroup::Unknown);
        assert!(parse_age(121).is_err());
        assert!(parse_age(-1).is_err());
    }
}

// ---- the HTCDS profile (docs/htcds.md): non-identifying, optional, for sharing with IOM / CTDC

labelled!(
    /// How the client was recruited (our list; see docs/htcds.md). Several may apply.
    RecruitmentMethod {
        JobOffer => "JOB_OFFER", MarriageOrRelationship => "MARRIAGE_OR_RELATIONSHIP",
        EducationOffer => "EDUCATION_OFFER", TravelOffer => "TRAVEL_OFFER", Online => "ONLINE",
        Agency => "AGENCY", Abduction => "ABDUCTION", SoldByFamily => "SOLD_BY_FAMILY", Other => "OTHER"
    }
);
labelled!(
    /// A means of control used on the client: the CTDC Global Dataset's `meansOfControl*`
    /// columns (docs/htcds.md). Several may apply.
    MeansOfControl {
        DebtBondage => "DEBT_BONDAGE", TakesEarnings => "TAKES_EARNINGS",
        RestrictsFinancialAccess => "RESTRICTS_FINANCIAL_ACCESS", Threats => "THREATS",
        PsychologicalAbuse => "PSYCHOLOGICAL_ABUSE", PhysicalAbuse => "PHYSICAL_ABUSE",
        SexualAbuse => "SEXUAL_ABUSE", FalsePromises => "FALSE_PROMISES",
        PsychoactiveSubstances => "PSYCHOACTIVE_SUBSTANCES", RestrictsMovement => "RESTRICTS_MOVEMENT",
        RestrictsMedicalCare => "RESTRICTS_MEDICAL_CARE", ExcessiveWorkingHours => "EXCESSIVE_WORKING_HOURS",
        UsesChildren => "USES_CHILDREN", ThreatOfLawEnforcement => "THREAT_OF_LAW_ENFORCEMENT",
        WithholdsNecessities => "WITHHOLDS_NECESSITIES", WithholdsDocuments => "WITHHOLDS_DOCUMENTS",
        Other => "OTHER"
    }
);
labelled!(
    /// The recruiter's relationship to the client (CTDC `recruiterRelation*`; INTIMATE_PARTNER
    /// and EMPLOYER are ours, exported as Other).
    RecruiterRelationship {
        Family => "FAMILY", Friend => "FRIEND", IntimatePartner => "INTIMATE_PARTNER",
        Employer => "EMPLOYER", Other => "OTHER"
    }
);
labelled!(
    /// The section (A–U) of ISIC Rev.4, the UN's International Standard Industrial
    /// Classification, of the industry the client was exploited in.
    IsicSection {
        A => "A", B => "B", C => "C", D => "D", E => "E", F => "F", G => "G", H => "H", I => "I",
        J => "J", K => "K", L => "L", M => "M", N => "N", O => "O", P => "P", Q => "Q", R => "R",
        S => "S", T => "T", U => "U"
    }
);
labelled!(
    /// The client's migration status where exploited (our list; see docs/htcds.md).
    MigrationStatus {
        RegularMigrant => "REGULAR_MIGRANT", IrregularMigrant => "IRREGULAR_MIGRANT",
        NotAMigrant => "NOT_A_MIGRANT", Unknown => "UNKNOWN"
    }
);
labelled!(
    /// A defendant's relationship to the client before the offence. FAMILY, FRIEND,
    /// INTIMATE_PARTNER, EMPLOYER and OTHER are the values of the victim profile's
    /// `RecruiterRelationship` (the CTDC's `recruiterRelation*`, docs/htcds.md); STRANGER and
    /// ACQUAINTANCE are ours, for the persons the CTDC's list folds into Friend or Other.
    DefendantRelationship {
        Stranger => "STRANGER", Acquaintance => "ACQUAINTANCE", Friend => "FRIEND",
        IntimatePartner => "INTIMATE_PARTNER", Family => "FAMILY", Employer => "EMPLOYER", Other => "OTHER"
    }
);
labelled!(
    /// Who gave consent on behalf of a client under 18.
    GuardianKind {
        Parent => "PARENT", Guardian => "GUARDIAN", LegalRepresentative => "LEGAL_REPRESENTATIVE",
        GuardianshipAuthority => "GUARDIANSHIP_AUTHORITY"
    }
);

/// An ISO 639-1 language code, lower case (ky, ru, uz, tg, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageCode(String);

impl LanguageCode {
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        let low = raw.trim().to_ascii_lowercase();
        if low.len() == 2 && low.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(LanguageCode(low))
        } else {
            Err(InvalidInput::Malformed { field, expected: "an ISO 639-1 language code such as ky or ru" })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LanguageCode {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, InvalidInput> {
        LanguageCode::parse("primaryLanguage", &s)
    }
}

impl From<LanguageCode> for String {
    fn from(c: LanguageCode) -> String {
        c.0
    }
}

/// Where the client was recruited: a region of the Kyrgyz Republic, or another country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceOfRecruitment {
    Region(Region),
    Country(CountryCode),
}

impl PlaceOfRecruitment {
    /// A region name (BISHKEK, OSH, …) or an ISO country code; KG alone is the country.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidInput> {
        let up = raw.trim().to_ascii_uppercase();
        if let Ok(r) = up.parse::<Region>() {
            return Ok(PlaceOfRecruitment::Region(r));
        }
        CountryCode::parse(field, &up).map(PlaceOfRecruitment::Country).map_err(|_| InvalidInput::Malformed {
            field,
            expected: "a region of the Kyrgyz Republic (BISHKEK, OSH, …) or an ISO 3166-1 alpha-2 code",
        })
    }

    /// The country: KG for a region.
    pub fn country(&self) -> &str {
        match self {
            PlaceOfRecruitment::Region(_) => "KG",
            PlaceOfRecruitment::Country(c) => c.as_str(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            PlaceOfRecruitment::Region(r) => r.as_str().to_string(),
            PlaceOfRecruitment::Country(c) => c.as_str().to_string(),
        }
    }
}
