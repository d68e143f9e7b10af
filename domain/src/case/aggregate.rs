use super::command::*;
use super::error::CaseError;
use super::event::CaseEvent;
use super::proceedings::{ComplaintState, HearingState, VerdictState};
use crate::actor::Actor;
use crate::clock::Clock;
use crate::offense::OffenseRef;
use crate::values::*;
use chrono::NaiveDate;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use uuid::Uuid;

/// What the case aggregate needs from outside: today's date.
#[derive(Clone)]
pub struct CaseServices {
    pub clock: Arc<dyn Clock>,
}

impl CaseServices {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        CaseServices { clock }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CaseState {
    #[default]
    NotOpened,
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub lawyer_id: Uuid,
    pub accepted: bool,
    /// The day of the assignment (an answer cannot precede it).
    #[serde(default)]
    pub assigned_on: Option<NaiveDate>,
}

/// The aggregate's view of a report's compensation claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationState {
    pub currency: CurrencyCode,
    pub claimed_on: NaiveDate,
    pub awarded: Option<(u64, NaiveDate)>,
    pub paid: u64,
    pub last_paid_on: Option<NaiveDate>,
}

/// The aggregate's view of one defendant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefendantState {
    pub defendant_id: Uuid,
    pub verdict: bool,
}

/// The aggregate's view of one police report: just enough to enforce the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportState {
    pub report_id: Uuid,
    pub filed_on: NaiveDate,
    pub current: Option<OffenseRef>,
    pub sent_to_court: bool,
    pub verdict: bool,
    #[serde(default)]
    pub defendants: Vec<DefendantState>,
    #[serde(default)]
    pub compensation: Option<CompensationState>,
    /// The verdict in force (the last one recorded) and a pending appeal of it.
    #[serde(default)]
    pub verdict_in_force: Option<VerdictState>,
    #[serde(default)]
    pub hearings: Vec<HearingState>,
    #[serde(default)]
    pub complaints: Vec<ComplaintState>,
    /// The days of the decisions a complaint can be against.
    #[serde(default)]
    pub refused_on: Option<NaiveDate>,
    #[serde(default)]
    pub terminated_on: Option<NaiveDate>,
    #[serde(default)]
    pub qualified_on: Option<NaiveDate>,
}

/// The case aggregate. It holds no identity in clear: only what the rules need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub state: CaseState,
    pub identified_on: Option<NaiveDate>,
    pub organization_id: Option<Uuid>,
    pub consent: BTreeSet<ConsentScope>,
    pub assignment: Option<Assignment>,
    pub reports: Vec<ReportState>,
    pub erased: bool,
    /// The day the case was last closed (a reopening cannot precede it).
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    /// The day of each referral, in order (an outcome cannot precede it).
    #[serde(default)]
    pub referrals: Vec<NaiveDate>,
    /// Under 18 at identification (an unknown age is not a minor for the rule).
    #[serde(default)]
    pub minor: bool,
    /// Consent on a minor's behalf, when recorded.
    #[serde(default)]
    pub guardian_consent: Option<GuardianConsent>,
}

impl Case {
    pub(super) fn report(&self, id: Uuid) -> Result<&ReportState, CaseError> {
        self.reports.iter().find(|r| r.report_id == id).ok_or(CaseError::UnknownReport(id))
    }

    fn must_be_open(&self) -> Result<(), CaseError> {
        match self.state {
            CaseState::NotOpened => Err(CaseError::NotOpened),
            CaseState::Closed => Err(CaseError::Closed),
            CaseState::Open => Ok(()),
        }
    }

    /// The accepted lawyer, when the actor is that lawyer.
    pub(super) fn acting_lawyer(&self, actor: &Actor) -> Result<Uuid, CaseError> {
        let a = self.assignment.as_ref().ok_or(CaseError::NoLawyerAssigned)?;
        if actor.role != Role::Lawyer || actor.lawyer_id != Some(a.lawyer_id) {
            return Err(CaseError::NotAssignedLawyer);
        }
        if !a.accepted {
            return Err(CaseError::AssignmentNotAccepted);
        }
        Ok(a.lawyer_id)
    }

