//! What happened to a case. Events are immutable; a change of shape is a new
//! `event_version` with an upcaster, never a rewrite of stored rows.

use crate::case::command::{ClientProfile, ConsentGrant, GuardianConsent, VictimProfile};
use crate::offense::OffenseRef;
use crate::sealed::Sealed;
use crate::values::*;
use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseEvent {
    IntakeOpened {
        case_id: Uuid,
        organization_id: Uuid,
        identified_on: NaiveDate,
        referral_source: ReferralSource,
        exploitation_types: Vec<ExploitationType>,
        country_of_exploitation: Option<CountryCode>,
        client: ClientProfile,
        identity: Sealed,
        /// Version 2.0: always present (empty when nothing was asked). A stored 1.0 payload
        /// has neither this nor `guardian_consent`, and reads only through
        /// [`crate::case::upcast`]; see ADR 0016.
        profile: VictimProfile,
        guardian_consent: Option<GuardianConsent>,
    },
    /// The HTCDS profile recorded or corrected after the intake (replaces the whole profile).
    VictimProfileRecorded {
        profile: VictimProfile,
        recorded_on: NaiveDate,
    },
    /// A guardian's or representative's consent for a minor, recorded after the intake.
    GuardianConsentRecorded {
        consent: GuardianConsent,
    },
    IdentityUpdated {
        identity: Sealed,
    },
    ConsentGiven {
        scopes: Vec<ConsentScope>,
        given_on: NaiveDate,
    },
    ConsentWithdrawn {
        scopes: Vec<ConsentScope>,
        withdrawn_on: NaiveDate,
    },
    ReferredToService {
        service: ProtectionService,
        referred_on: NaiveDate,
        provider: Option<Text>,
    },
    LawyerAssigned {
        lawyer_id: Uuid,
        assigned_on: NaiveDate,
        replaces: Option<Uuid>,
    },
    AssignmentAccepted {
        lawyer_id: Uuid,
        accepted_on: NaiveDate,
    },
    AssignmentDeclined {
        lawyer_id: Uuid,
        declined_on: NaiveDate,
        reason: Text,
    },
    LegalActionRecorded {
        kind: LegalActionKind,
        taken_on: NaiveDate,
        note: Option<Sealed>,
    },
    PoliceReportFiled {
        report_id: Uuid,
        filed_on: NaiveDate,
        police_unit: Text,
        reference_number: Option<Text>,
        lawyer_id: Uuid,
        /// Absent from reports recorded before it was asked: not recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initiated_by: Option<ReportInitiator>,
    },
    OffenseRegistered {
        report_id: Uuid,
        offense: OffenseRef,
        registered_on: NaiveDate,
        registry_number: Option<Text>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decided_by: Option<Authority>,
    },
    RegistrationRefused {
        report_id: Uuid,
        decided_on: NaiveDate,
        reason: Text,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decided_by: Option<Authority>,
    },
    OffenseReclassified {
        report_id: Uuid,
        from: OffenseRef,
        to: OffenseRef,
        decided_on: NaiveDate,
        decided_by: Authority,
        reason: Text,
    },
    InvestigationOutcomeRecorded {
        report_id: Uuid,
        outcome: InvestigationOutcome,
        decided_on: NaiveDate,
        note: Option<Text>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decided_by: Option<Authority>,
    },
    VerdictRecorded {
        report_id: Uuid,
        outcome: VerdictOutcome,
        offense: Option<OffenseRef>,
        decided_on: NaiveDate,
        sentence_months: Option<u16>,
        compensation_awarded: Option<bool>,
        /// Absent (first instance) in verdicts recorded before appeals were.
        #[serde(default, skip_serializing_if = "CourtInstance::is_first")]
        instance: CourtInstance,
    },
    /// An accused person on a report (no name: see `AddDefendant`).
    DefendantAdded {
        report_id: Uuid,
        defendant_id: Uuid,
        gender: Gender,
        age_at_offense: Option<u8>,
        citizenship: Option<CountryCode>,
        role: DefendantRole,
        charged_with: Option<OffenseRef>,
        added_on: NaiveDate,
        /// Who the defendant was to the client. Absent from defendants recorded before it
        /// was asked, and whenever not known (ADR 0011).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        relationship: Option<DefendantRelationship>,
    },
    DefendantVerdictRecorded {
        report_id: Uuid,
        defendant_id: Uuid,
        outcome: VerdictOutcome,
        offense: Option<OffenseRef>,
        decided_on: NaiveDate,
        sentence_months: Option<u16>,
    },
    CompensationClaimed {
        report_id: Uuid,
        amount: u64,
        currency: CurrencyCode,
        claimed_on: NaiveDate,
    },
    CompensationAwarded {
        report_id: Uuid,
        amount: u64,
        currency: CurrencyCode,
        awarded_on: NaiveDate,
    },
    CompensationPaid {
        report_id: Uuid,
        amount: u64,
        currency: CurrencyCode,
        paid_on: NaiveDate,
    },
    HearingScheduled {
        report_id: Uuid,
        hearing_id: Uuid,
        on: NaiveDate,
        court: Text,
        instance: CourtInstance,
    },
    HearingHeld {
        report_id: Uuid,
        hearing_id: Uuid,
        held_on: NaiveDate,
    },
    HearingPostponed {
        report_id: Uuid,
        hearing_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
        postponed_on: NaiveDate,
        reason: Option<Text>,
    },
    ComplaintFiled {
        report_id: Uuid,
        complaint_id: Uuid,
        against: ComplaintSubject,
        filed_with: ComplaintAddressee,
        filed_on: NaiveDate,
    },
    ComplaintDecided {
        report_id: Uuid,
        complaint_id: Uuid,
        outcome: ComplaintOutcome,
        decided_on: NaiveDate,
    },
    AppealFiled {
        report_id: Uuid,
        appeal_id: Uuid,
        instance: CourtInstance,
        filed_on: NaiveDate,
    },
    CaseTransferred {
        from_organization_id: Uuid,
        to_organization_id: Uuid,
        reason: Text,
        transferred_on: NaiveDate,
    },
    ReferralOutcomeRecorded {
        referral: u16,
        outcome: ReferralOutcome,
        on: NaiveDate,
    },
    VictimStatusDecided {
        granted: bool,
        decided_by: Text,
        decided_on: NaiveDate,
    },
    CaseClosed {
        reason: Text,
        closed_on: NaiveDate,
    },
    CaseReopened {
        reason: Text,
        reopened_on: NaiveDate,
    },
    ClientDataErased {
        reason: Text,
        erased_on: NaiveDate,
    },
}

