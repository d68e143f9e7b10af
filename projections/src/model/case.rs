//! The case document: everything the case-detail and case-list queries show, except
//! identity in clear (only the sealed envelope, which the edge may open for an authorised
//! reader, and which is dropped when the client's data is erased).

use chrono::NaiveDate;
use domain::case::{CaseEvent, GuardianConsent, VictimProfile};
use domain::offense::OffenseRef;
use domain::values::*;
use domain::Sealed;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientView {
    pub gender: Gender,
    pub age_at_identification: Option<u8>,
    pub age_group: AgeGroup,
    pub citizenship: Option<CountryCode>,
    pub region: Option<Region>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsentView {
    pub legal_aid: bool,
    pub report_to_police: bool,
    pub data_sharing: bool,
}

impl ConsentView {
    fn set(&mut self, scope: ConsentScope, on: bool) {
        match scope {
            ConsentScope::LegalAid => self.legal_aid = on,
            ConsentScope::ReportToPolice => self.report_to_police = on,
            ConsentScope::DataSharing => self.data_sharing = on,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentView {
    pub lawyer_id: Uuid,
    pub assigned_on: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferralView {
    pub service: ProtectionService,
    pub referred_on: NaiveDate,
    pub provider: Option<String>,
    /// What came of it, and when.
    #[serde(default)]
    pub outcome: Option<(ReferralOutcome, NaiveDate)>,
}

/// A move of the case to another organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferView {
    pub from: Uuid,
    pub to: Uuid,
    pub on: NaiveDate,
}

/// The formal decision on the client's status as a victim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VictimStatusView {
    pub granted: bool,
    pub decided_by: String,
    pub decided_on: NaiveDate,
}

/// A court hearing; `on` is its current day (after any postponement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HearingView {
    pub id: Uuid,
    pub on: NaiveDate,
    pub court: String,
    pub instance: CourtInstance,
    pub held: bool,
    /// Each postponement: from, to, decided on.
    pub postponements: Vec<(NaiveDate, NaiveDate, NaiveDate)>,
}

/// A complaint against an investigator's or prosecutor's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplaintView {
    pub id: Uuid,
    pub against: ComplaintSubject,
    pub filed_with: ComplaintAddressee,
    pub filed_on: NaiveDate,
    pub decision: Option<(ComplaintOutcome, NaiveDate)>,
}

/// An appeal of a verdict to a higher instance; decided once that instance's verdict is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppealView {
    pub id: Uuid,
    pub instance: CourtInstance,
    pub filed_on: NaiveDate,
    pub decided: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LegalActionView {
    pub kind: LegalActionKind,
    pub taken_on: NaiveDate,
    pub has_note: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistrationView {
    pub offense: OffenseRef,
    pub registered_on: NaiveDate,
    pub registry_number: Option<String>,
    #[serde(default)]
    pub decided_by: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReclassificationView {
    pub from: OffenseRef,
    pub to: OffenseRef,
    pub decided_on: NaiveDate,
    pub decided_by: Authority,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeView {
    pub outcome: InvestigationOutcome,
    pub decided_on: NaiveDate,
    pub note: Option<String>,
    #[serde(default)]
    pub decided_by: Option<Authority>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictView {
    pub outcome: VerdictOutcome,
    pub offense: Option<OffenseRef>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<u16>,
    pub compensation_awarded: Option<bool>,
    #[serde(default)]
    pub instance: CourtInstance,
}

/// The client's compensation claim on a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompensationView {
    pub currency: CurrencyCode,
    pub claimed: u64,
    pub claimed_on: NaiveDate,
    pub awarded: Option<(u64, NaiveDate)>,
    /// Each payment: amount and day.
    pub payments: Vec<(u64, NaiveDate)>,
}

impl CompensationView {
    pub fn paid(&self) -> u64 {
        self.payments.iter().map(|p| p.0).sum()
    }
}

/// A defendant's own court outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefendantVerdictView {
    pub outcome: VerdictOutcome,
    pub offense: Option<OffenseRef>,
    pub decided_on: NaiveDate,
    pub sentence_months: Option<u16>,
}

/// An accused person on a report; no name is recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefendantView {
    pub id: Uuid,
    pub gender: Gender,
    pub age_at_offense: Option<u8>,
    pub citizenship: Option<CountryCode>,
    pub role: DefendantRole,
    pub charged_with: Option<OffenseRef>,
    /// The day of the charge (of the record when not charged).
    pub charged_on: NaiveDate,
    pub verdict: Option<DefendantVerdictView>,
    /// Who the defendant was to the client; `None` when not known.
    #[serde(default)]
    pub relationship: Option<DefendantRelationship>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportView {
    pub id: Uuid,
    pub filed_on: NaiveDate,
    pub police_unit: String,
    pub reference_number: Option<String>,
    pub lawyer_id: Uuid,
    pub registration: Option<RegistrationView>,
    pub current: Option<OffenseRef>,
    /// When and why the police refused to register it.
    pub refused: Option<(NaiveDate, String)>,
    #[serde(default)]
    pub refused_by: Option<Authority>,
    /// Who started the report; `None` when not recorded.
    #[serde(default)]
    pub initiated_by: Option<ReportInitiator>,
    pub reclassifications: Vec<ReclassificationView>,
    pub outcomes: Vec<OutcomeView>,
    /// The verdict in force: the last one recorded (the one the statistics count).
    pub verdict: Option<VerdictView>,
    /// Every verdict through the instances, oldest first (the last is `verdict`).
    #[serde(default)]
    pub verdicts: Vec<VerdictView>,
    #[serde(default)]
    pub appeals: Vec<AppealView>,
    #[serde(default)]
    pub hearings: Vec<HearingView>,
    #[serde(default)]
    pub complaints: Vec<ComplaintView>,
    #[serde(default)]
    pub defendants: Vec<DefendantView>,
    #[serde(default)]
    pub compensation: Option<CompensationView>,
}

impl ReportView {
    pub fn investigation_outcome(&self) -> Option<InvestigationOutcome> {
        self.outcomes.last().map(|o| o.outcome)
    }

    /// The hearings in date order.
    pub fn hearings_by_date(&self) -> Vec<&HearingView> {
        let mut h: Vec<_> = self.hearings.iter().collect();
        h.sort_by_key(|h| (h.on, h.id));
        h
    }

    /// The first hearing not yet held, on or after `today`.
    pub fn next_hearing(&self, today: NaiveDate) -> Option<&HearingView> {
        self.hearings_by_date().into_iter().find(|h| !h.held && h.on >= today)
    }

    /// An appeal not yet decided.
    pub fn pending_appeal(&self) -> Option<&AppealView> {
        self.appeals.iter().find(|a| !a.decided)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub id: Uuid,
    /// Order of opening in the log: the case list's stable sort key and cursor.
    pub opened_seq: i64,
    pub organization_id: Uuid,
    pub identified_on: NaiveDate,
    pub referral_source: ReferralSource,
    pub exploitation_types: Vec<ExploitationType>,
    pub country_of_exploitation: Option<CountryCode>,
    pub client: ClientView,
    pub identity: Option<Sealed>,
    pub erased: bool,
    pub consent: ConsentView,
    pub referrals: Vec<ReferralView>,
    pub assignment: Option<AssignmentView>,
    pub legal_actions: Vec<LegalActionView>,
    pub reports: Vec<ReportView>,
    /// When and why the case was closed.
    pub closed: Option<(NaiveDate, String)>,
    /// The stream sequence of the last event applied.
    pub version: i64,
    /// When a lawyer was first assigned (the funnel counts a case once).
    #[serde(default)]
    pub first_assigned_on: Option<NaiveDate>,
    /// Professional or student, of the lawyer assigned last (set by the projector, which
    /// knows the lawyers).
    #[serde(default)]
    pub lawyer_status: Option<LawyerStatus>,
    /// The lawyer assigned last, kept after a decline so statistics can still name them.
    #[serde(default)]
    pub last_lawyer_id: Option<Uuid>,
    #[serde(default)]
    pub transfers: Vec<TransferView>,
    #[serde(default)]
    pub victim_status: Option<VictimStatusView>,
    /// The HTCDS profile (empty when not asked) and when it was last recorded.
    #[serde(default)]
    pub profile: VictimProfile,
    #[serde(default)]
    pub profile_recorded_on: Option<NaiveDate>,
    /// Consent on a minor's behalf: who gave it and when.
    #[serde(default)]
    pub guardian_consent: Option<GuardianConsent>,
}

impl CaseView {
    /// The case as its first event creates it; `None` for any other event.
    pub fn open(event: &CaseEvent, opened_seq: i64) -> Option<CaseView> {
        let CaseEvent::IntakeOpened {
            case_id,
            organization_id,
            identified_on,
            referral_source,
            exploitation_types,
            country_of_exploitation,
            client,
            identity,
            profile,
            guardian_consent,
        } = event
        else {
            return None;
        };
        Some(CaseView {
            id: *case_id,
            opened_seq,
            organization_id: *organization_id,
            identified_on: *identified_on,
            referral_source: *referral_source,
            exploitation_types: exploitation_types.clone(),
            country_of_exploitation: country_of_exploitation.clone(),
            client: ClientView {
                gender: client.gender,
                age_at_identification: client.age_at_identification,
                age_group: AgeGroup::from_age(client.age_at_identification),
                citizenship: client.citizenship.clone(),
                region: client.region,
            },
            identity: Some(identity.clone()),
            erased: false,
            consent: ConsentView::default(),
            referrals: vec![],
            assignment: None,
            legal_actions: vec![],
            reports: vec![],
            closed: None,
            version: 1,
            first_assigned_on: None,
            lawyer_status: None,
            last_lawyer_id: None,
            transfers: vec![],
            victim_status: None,
            profile_recorded_on: (!profile.is_empty()).then_some(*identified_on),
            profile: profile.clone(),
            guardian_consent: *guardian_consent,
        })
    }

    fn report_mut(&mut self, id: &Uuid) -> Option<&mut ReportView> {
        self.reports.iter_mut().find(|r| r.id == *id)
    }

    /// Folds one event into the document.
    pub fn apply(&mut self, event: &CaseEvent, sequence: i64) {
        use CaseEvent as E;
        self.version = sequence;
        match event {
            E::IntakeOpened { .. } => {}
            E::VictimProfileRecorded { profile, recorded_on } => {
                self.profile = profile.clone();
                self.profile_recorded_on = Some(*recorded_on);
            }
            E::GuardianConsentRecorded { consent } => self.guardian_consent = Some(*consent),
            E::IdentityUpdated { identity } => {
                if !self.erased {
                    self.identity = Some(identity.clone());
                }
            }
            E::ConsentGiven { scopes, .. } => scopes.iter().for_each(|s| self.consent.set(*s, true)),
            E::ConsentWithdrawn { scopes, .. } => scopes.iter().for_each(|s| self.consent.set(*s, false)),
            E::ReferredToService { service, referred_on, provider } => self.referrals.push(ReferralView {
                service: *service,
                referred_on: *referred_on,
                provider: provider.as_ref().map(|p| p.to_string()),
                outcome: None,
            }),
            E::LawyerAssigned { lawyer_id, assigned_on, .. } => {
                self.first_assigned_on.get_or_insert(*assigned_on);
                self.last_lawyer_id = Some(*lawyer_id);
                self.assignment =
                    Some(AssignmentView { lawyer_id: *lawyer_id, assigned_on: *assigned_on, accepted_on: None })
            }
            E::AssignmentAccepted { accepted_on, .. } => {
                if let Some(a) = self.assignment.as_mut() {
                    a.accepted_on = Some(*accepted_on);
                }
            }
            E::AssignmentDeclined { .. } => self.assignment = None,
            E::LegalActionRecorded { kind, taken_on, note } => {
                self.legal_actions.push(LegalActionView { kind: *kind, taken_on: *taken_on, has_note: note.is_some() })
            }
            E::PoliceReportFiled { report_id, filed_on, police_unit, reference_number, lawyer_id, initiated_by } => {
                self.reports.push(ReportView {
                    id: *report_id,
                    filed_on: *filed_on,
                    police_unit: police_unit.to_string(),
                    reference_number: reference_number.as_ref().map(|r| r.to_string()),
                    lawyer_id: *lawyer_id,
                    registration: None,
                    current: None,
                    refused: None,
                    reclassifications: vec![],
                    outcomes: vec![],
                    verdict: None,
                    defendants: vec![],
                    compensation: None,
                    refused_by: None,
                    initiated_by: *initiated_by,
                    verdicts: vec![],
                    appeals: vec![],
                    hearings: vec![],
                    complaints: vec![],
                })
            }
            E::OffenseRegistered { report_id, offense, registered_on, registry_number, decided_by } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.registration = Some(RegistrationView {
                        offense: offense.clone(),
                        registered_on: *registered_on,
                        registry_number: registry_number.as_ref().map(|n| n.to_string()),
                        decided_by: *decided_by,
                    });
                    r.current = Some(offense.clone());
                }
            }
            E::RegistrationRefused { report_id, decided_on, reason, decided_by } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.refused = Some((*decided_on, reason.to_string()));
                    r.refused_by = *decided_by;
                }
            }
            E::OffenseReclassified { report_id, from, to, decided_on, decided_by, reason } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.current = Some(to.clone());
                    r.reclassifications.push(ReclassificationView {
                        from: from.clone(),
                        to: to.clone(),
                        decided_on: *decided_on,
                        decided_by: *decided_by,
                        reason: reason.to_string(),
                    });
                }
            }
            E::InvestigationOutcomeRecorded { report_id, outcome, decided_on, note, decided_by } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.outcomes.push(OutcomeView {
                        outcome: *outcome,
                        decided_on: *decided_on,
                        note: note.as_ref().map(|n| n.to_string()),
                        decided_by: *decided_by,
                    });
                }
            }
            E::VerdictRecorded {
                report_id,
                outcome,
                offense,
                decided_on,
                sentence_months,
                compensation_awarded,
                instance,
            } => {
                if let Some(r) = self.report_mut(report_id) {
                    let v = VerdictView {
                        outcome: *outcome,
                        offense: offense.clone(),
                        decided_on: *decided_on,
                        sentence_months: *sentence_months,
                        compensation_awarded: *compensation_awarded,
                        instance: *instance,
                    };
                    // The higher instance decided the appeal; its verdict is now in force.
                    if let Some(a) = r.appeals.iter_mut().find(|a| !a.decided) {
                        a.decided = true;
                    }
                    r.verdicts.push(v.clone());
                    r.verdict = Some(v);
                }
            }
            E::DefendantAdded {
                report_id,
                defendant_id,
                gender,
                age_at_offense,
                citizenship,
                role,
                charged_with,
                added_on,
                relationship,
            } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.defendants.push(DefendantView {
                        id: *defendant_id,
                        gender: *gender,
                        age_at_offense: *age_at_offense,
                        citizenship: citizenship.clone(),
                        role: *role,
                        charged_with: charged_with.clone(),
                        charged_on: *added_on,
                        verdict: None,
                        relationship: *relationship,
                    });
                }
            }
            E::DefendantVerdictRecorded { report_id, defendant_id, outcome, offense, decided_on, sentence_months } => {
                let report = self.report_mut(report_id);
                if let Some(d) = report.and_then(|r| r.defendants.iter_mut().find(|d| d.id == *defendant_id)) {
                    d.verdict = Some(DefendantVerdictView {
                        outcome: *outcome,
                        offense: offense.clone(),
                        decided_on: *decided_on,
                        sentence_months: *sentence_months,
                    });
                }
            }
            E::CompensationClaimed { report_id, amount, currency, claimed_on } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.compensation = Some(CompensationView {
                        currency: currency.clone(),
                        claimed: *amount,
                        claimed_on: *claimed_on,
                        awarded: None,
                        payments: vec![],
                    });
                }
            }
            E::CompensationAwarded { report_id, amount, awarded_on, .. } => {
                if let Some(c) = self.report_mut(report_id).and_then(|r| r.compensation.as_mut()) {
                    c.awarded = Some((*amount, *awarded_on));
                }
            }
            E::CompensationPaid { report_id, amount, paid_on, .. } => {
                if let Some(c) = self.report_mut(report_id).and_then(|r| r.compensation.as_mut()) {
                    c.payments.push((*amount, *paid_on));
                }
            }
            E::HearingScheduled { .. }
            | E::HearingHeld { .. }
            | E::HearingPostponed { .. }
            | E::ComplaintFiled { .. }
            | E::ComplaintDecided { .. }
            | E::AppealFiled { .. }
            | E::CaseTransferred { .. }
            | E::ReferralOutcomeRecorded { .. }
            | E::VictimStatusDecided { .. } => self.apply_proceedings(event),
            E::CaseClosed { reason, closed_on } => self.closed = Some((*closed_on, reason.to_string())),
            E::CaseReopened { .. } => self.closed = None,
            E::ClientDataErased { .. } => {
                self.erased = true;
                self.identity = None;
            }
        }
    }

    /// Folds a proceedings event (its own function: `apply` stays small on the stack).
    #[inline(never)]
    fn apply_proceedings(&mut self, event: &CaseEvent) {
        use CaseEvent as E;
        match event {
            E::HearingScheduled { report_id, hearing_id, on, court, instance } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.hearings.push(HearingView {
                        id: *hearing_id,
                        on: *on,
                        court: court.to_string(),
                        instance: *instance,
                        held: false,
                        postponements: vec![],
                    });
                }
            }
            E::HearingHeld { report_id, hearing_id, .. } => {
                let r = self.report_mut(report_id);
                if let Some(h) = r.and_then(|r| r.hearings.iter_mut().find(|h| h.id == *hearing_id)) {
                    h.held = true;
                }
            }
            E::HearingPostponed { report_id, hearing_id, from, to, postponed_on, .. } => {
                let r = self.report_mut(report_id);
                if let Some(h) = r.and_then(|r| r.hearings.iter_mut().find(|h| h.id == *hearing_id)) {
                    h.on = *to;
                    h.postponements.push((*from, *to, *postponed_on));
                }
            }
            E::ComplaintFiled { report_id, complaint_id, against, filed_with, filed_on } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.complaints.push(ComplaintView {
                        id: *complaint_id,
                        against: *against,
                        filed_with: *filed_with,
                        filed_on: *filed_on,
                        decision: None,
                    });
                }
            }
            E::ComplaintDecided { report_id, complaint_id, outcome, decided_on } => {
                let r = self.report_mut(report_id);
                if let Some(c) = r.and_then(|r| r.complaints.iter_mut().find(|c| c.id == *complaint_id)) {
                    c.decision = Some((*outcome, *decided_on));
                }
            }
            E::AppealFiled { report_id, appeal_id, instance, filed_on } => {
                if let Some(r) = self.report_mut(report_id) {
                    r.appeals.push(AppealView {
                        id: *appeal_id,
                        instance: *instance,
                        filed_on: *filed_on,
                        decided: false,
                    });
                }
            }
            E::CaseTransferred { from_organization_id, to_organization_id, transferred_on, .. } => {
                self.organization_id = *to_organization_id;
                self.transfers.push(TransferView {
                    from: *from_organization_id,
                    to: *to_organization_id,
                    on: *transferred_on,
                });
            }
            E::ReferralOutcomeRecorded { referral, outcome, on } => {
                if let Some(r) = self.referrals.get_mut(usize::from(*referral)) {
                    r.outcome = Some((*outcome, *on));
                }
            }
            E::VictimStatusDecided { granted, decided_by, decided_on } => {
                self.victim_status = Some(VictimStatusView {
                    granted: *granted,
                    decided_by: decided_by.to_string(),
                    decided_on: *decided_on,
                })
            }
            _ => {}
        }
    }

    /// Where the case stands.
    pub fn status(&self) -> CaseStatus {
        if self.closed.is_some() {
            return CaseStatus::Closed;
        }
        match &self.assignment {
            None if self.consent.legal_aid => CaseStatus::AwaitingLawyer,
            None => CaseStatus::Intake,
            Some(a) if a.accepted_on.is_none() => CaseStatus::LawyerAssigned,
            Some(_) if self.reports.is_empty() => CaseStatus::Represented,
            Some(_) => {
                let in_court = self.reports.iter().any(|r| {
                    r.verdict.is_none() && r.investigation_outcome() == Some(InvestigationOutcome::SentToCourt)
                });
                let decided = self.reports.iter().any(|r| r.verdict.is_some());
                if in_court {
                    CaseStatus::InCourt
                } else if decided {
                    CaseStatus::Decided
                } else {
                    CaseStatus::Reported
                }
            }
        }
    }
}