    /// Lawyers may act only on their own cases; other roles are scoped by the edge.
    pub(super) fn lawyer_scope(&self, actor: &Actor) -> Result<(), CaseError> {
        if actor.role == Role::Lawyer {
            self.acting_lawyer(actor)?;
        }
        Ok(())
    }

    /// Legal-aid consent takes effect for a minor only with a guardian's consent (ADR 0016).
    fn check_guardian(&self, scopes: &[ConsentScope]) -> Result<(), CaseError> {
        if self.minor && self.guardian_consent.is_none() && scopes.contains(&ConsentScope::LegalAid) {
            return Err(CaseError::GuardianConsentRequired);
        }
        Ok(())
    }

    /// The era rule on an article applied on `date` (see `offense::check_era`).
    fn check_era(offense: &OffenseRef, date: NaiveDate) -> Result<(), CaseError> {
        crate::offense::check_era(&offense.code, date).map_err(|e| CaseError::ArticleNotYetInForce {
            code: e.code,
            edition: e.edition,
            applies_from: e.applies_from,
            date,
            in_force: e.in_force.unwrap_or_else(|| "no catalogued code".into()),
        })
    }

    /// The effective date of a fact given as `Option` (today when absent), checked.
    pub(super) fn effective(
        &self,
        today: NaiveDate,
        field: &'static str,
        date: Option<NaiveDate>,
        after: Option<(NaiveDate, &'static str)>,
    ) -> Result<NaiveDate, CaseError> {
        let date = date.unwrap_or(today);
        self.check_date(today, field, date, after)?;
        Ok(date)
    }

    /// A date of a fact: not in the future, not before the intake (nor `after`).
    fn check_date(
        &self,
        today: NaiveDate,
        field: &'static str,
        date: NaiveDate,
        after: Option<(NaiveDate, &'static str)>,
    ) -> Result<(), CaseError> {
        if date > today {
            return Err(CaseError::FutureDate { field, date });
        }
        if let Some(intake) = self.identified_on {
            if date < intake {
                return Err(CaseError::DateTooEarly { field, date, before: "the intake" });
            }
        }
        if let Some((earliest, what)) = after {
            if date < earliest {
                return Err(CaseError::DateTooEarly { field, date, before: what });
            }
        }
        Ok(())
    }
}

impl Aggregate for Case {
    const TYPE: &'static str = "Case";
    type Command = Acting;
    type Event = CaseEvent;
    type Error = CaseError;
    type Services = CaseServices;

    async fn handle(
        &mut self,
        acting: Acting,
        services: &CaseServices,
        sink: &EventSink<Self>,
    ) -> Result<(), CaseError> {
        let today = services.clock.today();
        let Acting { actor, command } = acting;
        let events = self.decide(&actor, command, today)?;
        for e in events {
            sink.write(e, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: CaseEvent) {
        if self.apply_proceedings(&event) {
            return;
        }
        match event {
            CaseEvent::IntakeOpened { organization_id, identified_on, client, guardian_consent, .. } => {
                self.state = CaseState::Open;
                self.organization_id = Some(organization_id);
                self.identified_on = Some(identified_on);
                self.minor = AgeGroup::from_age(client.age_at_identification) == AgeGroup::Minor;
                self.guardian_consent = guardian_consent;
            }
            CaseEvent::GuardianConsentRecorded { consent } => self.guardian_consent = Some(consent),
            CaseEvent::VictimProfileRecorded { .. } => {}
            CaseEvent::IdentityUpdated { .. } | CaseEvent::LegalActionRecorded { .. } => {}
            CaseEvent::ReferredToService { referred_on, .. } => self.referrals.push(referred_on),
            CaseEvent::RegistrationRefused { report_id, decided_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.refused_on = Some(decided_on);
                }
            }
            CaseEvent::ConsentGiven { scopes, .. } => self.consent.extend(scopes),
            CaseEvent::ConsentWithdrawn { scopes, .. } => {
                for s in scopes {
                    self.consent.remove(&s);
                }
            }
            CaseEvent::LawyerAssigned { lawyer_id, assigned_on, .. } => {
                self.assignment = Some(Assignment { lawyer_id, accepted: false, assigned_on: Some(assigned_on) });
            }
            CaseEvent::AssignmentAccepted { .. } => {
                if let Some(a) = self.assignment.as_mut() {
                    a.accepted = true;
                }
            }
            CaseEvent::AssignmentDeclined { .. } => self.assignment = None,
            CaseEvent::PoliceReportFiled { report_id, filed_on, .. } => self.reports.push(ReportState {
                report_id,
                filed_on,
                current: None,
                sent_to_court: false,
                verdict: false,
                defendants: vec![],
                compensation: None,
                verdict_in_force: None,
                hearings: vec![],
                complaints: vec![],
                refused_on: None,
                terminated_on: None,
                qualified_on: None,
            }),
            CaseEvent::OffenseRegistered { report_id, offense, registered_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.current = Some(offense);
                    r.qualified_on = Some(registered_on);
                }
            }
            CaseEvent::OffenseReclassified { report_id, to, decided_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.current = Some(to);
                    r.qualified_on = Some(decided_on);
                }
            }
            CaseEvent::InvestigationOutcomeRecorded { report_id, outcome, decided_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.sent_to_court = outcome == InvestigationOutcome::SentToCourt;
                    if outcome == InvestigationOutcome::Terminated {
                        r.terminated_on = Some(decided_on);
                    }
                }
            }
            CaseEvent::VerdictRecorded { report_id, instance, decided_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.verdict = true;
                    r.verdict_in_force = Some(VerdictState { instance, decided_on, appeal: None });
                }
            }
            CaseEvent::DefendantAdded { report_id, defendant_id, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.defendants.push(DefendantState { defendant_id, verdict: false });
                }
            }
            CaseEvent::DefendantVerdictRecorded { report_id, defendant_id, .. } => {
                let report = self.reports.iter_mut().find(|r| r.report_id == report_id);
                if let Some(d) = report.and_then(|r| r.defendants.iter_mut().find(|d| d.defendant_id == defendant_id)) {
                    d.verdict = true;
                }
            }
            CaseEvent::CompensationClaimed { report_id, currency, claimed_on, .. } => {
                if let Some(r) = self.reports.iter_mut().find(|r| r.report_id == report_id) {
                    r.compensation =
                        Some(CompensationState { currency, claimed_on, awarded: None, paid: 0, last_paid_on: None });
                }
            }
            CaseEvent::CompensationAwarded { report_id, amount, awarded_on, .. } => {
                let report = self.reports.iter_mut().find(|r| r.report_id == report_id);
                if let Some(c) = report.and_then(|r| r.compensation.as_mut()) {
                    c.awarded = Some((amount, awarded_on));
                }
            }
            CaseEvent::CompensationPaid { report_id, amount, paid_on, .. } => {
                let report = self.reports.iter_mut().find(|r| r.report_id == report_id);
                if let Some(c) = report.and_then(|r| r.compensation.as_mut()) {
                    c.paid += amount;
                    c.last_paid_on = Some(paid_on);
                }
            }
            CaseEvent::CaseClosed { closed_on, .. } => {
                self.state = CaseState::Closed;
                self.closed_on = Some(closed_on);
            }
            CaseEvent::CaseReopened { .. } => self.state = CaseState::Open,
            CaseEvent::ClientDataErased { .. } => self.erased = true,
            // Folded by `apply_proceedings` above.
            CaseEvent::HearingScheduled { .. }
            | CaseEvent::HearingHeld { .. }
            | CaseEvent::HearingPostponed { .. }
            | CaseEvent::ComplaintFiled { .. }
            | CaseEvent::ComplaintDecided { .. }
            | CaseEvent::AppealFiled { .. }
            | CaseEvent::CaseTransferred { .. }
            | CaseEvent::ReferralOutcomeRecorded { .. }
            | CaseEvent::VictimStatusDecided { .. } => {}
        }
    }
}

