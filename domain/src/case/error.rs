use crate::values::InvalidInput;
use uuid::Uuid;

/// Every way a case command can be refused. Each is a domain invariant
/// (`RULE_VIOLATION` at the edge) except `Invalid` (`BAD_USER_INPUT`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("the case has not been opened")]
    NotOpened,
    #[error("the case is already open")]
    AlreadyOpened,
    #[error("the case is closed; only reopening is possible")]
    Closed,
    #[error("the case is not closed")]
    NotClosed,
    #[error("the client's data was erased; identity can no longer be written")]
    Erased,
    #[error("the client's data is already erased")]
    AlreadyErased,
    #[error("the client has not consented to {0}, or withdrew that consent: record the client's consent (giveConsent) before this step")]
    NoConsent(&'static str),
    #[error("the client is under 18: consent to legal aid takes effect only with a guardian's or representative's consent; record it first (guardianConsent)")]
    GuardianConsentRequired,
    #[error("the client is 18 or older at identification: no guardian's consent is recorded for an adult")]
    NotAMinor,
    #[error("no lawyer is assigned to this case")]
    NoLawyerAssigned,
    #[error("the assigned lawyer has not accepted the case")]
    AssignmentNotAccepted,
    #[error("the assignment was already accepted")]
    AlreadyAccepted,
    #[error("this lawyer is already assigned to the case")]
    AlreadyAssigned,
    #[error("only the lawyer assigned to the case may do this")]
    NotAssignedLawyer,
    #[error("police report {0} is not part of this case")]
    UnknownReport(Uuid),
    #[error("police report {0} already exists")]
    DuplicateReport(Uuid),
    #[error("the offence of this report is already registered; record a reclassification instead")]
    AlreadyRegistered,
    #[error("the report has no registered offence yet")]
    NotRegistered,
    #[error("a reclassification must change the offence")]
    SameOffense,
    #[error("a verdict needs the report to have been sent to court")]
    NotSentToCourt,
    #[error("a verdict is already in force on this report: file an appeal (fileAppeal) before recording a higher instance's verdict")]
    VerdictAlreadyRecorded,
    #[error("there is no verdict in force on this report to appeal; a first verdict is FIRST_INSTANCE")]
    NoVerdictToAppeal,
    #[error("an appeal to {0} is pending on this report; record that instance's verdict first")]
    AppealPending(&'static str),
    #[error("an appeal goes to a higher instance than the verdict in force ({from}), not to {to}")]
    AppealNotHigher { from: &'static str, to: &'static str },
    #[error("the appeal pending is at {pending}: a verdict of {given} cannot follow it")]
    WrongInstance { pending: &'static str, given: &'static str },
    #[error("hearing {0} is not on this report")]
    UnknownHearing(Uuid),
    #[error("hearing {0} already exists")]
    DuplicateHearing(Uuid),
    #[error("the hearing was already recorded as held")]
    HearingAlreadyHeld,
    #[error("complaint {0} is not on this report")]
    UnknownComplaint(Uuid),
    #[error("complaint {0} already exists")]
    DuplicateComplaint(Uuid),
    #[error("the complaint was already decided")]
    ComplaintAlreadyDecided,
    #[error("there is no decision to complain of ({0}) on this report")]
    NothingToComplainOf(&'static str),
    #[error("the case has no referral number {0}")]
    UnknownReferral(u16),
    #[error(
        "article {code} belongs to the {edition}, which could not be applied before {applies_from}; \
         on {date} the {in_force} was in force: use an article of that code"
    )]
    ArticleNotYetInForce {
        code: String,
        edition: String,
        applies_from: chrono::NaiveDate,
        date: chrono::NaiveDate,
        in_force: String,
    },
    #[error("defendant {0} is not on this report")]
    UnknownDefendant(Uuid),
    #[error("defendant {0} is already on this report")]
    DuplicateDefendant(Uuid),
    #[error("a verdict was already recorded for this defendant")]
    DefendantVerdictAlreadyRecorded,
    #[error("no compensation was claimed on this report; record the claim first")]
    NoCompensationClaim,
    #[error("the court has not awarded compensation on this report; record the award first")]
    NoCompensationAward,
    #[error("compensation was already {0} on this report")]
    CompensationAlreadyRecorded(&'static str),
    #[error("the claim is in {claimed}: give this amount in {claimed} too, not in {given}")]
    CurrencyMismatch { claimed: String, given: String },
    #[error("payments ({paid}) would exceed the award ({awarded})")]
    OverPaid { paid: u64, awarded: u64 },
    #[error("an amount must be more than zero")]
    ZeroAmount,
    #[error("{field} ({date}) is in the future")]
    FutureDate { field: &'static str, date: chrono::NaiveDate },
    #[error("{field} ({date}) is before {before}")]
    DateTooEarly { field: &'static str, date: chrono::NaiveDate, before: &'static str },
    #[error("at least one exploitation type is required")]
    NoExploitationType,
    #[error("nothing to change: {0}")]
    NothingToChange(&'static str),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
}

impl CaseError {
    /// True where the input itself is malformed rather than a rule being broken.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, CaseError::Invalid(_) | CaseError::NoExploitationType | CaseError::ZeroAmount)
    }
}
