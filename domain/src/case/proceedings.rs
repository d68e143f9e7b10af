//! The proceedings around a police report and around the case: court hearings (dates ahead
//! allowed), complaints against the investigators' decisions, appeals of a verdict through
//! the instances, the transfer of a case, the outcome of a referral and the formal decision
//! on victim status. Kept apart from `Case::decide` so each group reads on its own.

use super::aggregate::{Case, ReportState};
use super::error::CaseError;
use super::event::CaseEvent;
use crate::actor::Actor;
use crate::values::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What users ask about the proceedings. Dates given as `Option` default to today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProceedingsCommand {
    /// A hearing set by a court: its day may lie ahead.
    ScheduleHearing {
        report_id: Uuid,
        hearing_id: Uuid,
        on: NaiveDate,
        court: Text,
        instance: CourtInstance,
    },
    /// The hearing took place on its (current) day.
    RecordHearingHeld {
        report_id: Uuid,
        hearing_id: Uuid,
    },
    /// The court moved the hearing to another day.
    PostponeHearing {
        report_id: Uuid,
        hearing_id: Uuid,
        to: NaiveDate,
        postponed_on: Option<NaiveDate>,
        reason: Option<Text>,
    },
    /// A complaint against a refusal to register, a termination or the qualification.
    FileComplaint {
        report_id: Uuid,
        complaint_id: Uuid,
        against: ComplaintSubject,
        filed_with: ComplaintAddressee,
        filed_on: Option<NaiveDate>,
    },
    DecideComplaint {
        report_id: Uuid,
        complaint_id: Uuid,
        outcome: ComplaintOutcome,
        decided_on: Option<NaiveDate>,
    },
    /// An appeal of the verdict in force to a higher instance.
    FileAppeal {
        report_id: Uuid,
        appeal_id: Uuid,
        instance: CourtInstance,
        filed_on: Option<NaiveDate>,
    },
    /// The case moves to another organisation; needs the client's consent to data sharing.
    TransferCase {
        to_organization_id: Uuid,
        reason: Text,
        transferred_on: Option<NaiveDate>,
    },
    /// What came of a referral (by its position in the case's referrals, from 0).
    RecordReferralOutcome {
        referral: u16,
        outcome: ReferralOutcome,
        on: Option<NaiveDate>,
    },
    /// The formal decision on the client's status as a victim, and the body that took it.
    RecordVictimStatus {
        granted: bool,
        decided_by: Text,
        decided_on: Option<NaiveDate>,
    },
}

/// The aggregate's view of a hearing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HearingState {
    pub hearing_id: Uuid,
    pub on: NaiveDate,
    pub held: bool,
}

/// The aggregate's view of a complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplaintState {
    pub complaint_id: Uuid,
    pub filed_on: NaiveDate,
    pub decided: bool,
}

/// The verdict in force on a report, and an appeal of it not yet decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictState {
    pub instance: CourtInstance,
    pub decided_on: NaiveDate,
    /// The instance appealed to, and the day of the appeal.
    pub appeal: Option<(CourtInstance, NaiveDate)>,
}

const FILED: &str = "the report was filed";

impl Case {
    fn report_mut(&mut self, id: Uuid) -> Option<&mut ReportState> {
        self.reports.iter_mut().find(|r| r.report_id == id)
    }

    /// The instance a new verdict is for must follow the verdict in force: none yet → the
    /// first instance; otherwise only the instance an appeal is pending at, not before the
    /// appeal was filed.
    pub(super) fn check_verdict_instance(
        rep: &ReportState,
        instance: CourtInstance,
        decided_on: NaiveDate,
    ) -> Result<(), CaseError> {
        match (&rep.verdict_in_force, instance) {
            (None, CourtInstance::FirstInstance) => Ok(()),
            (None, _) => Err(CaseError::NoVerdictToAppeal),
            (Some(v), _) => match v.appeal {
                None => Err(CaseError::VerdictAlreadyRecorded),
                Some((to, _)) if to != instance => {
                    Err(CaseError::WrongInstance { pending: to.as_str(), given: instance.as_str() })
                }
                Some((_, filed)) if decided_on < filed => {
                    Err(CaseError::DateTooEarly { field: "decidedOn", date: decided_on, before: "the appeal" })
                }
                Some(_) => Ok(()),
            },
        }
    }

