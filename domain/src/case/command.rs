//! What users ask of a case. Each command carries the acting [`Actor`]; values inside are
//! already parsed (see `values`), so a command that exists is well-formed.

pub use super::proceedings::ProceedingsCommand;
use crate::offense::OffenseRef;
use crate::sealed::Sealed;
use crate::values::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Non-identifying facts about the client, kept in clear for statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientProfile {
    pub gender: Gender,
    pub age_at_identification: Option<u8>,
    pub citizenship: Option<CountryCode>,
    pub region: Option<Region>,
}

/// The client's profile in the terms of the IOM Human Trafficking Case Data Standard
/// (docs/htcds.md): non-identifying, every part optional, kept in clear for statistics and
/// `probono export htcds`. Multi-valued where the standard is (recruitment, means of control).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VictimProfile {
    #[serde(default)]
    pub recruitment: Vec<RecruitmentMethod>,
    #[serde(default)]
    pub means_of_control: Vec<MeansOfControl>,
    #[serde(default)]
    pub recruiter_relationship: Option<RecruiterRelationship>,
    /// ISIC Rev.4 section of the industry of forced labour.
    #[serde(default)]
    pub industry: Option<IsicSection>,
    #[serde(default)]
    pub place_of_recruitment: Option<PlaceOfRecruitment>,
    #[serde(default)]
    pub migration_status: Option<MigrationStatus>,
    #[serde(default)]
    pub primary_language: Option<LanguageCode>,
}

impl VictimProfile {
    /// Lists kept sorted and without repeats, so equal profiles are equal values.
    pub fn normalized(mut self) -> VictimProfile {
        self.recruitment.sort();
        self.recruitment.dedup();
        self.means_of_control.sort();
        self.means_of_control.dedup();
        self
    }

    pub fn is_empty(&self) -> bool {
        *self == VictimProfile::default()
    }
}

/// Consent given on behalf of a client under 18: who gave it and when. No name is stored:
/// the kind of person or body is what the rule and the statistics need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardianConsent {
    pub given_by: GuardianKind,
    pub given_on: NaiveDate,
}

/// The scopes a client consented to at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConsentGrant {
    pub legal_aid: bool,
    pub report_to_police: bool,
    pub data_sharing: bool,
}