impl Case {
    /// The decision: the events a command produces, or the rule it breaks.
    pub fn decide(&self, actor: &Actor, command: CaseCommand, today: NaiveDate) -> Result<Vec<CaseEvent>, CaseError> {
        use CaseCommand as C;
        use CaseEvent as E;
        if let C::OpenIntake(cmd) = command {
            if self.state != CaseState::NotOpened {
                return Err(CaseError::AlreadyOpened);
            }
            return open_intake(cmd, today);
        }
        if !matches!(command, C::ReopenCase { .. } | C::EraseClientData { .. }) {
            self.must_be_open()?;
        }
        let events = match command {
            C::OpenIntake(_) => return Err(CaseError::AlreadyOpened),
            C::ReopenCase { reason, reopened_on } => {
                match self.state {
                    CaseState::NotOpened => return Err(CaseError::NotOpened),
                    CaseState::Open => return Err(CaseError::NotClosed),
                    CaseState::Closed => {}
                }
                self.lawyer_scope(actor)?;
                let closed = self.closed_on.map(|d| (d, "the case was closed"));
                let reopened_on = self.effective(today, "reopenedOn", reopened_on, closed)?;
                vec![E::CaseReopened { reason, reopened_on }]
            }
            // Erasure is possible whatever the state: a closed case's client may ask for it too.
            C::EraseClientData { reason } => {
                if self.state == CaseState::NotOpened {
                    return Err(CaseError::NotOpened);
                }
                if self.erased {
                    return Err(CaseError::AlreadyErased);
                }
                vec![E::ClientDataErased { reason, erased_on: today }]
            }
            C::RecordVictimProfile { profile, recorded_on } => {
                self.lawyer_scope(actor)?;
                let recorded_on = self.effective(today, "recordedOn", recorded_on, None)?;
                vec![E::VictimProfileRecorded { profile: profile.normalized(), recorded_on }]
            }
            C::RecordGuardianConsent(g) => {
                self.lawyer_scope(actor)?;
                if !self.minor {
                    return Err(CaseError::NotAMinor);
                }
                if self.guardian_consent == Some(g) {
                    return Err(CaseError::NothingToChange("this guardian's consent is already recorded"));
                }
                self.check_date(today, "guardianConsent.givenOn", g.given_on, None)?;
                vec![E::GuardianConsentRecorded { consent: g }]
            }
            C::UpdateIdentity { identity } => {
                if self.erased {
                    return Err(CaseError::Erased);
                }
                self.lawyer_scope(actor)?;
                if !identity.is_well_formed() {
                    return Err(InvalidInput::Malformed { field: "identity", expected: "a sealed envelope" }.into());
                }
                vec![E::IdentityUpdated { identity }]
            }
            C::GiveConsent { scopes, given_on } => {
                self.lawyer_scope(actor)?;
                self.check_date(today, "givenOn", given_on, None)?;
                let new: Vec<_> = dedup(scopes).into_iter().filter(|s| !self.consent.contains(s)).collect();
                if new.is_empty() {
                    return Err(CaseError::NothingToChange("every scope is already given"));
                }
                self.check_guardian(&new)?;
                vec![E::ConsentGiven { scopes: new, given_on }]
            }
            C::WithdrawConsent { scopes, withdrawn_on } => {
                self.lawyer_scope(actor)?;
                self.check_date(today, "withdrawnOn", withdrawn_on, None)?;
                let gone: Vec<_> = dedup(scopes).into_iter().filter(|s| self.consent.contains(s)).collect();
                if gone.is_empty() {
                    return Err(CaseError::NothingToChange("no such scope is given"));
                }
                vec![E::ConsentWithdrawn { scopes: gone, withdrawn_on }]
            }
            C::ReferToService(r) => {
                self.lawyer_scope(actor)?;
                self.check_date(today, "referredOn", r.referred_on, None)?;
                vec![E::ReferredToService { service: r.service, referred_on: r.referred_on, provider: r.provider }]
            }
            C::AssignLawyer { lawyer_id, assigned_on } => {
                if !self.consent.contains(&ConsentScope::LegalAid) {
                    return Err(CaseError::NoConsent("legal aid"));
                }
                // A minor's legal-aid consent recorded before the rule (a version-1 intake)
                // is not effective either.
                self.check_guardian(&[ConsentScope::LegalAid])?;
                let replaces = match &self.assignment {
                    Some(a) if a.lawyer_id == lawyer_id => return Err(CaseError::AlreadyAssigned),
                    Some(a) => Some(a.lawyer_id),
                    None => None,
                };
                let after = self.assignment.as_ref().and_then(|a| a.assigned_on).map(|d| (d, "the last assignment"));
                let assigned_on = self.effective(today, "assignedOn", assigned_on, after)?;
                vec![E::LawyerAssigned { lawyer_id, assigned_on, replaces }]
            }
            C::AcceptAssignment { accepted_on } => {
                let a = self.assignment.as_ref().ok_or(CaseError::NoLawyerAssigned)?;
                if actor.role != Role::Lawyer || actor.lawyer_id != Some(a.lawyer_id) {
                    return Err(CaseError::NotAssignedLawyer);
                }
                if a.accepted {
                    return Err(CaseError::AlreadyAccepted);
                }
                let after = a.assigned_on.map(|d| (d, "the assignment"));
                let accepted_on = self.effective(today, "acceptedOn", accepted_on, after)?;
                vec![E::AssignmentAccepted { lawyer_id: a.lawyer_id, accepted_on }]
            }
            C::DeclineAssignment { reason, declined_on } => {
                let a = self.assignment.as_ref().ok_or(CaseError::NoLawyerAssigned)?;
                if actor.role != Role::Lawyer || actor.lawyer_id != Some(a.lawyer_id) {
                    return Err(CaseError::NotAssignedLawyer);
                }
                if a.accepted {
                    return Err(CaseError::AlreadyAccepted);
                }
                let after = a.assigned_on.map(|d| (d, "the assignment"));
                let declined_on = self.effective(today, "declinedOn", declined_on, after)?;
                vec![E::AssignmentDeclined { lawyer_id: a.lawyer_id, declined_on, reason }]
            }
            C::RecordLegalAction(a) => {
                self.acting_lawyer(actor)?;
                if self.erased && a.note.is_some() {
                    return Err(CaseError::Erased);
                }
                self.check_date(today, "takenOn", a.taken_on, None)?;
                vec![E::LegalActionRecorded { kind: a.kind, taken_on: a.taken_on, note: a.note }]
            }
            C::FilePoliceReport(r) => {
                let lawyer_id = self.acting_lawyer(actor)?;
                if !self.consent.contains(&ConsentScope::ReportToPolice) {
                    return Err(CaseError::NoConsent("reporting to the police"));
                }
                if self.reports.iter().any(|x| x.report_id == r.report_id) {
                    return Err(CaseError::DuplicateReport(r.report_id));
                }
                self.check_date(today, "filedOn", r.filed_on, None)?;
                vec![E::PoliceReportFiled {
                    report_id: r.report_id,
                    filed_on: r.filed_on,
                    police_unit: r.police_unit,
                    reference_number: r.reference_number,
                    lawyer_id,
                    initiated_by: r.initiated_by,
                }]
            }
            C::RecordOffenseRegistration(r) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(r.report_id)?;
                if rep.current.is_some() {
                    return Err(CaseError::AlreadyRegistered);
                }
                self.check_date(today, "registeredOn", r.registered_on, Some((rep.filed_on, "the report was filed")))?;
                Self::check_era(&r.offense, r.registered_on)?;
                vec![E::OffenseRegistered {
                    report_id: r.report_id,
                    offense: r.offense,
                    registered_on: r.registered_on,
                    registry_number: r.registry_number,
                    decided_by: r.decided_by,
                }]
            }
            C::RecordRegistrationRefused(r) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(r.report_id)?;
                if rep.current.is_some() {
                    return Err(CaseError::AlreadyRegistered);
                }
                self.check_date(today, "decidedOn", r.decided_on, Some((rep.filed_on, "the report was filed")))?;
                vec![E::RegistrationRefused {
                    report_id: r.report_id,
                    decided_on: r.decided_on,
                    reason: r.reason,
                    decided_by: r.decided_by,
                }]
            }
            C::ReclassifyOffense(r) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(r.report_id)?;
                let from = rep.current.clone().ok_or(CaseError::NotRegistered)?;
                if from.code == r.offense.code {
                    return Err(CaseError::SameOffense);
                }
                self.check_date(today, "decidedOn", r.decided_on, Some((rep.filed_on, "the report was filed")))?;
                Self::check_era(&r.offense, r.decided_on)?;
                vec![E::OffenseReclassified {
                    report_id: r.report_id,
                    from,
                    to: r.offense,
                    decided_on: r.decided_on,
                    decided_by: r.decided_by,
                    reason: r.reason,
                }]
            }
            C::RecordInvestigationOutcome(r) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(r.report_id)?;
                if rep.current.is_none() {
                    return Err(CaseError::NotRegistered);
                }
                if rep.verdict {
                    return Err(CaseError::VerdictAlreadyRecorded);
                }
                self.check_date(today, "decidedOn", r.decided_on, Some((rep.filed_on, "the report was filed")))?;
                vec![E::InvestigationOutcomeRecorded {
                    report_id: r.report_id,
                    outcome: r.outcome,
                    decided_on: r.decided_on,
                    note: r.note,
                    decided_by: r.decided_by,
                }]
            }
            C::RecordVerdict(r) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(r.report_id)?;
                if !rep.sent_to_court {
                    return Err(CaseError::NotSentToCourt);
                }
                Self::check_verdict_instance(rep, r.instance, r.decided_on)?;
                self.check_date(today, "decidedOn", r.decided_on, Some((rep.filed_on, "the report was filed")))?;
                if let Some(o) = &r.offense {
                    Self::check_era(o, r.decided_on)?;
                }
                vec![E::VerdictRecorded {
                    report_id: r.report_id,
                    outcome: r.outcome,
                    offense: r.offense,
                    decided_on: r.decided_on,
                    sentence_months: r.sentence_months,
                    compensation_awarded: r.compensation_awarded,
                    instance: r.instance,
                }]
            }
            C::AddDefendant(d) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(d.report_id)?;
                if self.reports.iter().any(|r| r.defendants.iter().any(|x| x.defendant_id == d.defendant_id)) {
                    return Err(CaseError::DuplicateDefendant(d.defendant_id));
                }
                let added_on =
                    self.effective(today, "chargedOn", d.charged_on, Some((rep.filed_on, "the report was filed")))?;
                if let Some(o) = &d.charged_with {
                    Self::check_era(o, added_on)?;
                }
                vec![E::DefendantAdded {
                    report_id: d.report_id,
                    defendant_id: d.defendant_id,
                    gender: d.gender,
                    age_at_offense: d.age_at_offense,
                    citizenship: d.citizenship,
                    role: d.role,
                    charged_with: d.charged_with,
                    added_on,
                    relationship: d.relationship,
                }]
            }
            C::RecordDefendantVerdict(v) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(v.report_id)?;
                let defendant = rep
                    .defendants
                    .iter()
                    .find(|x| x.defendant_id == v.defendant_id)
                    .ok_or(CaseError::UnknownDefendant(v.defendant_id))?;
                if defendant.verdict {
                    return Err(CaseError::DefendantVerdictAlreadyRecorded);
                }
                if !rep.sent_to_court {
                    return Err(CaseError::NotSentToCourt);
                }
                self.check_date(today, "decidedOn", v.decided_on, Some((rep.filed_on, "the report was filed")))?;
                if let Some(o) = &v.offense {
                    Self::check_era(o, v.decided_on)?;
                }
                vec![E::DefendantVerdictRecorded {
                    report_id: v.report_id,
                    defendant_id: v.defendant_id,
                    outcome: v.outcome,
                    offense: v.offense,
                    decided_on: v.decided_on,
                    sentence_months: v.sentence_months,
                }]
            }
            C::RecordCompensation(c) => {
                self.acting_lawyer(actor)?;
                let rep = self.report(c.report_id)?;
                if c.amount == 0 {
                    return Err(CaseError::ZeroAmount);
                }
                let filed = Some((rep.filed_on, "the report was filed"));
                match (c.step, &rep.compensation) {
                    (CompensationStep::Claimed, Some(_)) => {
                        return Err(CaseError::CompensationAlreadyRecorded("claimed"))
                    }
                    (CompensationStep::Claimed, None) => {
                        self.check_date(today, "claimedOn", c.on, filed)?;
                        vec![E::CompensationClaimed {
                            report_id: c.report_id,
                            amount: c.amount,
                            currency: c.currency,
                            claimed_on: c.on,
                        }]
                    }
                    (_, None) => return Err(CaseError::NoCompensationClaim),
                    (_, Some(claim)) if claim.currency != c.currency => {
                        return Err(CaseError::CurrencyMismatch {
                            claimed: claim.currency.as_str().into(),
                            given: c.currency.as_str().into(),
                        })
                    }
                    (CompensationStep::Awarded, Some(claim)) => {
                        if claim.awarded.is_some() {
                            return Err(CaseError::CompensationAlreadyRecorded("awarded"));
                        }
                        self.check_date(today, "awardedOn", c.on, Some((claim.claimed_on, "the claim")))?;
                        vec![E::CompensationAwarded {
                            report_id: c.report_id,
                            amount: c.amount,
                            currency: c.currency,
                            awarded_on: c.on,
                        }]
                    }
                    (CompensationStep::Paid, Some(claim)) => {
                        let (awarded, awarded_on) = claim.awarded.ok_or(CaseError::NoCompensationAward)?;
                        let paid = claim.paid.saturating_add(c.amount);
                        if paid > awarded {
                            return Err(CaseError::OverPaid { paid, awarded });
                        }
                        self.check_date(today, "paidOn", c.on, Some((awarded_on, "the award")))?;
                        vec![E::CompensationPaid {
                            report_id: c.report_id,
                            amount: c.amount,
                            currency: c.currency,
                            paid_on: c.on,
                        }]
                    }
                }
            }
            C::Proceedings(p) => return self.decide_proceedings(actor, p, today),
            C::CloseCase { reason, closed_on } => {
                self.lawyer_scope(actor)?;
                let closed_on = self.effective(today, "closedOn", closed_on, None)?;
                vec![E::CaseClosed { reason, closed_on }]
            }
        };
        Ok(events)
    }
}