    /// Decides a proceedings command.
    pub(super) fn decide_proceedings(
        &self,
        actor: &Actor,
        command: ProceedingsCommand,
        today: NaiveDate,
    ) -> Result<Vec<CaseEvent>, CaseError> {
        use CaseEvent as E;
        use ProceedingsCommand as P;
        let events = match command {
            P::ScheduleHearing { report_id, hearing_id, on, court, instance } => {
                self.acting_lawyer(actor)?;
                let rep = self.report(report_id)?;
                if self.reports.iter().any(|r| r.hearings.iter().any(|h| h.hearing_id == hearing_id)) {
                    return Err(CaseError::DuplicateHearing(hearing_id));
                }
                // A hearing is the one fact whose day may lie ahead.
                self.check_not_early("on", on, Some((rep.filed_on, FILED)))?;
                vec![E::HearingScheduled { report_id, hearing_id, on, court, instance }]
            }
            P::RecordHearingHeld { report_id, hearing_id } => {
                self.acting_lawyer(actor)?;
                let h = self.hearing(report_id, hearing_id)?;
                if h.on > today {
                    return Err(CaseError::FutureDate { field: "the hearing's day", date: h.on });
                }
                vec![E::HearingHeld { report_id, hearing_id, held_on: h.on }]
            }
            P::PostponeHearing { report_id, hearing_id, to, postponed_on, reason } => {
                self.acting_lawyer(actor)?;
                let rep = self.report(report_id)?;
                let h = self.hearing(report_id, hearing_id)?;
                if to == h.on {
                    return Err(CaseError::NothingToChange("the hearing is already on that day"));
                }
                let postponed_on = self.effective(today, "postponedOn", postponed_on, None)?;
                self.check_not_early("to", to, Some((rep.filed_on, FILED)))?;
                if to < postponed_on {
                    return Err(CaseError::DateTooEarly { field: "to", date: to, before: "the postponement" });
                }
                vec![E::HearingPostponed { report_id, hearing_id, from: h.on, to, postponed_on, reason }]
            }
            P::FileComplaint { report_id, complaint_id, against, filed_with, filed_on } => {
                self.acting_lawyer(actor)?;
                let rep = self.report(report_id)?;
                if self.reports.iter().any(|r| r.complaints.iter().any(|c| c.complaint_id == complaint_id)) {
                    return Err(CaseError::DuplicateComplaint(complaint_id));
                }
                let decision = match against {
                    ComplaintSubject::RefusalToRegister => rep.refused_on.map(|d| (d, "the refusal")),
                    ComplaintSubject::Termination => rep.terminated_on.map(|d| (d, "the termination")),
                    ComplaintSubject::Qualification => rep.qualified_on.map(|d| (d, "the qualification")),
                };
                let Some(decision) = decision else {
                    return Err(CaseError::NothingToComplainOf(against.as_str()));
                };
                let filed_on = self.effective(today, "filedOn", filed_on, Some(decision))?;
                vec![E::ComplaintFiled { report_id, complaint_id, against, filed_with, filed_on }]
            }
            P::DecideComplaint { report_id, complaint_id, outcome, decided_on } => {
                self.acting_lawyer(actor)?;
                let rep = self.report(report_id)?;
                let c = rep
                    .complaints
                    .iter()
                    .find(|c| c.complaint_id == complaint_id)
                    .ok_or(CaseError::UnknownComplaint(complaint_id))?;
                if c.decided {
                    return Err(CaseError::ComplaintAlreadyDecided);
                }
                let decided_on = self.effective(today, "decidedOn", decided_on, Some((c.filed_on, "the complaint")))?;
                vec![E::ComplaintDecided { report_id, complaint_id, outcome, decided_on }]
            }
            P::FileAppeal { report_id, appeal_id, instance, filed_on } => {
                self.acting_lawyer(actor)?;
                let rep = self.report(report_id)?;
                let v = rep.verdict_in_force.as_ref().ok_or(CaseError::NoVerdictToAppeal)?;
                if let Some((to, _)) = v.appeal {
                    return Err(CaseError::AppealPending(to.as_str()));
                }
                if instance <= v.instance {
                    return Err(CaseError::AppealNotHigher { from: v.instance.as_str(), to: instance.as_str() });
                }
                let filed_on = self.effective(today, "filedOn", filed_on, Some((v.decided_on, "the verdict")))?;
                vec![E::AppealFiled { report_id, appeal_id, instance, filed_on }]
            }
            P::TransferCase { to_organization_id, reason, transferred_on } => {
                self.lawyer_scope(actor)?;
                if self.organization_id == Some(to_organization_id) {
                    return Err(CaseError::NothingToChange("the case is already with that organisation"));
                }
                if !self.consent.contains(&ConsentScope::DataSharing) {
                    return Err(CaseError::NoConsent("sharing their data with another organisation"));
                }
                let transferred_on = self.effective(today, "transferredOn", transferred_on, None)?;
                vec![E::CaseTransferred {
                    from_organization_id: self.organization_id.unwrap_or_default(),
                    to_organization_id,
                    reason,
                    transferred_on,
                }]
            }
            P::RecordReferralOutcome { referral, outcome, on } => {
                self.lawyer_scope(actor)?;
                let referred_on =
                    *self.referrals.get(usize::from(referral)).ok_or(CaseError::UnknownReferral(referral))?;
                let on = self.effective(today, "on", on, Some((referred_on, "the referral")))?;
                vec![E::ReferralOutcomeRecorded { referral, outcome, on }]
            }
            P::RecordVictimStatus { granted, decided_by, decided_on } => {
                self.lawyer_scope(actor)?;
                let decided_on = self.effective(today, "decidedOn", decided_on, None)?;
                vec![E::VictimStatusDecided { granted, decided_by, decided_on }]
            }
        };
        Ok(events)
    }