impl CaseEvent {
    /// The consent an intake recorded, as the `ConsentGiven` event that follows it.
    pub fn consent_given(grant: ConsentGrant, on: NaiveDate) -> Option<CaseEvent> {
        let scopes = grant.scopes();
        (!scopes.is_empty()).then_some(CaseEvent::ConsentGiven { scopes, given_on: on })
    }

    /// The event type names, for documentation, the timeline and the access matrix.
    pub const TYPES: &'static [&'static str] = &[
        "IntakeOpened",
        "VictimProfileRecorded",
        "GuardianConsentRecorded",
        "IdentityUpdated",
        "ConsentGiven",
        "ConsentWithdrawn",
        "ReferredToService",
        "LawyerAssigned",
        "AssignmentAccepted",
        "AssignmentDeclined",
        "LegalActionRecorded",
        "PoliceReportFiled",
        "OffenseRegistered",
        "RegistrationRefused",
        "OffenseReclassified",
        "InvestigationOutcomeRecorded",
        "VerdictRecorded",
        "DefendantAdded",
        "DefendantVerdictRecorded",
        "CompensationClaimed",
        "CompensationAwarded",
        "CompensationPaid",
        "HearingScheduled",
        "HearingHeld",
        "HearingPostponed",
        "ComplaintFiled",
        "ComplaintDecided",
        "AppealFiled",
        "CaseTransferred",
        "ReferralOutcomeRecorded",
        "VictimStatusDecided",
        "CaseClosed",
        "CaseReopened",
        "ClientDataErased",
    ];
}

impl DomainEvent for CaseEvent {
    fn event_type(&self) -> String {
        let t = match self {
            CaseEvent::IntakeOpened { .. } => "IntakeOpened",
            CaseEvent::VictimProfileRecorded { .. } => "VictimProfileRecorded",
            CaseEvent::GuardianConsentRecorded { .. } => "GuardianConsentRecorded",
            CaseEvent::IdentityUpdated { .. } => "IdentityUpdated",
            CaseEvent::ConsentGiven { .. } => "ConsentGiven",
            CaseEvent::ConsentWithdrawn { .. } => "ConsentWithdrawn",
            CaseEvent::ReferredToService { .. } => "ReferredToService",
            CaseEvent::LawyerAssigned { .. } => "LawyerAssigned",
            CaseEvent::AssignmentAccepted { .. } => "AssignmentAccepted",
            CaseEvent::AssignmentDeclined { .. } => "AssignmentDeclined",
            CaseEvent::LegalActionRecorded { .. } => "LegalActionRecorded",
            CaseEvent::PoliceReportFiled { .. } => "PoliceReportFiled",
            CaseEvent::OffenseRegistered { .. } => "OffenseRegistered",
            CaseEvent::RegistrationRefused { .. } => "RegistrationRefused",
            CaseEvent::OffenseReclassified { .. } => "OffenseReclassified",
            CaseEvent::InvestigationOutcomeRecorded { .. } => "InvestigationOutcomeRecorded",
            CaseEvent::VerdictRecorded { .. } => "VerdictRecorded",
            CaseEvent::DefendantAdded { .. } => "DefendantAdded",
            CaseEvent::DefendantVerdictRecorded { .. } => "DefendantVerdictRecorded",
            CaseEvent::CompensationClaimed { .. } => "CompensationClaimed",
            CaseEvent::CompensationAwarded { .. } => "CompensationAwarded",
            CaseEvent::CompensationPaid { .. } => "CompensationPaid",
            CaseEvent::HearingScheduled { .. } => "HearingScheduled",
            CaseEvent::HearingHeld { .. } => "HearingHeld",
            CaseEvent::HearingPostponed { .. } => "HearingPostponed",
            CaseEvent::ComplaintFiled { .. } => "ComplaintFiled",
            CaseEvent::ComplaintDecided { .. } => "ComplaintDecided",
            CaseEvent::AppealFiled { .. } => "AppealFiled",
            CaseEvent::CaseTransferred { .. } => "CaseTransferred",
            CaseEvent::ReferralOutcomeRecorded { .. } => "ReferralOutcomeRecorded",
            CaseEvent::VictimStatusDecided { .. } => "VictimStatusDecided",
            CaseEvent::CaseClosed { .. } => "CaseClosed",
            CaseEvent::CaseReopened { .. } => "CaseReopened",
            CaseEvent::ClientDataErased { .. } => "ClientDataErased",
        };
        t.to_string()
    }

    fn event_version(&self) -> String {
        match self {
            CaseEvent::IntakeOpened { .. } => crate::case::upcast::INTAKE_OPENED_VERSION,
            _ => crate::EVENT_VERSION_1,
        }
        .to_string()
    }
}