fn dedup(scopes: Vec<ConsentScope>) -> Vec<ConsentScope> {
    let set: BTreeSet<_> = scopes.into_iter().collect();
    set.into_iter().collect()
}

fn open_intake(cmd: OpenIntake, today: NaiveDate) -> Result<Vec<CaseEvent>, CaseError> {
    if cmd.identified_on > today {
        return Err(CaseError::FutureDate { field: "identifiedOn", date: cmd.identified_on });
    }
    if cmd.exploitation_types.is_empty() {
        return Err(CaseError::NoExploitationType);
    }
    if !cmd.identity.is_well_formed() {
        return Err(InvalidInput::Malformed { field: "client", expected: "a sealed identity" }.into());
    }
    let minor = AgeGroup::from_age(cmd.client.age_at_identification) == AgeGroup::Minor;
    if let Some(g) = cmd.guardian_consent {
        if !minor {
            return Err(CaseError::NotAMinor);
        }
        if g.given_on > today {
            return Err(CaseError::FutureDate { field: "guardianConsent.givenOn", date: g.given_on });
        }
    }
    if minor && cmd.consent.legal_aid && cmd.guardian_consent.is_none() {
        return Err(CaseError::GuardianConsentRequired);
    }
    let types: BTreeSet<_> = cmd.exploitation_types.into_iter().collect();
    let mut events = vec![CaseEvent::IntakeOpened {
        case_id: cmd.case_id,
        organization_id: cmd.organization_id,
        identified_on: cmd.identified_on,
        referral_source: cmd.referral_source,
        exploitation_types: types.into_iter().collect(),
        country_of_exploitation: cmd.country_of_exploitation,
        client: cmd.client,
        identity: cmd.identity,
        profile: cmd.profile.normalized(),
        guardian_consent: cmd.guardian_consent,
    }];
    events.extend(CaseEvent::consent_given(cmd.consent, cmd.identified_on));
    Ok(events)
}