impl ConsentGrant {
    pub fn scopes(self) -> Vec<ConsentScope> {
        let mut s = Vec::new();
        if self.legal_aid {
            s.push(ConsentScope::LegalAid);
        }
        if self.report_to_police {
            s.push(ConsentScope::ReportToPolice);
        }
        if self.data_sharing {
            s.push(ConsentScope::DataSharing);
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIntake {
    pub case_id: Uuid,
    pub organization_id: Uuid,
    pub identified_on: NaiveDate,
    pub referral_source: ReferralSource,
    pub exploitation_types: Vec<ExploitationType>,
    pub country_of_exploitation: Option<CountryCode>,
    pub client: ClientProfile,
    /// Name, date of birth, contact, document numbers and narrative, sealed by the edge.
    pub identity: Sealed,
    pub consent: ConsentGrant,
    /// The HTCDS profile; empty when nothing of it was asked.
    #[serde(default)]
    pub profile: VictimProfile,
    /// A guardian's or representative's consent, for a client under 18.
    #[serde(default)]
    pub guardian_consent: Option<GuardianConsent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePoliceReport {
    pub report_id: Uuid,
    pub filed_on: NaiveDate,
    pub police_unit: Text,
    pub reference_number: Option<Text>,
    /// Who started the report; `None` when not recorded.
    #[serde(default)]
    pub initiated_by: Option<ReportInitiator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOffenseRegistration {
    pub report_id: Uuid,
    pub offense: OffenseRef,
    pub registered_on: NaiveDate,
    pub registry_number: Option<Text>,
    /// The authority that registered it (the police, as a rule); `None` when not recorded.
    #[serde(default)]
    pub decided_by: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRegistrationRefused {
    pub report_id: Uuid,
    pub decided_on: NaiveDate,
    pub reason: Text,
    #[serde(default)]
    pub decided_by: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReclassifyOffense {
    pub report_id: Uuid,
    pub offense: OffenseRef,
    pub decided_on: NaiveDate,
    pub decided_by: Authority,
    pub reason: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInvestigationOutcome {
    pub report_id: Uuid,
    pub outcome: InvestigationOutcome,
    pub decided_on: NaiveDate,
    pub note: Option<Text>,
    #[serde(default)]
    pub decided_by: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordVerdict {
    pub report_id: Uuid,
    pub outcome: VerdictOutcome,
    /// The offence the court decided on, when it differs from the report's current one.
    pub offense: Option<OffenseRef>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<u16>,
    pub compensation_awarded: Option<bool>,
    /// The instance that decided; a verdict after the first needs an appeal to it.
    #[serde(default)]
    pub instance: CourtInstance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLegalAction {
    pub kind: LegalActionKind,
    pub taken_on: NaiveDate,
    /// Free text about the client's situation is sealed like identity.
    pub note: Option<Sealed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferToService {
    pub service: ProtectionService,
    pub referred_on: NaiveDate,
    pub provider: Option<Text>,
}

/// An accused person on a police report. No name is recorded: only what the statistics
/// count, so a defendant cannot be identified from the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDefendant {
    pub report_id: Uuid,
    pub defendant_id: Uuid,
    pub gender: Gender,
    pub age_at_offense: Option<u8>,
    pub citizenship: Option<CountryCode>,
    pub role: DefendantRole,
    /// The article the defendant is charged under, if charged.
    pub charged_with: Option<OffenseRef>,
    /// The day of the charge (or of the record, when not charged); today when `None`.
    pub charged_on: Option<NaiveDate>,
    /// Who the defendant was to the client; `None` when not known.
    #[serde(default)]
    pub relationship: Option<DefendantRelationship>,
}

/// One defendant's own court outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDefendantVerdict {
    pub report_id: Uuid,
    pub defendant_id: Uuid,
    pub outcome: VerdictOutcome,
    /// The article the court decided on, when it differs from the charge.
    pub offense: Option<OffenseRef>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<u16>,
}

/// A step of the client's compensation claim on a report: claimed, awarded by the court,
/// paid (in parts, any number of times). Amounts are whole units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCompensation {
    pub report_id: Uuid,
    pub step: CompensationStep,
    pub amount: u64,
    pub currency: CurrencyCode,
    pub on: NaiveDate,
}

/// Commands whose fact has a date take it as `Option`: the day it happened, today when
/// `None` (a paper case entered years later keeps its own dates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseCommand {
    OpenIntake(OpenIntake),
    /// Records (or corrects: the whole profile is replaced) the HTCDS profile.
    RecordVictimProfile {
        profile: VictimProfile,
        recorded_on: Option<NaiveDate>,
    },
    /// A guardian's or representative's consent for a minor client, given after the intake.
    RecordGuardianConsent(GuardianConsent),
    /// Replaces the sealed identity (a correction at intake or later).
    UpdateIdentity {
        identity: Sealed,
    },
    GiveConsent {
        scopes: Vec<ConsentScope>,
        given_on: NaiveDate,
    },
    WithdrawConsent {
        scopes: Vec<ConsentScope>,
        withdrawn_on: NaiveDate,
    },
    ReferToService(ReferToService),
    AssignLawyer {
        lawyer_id: Uuid,
        assigned_on: Option<NaiveDate>,
    },
    AcceptAssignment {
        accepted_on: Option<NaiveDate>,
    },
    DeclineAssignment {
        reason: Text,
        declined_on: Option<NaiveDate>,
    },
    RecordLegalAction(RecordLegalAction),
    FilePoliceReport(FilePoliceReport),
    RecordOffenseRegistration(RecordOffenseRegistration),
    RecordRegistrationRefused(RecordRegistrationRefused),
    ReclassifyOffense(ReclassifyOffense),
    RecordInvestigationOutcome(RecordInvestigationOutcome),
    RecordVerdict(RecordVerdict),
    AddDefendant(AddDefendant),
    RecordDefendantVerdict(RecordDefendantVerdict),
    RecordCompensation(RecordCompensation),
    /// Hearings, complaints, appeals, transfer, referral outcomes, victim status.
    Proceedings(ProceedingsCommand),
    CloseCase {
        reason: Text,
        closed_on: Option<NaiveDate>,
    },
    ReopenCase {
        reason: Text,
        reopened_on: Option<NaiveDate>,
    },
    /// Crypto-shredding: the edge destroys the data key; this records that it happened.
    EraseClientData {
        reason: Text,
    },
}

/// A case command with the actor who issued it: the aggregate's `Command` type.
pub type Acting = crate::actor::Acting<CaseCommand>;