/// Where a case stands, as one word for lists and filters (stored in `rm_case.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    Intake,
    AwaitingLawyer,
    LawyerAssigned,
    Represented,
    Reported,
    InCourt,
    Decided,
    Closed,
}

impl CaseStatus {
    /// Every status a case can have, for documentation and filter validation.
    pub const ALL: &'static [CaseStatus] = &[
        CaseStatus::Intake,
        CaseStatus::AwaitingLawyer,
        CaseStatus::LawyerAssigned,
        CaseStatus::Represented,
        CaseStatus::Reported,
        CaseStatus::InCourt,
        CaseStatus::Decided,
        CaseStatus::Closed,
    ];

    /// The stored and published label.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Intake => "INTAKE",
            CaseStatus::AwaitingLawyer => "AWAITING_LAWYER",
            CaseStatus::LawyerAssigned => "LAWYER_ASSIGNED",
            CaseStatus::Represented => "REPRESENTED",
            CaseStatus::Reported => "REPORTED",
            CaseStatus::InCourt => "IN_COURT",
            CaseStatus::Decided => "DECIDED",
            CaseStatus::Closed => "CLOSED",
        }
    }
}

impl std::str::FromStr for CaseStatus {
    type Err = UnknownLabel;
    fn from_str(s: &str) -> Result<Self, UnknownLabel> {
        CaseStatus::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownLabel { kind: "CaseStatus", value: s.chars().take(40).collect() })
    }
}

impl std::fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