    fn hearing(&self, report_id: Uuid, hearing_id: Uuid) -> Result<&HearingState, CaseError> {
        let h = self
            .report(report_id)?
            .hearings
            .iter()
            .find(|h| h.hearing_id == hearing_id)
            .ok_or(CaseError::UnknownHearing(hearing_id))?;
        if h.held {
            return Err(CaseError::HearingAlreadyHeld);
        }
        Ok(h)
    }

    /// A date that may lie ahead but not before the intake (nor `after`).
    fn check_not_early(
        &self,
        field: &'static str,
        date: NaiveDate,
        after: Option<(NaiveDate, &'static str)>,
    ) -> Result<(), CaseError> {
        if let Some(intake) = self.identified_on {
            if date < intake {
                return Err(CaseError::DateTooEarly { field, date, before: "the intake" });
            }
        }
        match after {
            Some((earliest, what)) if date < earliest => Err(CaseError::DateTooEarly { field, date, before: what }),
            _ => Ok(()),
        }
    }

    /// Folds a proceedings event into the aggregate; `false` for any other event.
    pub(super) fn apply_proceedings(&mut self, event: &CaseEvent) -> bool {
        use CaseEvent as E;
        match event {
            E::HearingScheduled { report_id, hearing_id, on, .. } => {
                if let Some(r) = self.report_mut(*report_id) {
                    r.hearings.push(HearingState { hearing_id: *hearing_id, on: *on, held: false });
                }
            }
            E::HearingHeld { report_id, hearing_id, .. } => {
                let r = self.report_mut(*report_id);
                if let Some(h) = r.and_then(|r| r.hearings.iter_mut().find(|h| h.hearing_id == *hearing_id)) {
                    h.held = true;
                }
            }
            E::HearingPostponed { report_id, hearing_id, to, .. } => {
                let r = self.report_mut(*report_id);
                if let Some(h) = r.and_then(|r| r.hearings.iter_mut().find(|h| h.hearing_id == *hearing_id)) {
                    h.on = *to;
                }
            }
            E::ComplaintFiled { report_id, complaint_id, filed_on, .. } => {
                if let Some(r) = self.report_mut(*report_id) {
                    r.complaints.push(ComplaintState {
                        complaint_id: *complaint_id,
                        filed_on: *filed_on,
                        decided: false,
                    });
                }
            }
            E::ComplaintDecided { report_id, complaint_id, .. } => {
                let r = self.report_mut(*report_id);
                if let Some(c) = r.and_then(|r| r.complaints.iter_mut().find(|c| c.complaint_id == *complaint_id)) {
                    c.decided = true;
                }
            }
            E::AppealFiled { report_id, instance, filed_on, .. } => {
                if let Some(v) = self.report_mut(*report_id).and_then(|r| r.verdict_in_force.as_mut()) {
                    v.appeal = Some((*instance, *filed_on));
                }
            }
            E::CaseTransferred { to_organization_id, .. } => self.organization_id = Some(*to_organization_id),
            E::VictimStatusDecided { .. } | E::ReferralOutcomeRecorded { .. } => {}
            _ => return false,
        }
        true
    }
}
