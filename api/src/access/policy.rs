//! Authorisation, in one place: every use case names its [`Op`], and [`check`] decides from
//! the caller's role and the case's scope. The domain decides nothing about roles; it keeps
//! the case's own invariants (the assigned lawyer, once they accepted, acts for the client).
//! DESIGN.md §1 is the source of this table.

use super::Principal;
use crate::error::ApiError;
use domain::values::Role;
use uuid::Uuid;

/// Every operation the API offers, including fields guarded on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    // queries
    Me,
    ReadCase,
    ListCases,
    ReadLawyer,
    ListLawyers,
    ListOrganizations,
    ListOffenses,
    /// `outcomeStats`, `networkStats`.
    ReadStatistics,
    /// `Case.identity`: decrypting a client's identity.
    ReadIdentity,
    /// `Case.identity` for a lawyer offered the case: the client's name only, so the lawyer
    /// can check for a conflict of interest before accepting.
    ReadIdentityForConflictCheck,
    /// `recordPublishedFigure`: an official source's figure beside the ledger's count.
    RecordPublishedFigure,
    /// `identityReads`: the log of who read which identity.
    ReadIdentityLog,
    /// `auditTrail`: any case's events with their hash-chain links.
    ReadAuditTrail,
    /// `verifyAuditTrail`: recomputing the hash chains.
    VerifyAuditTrail,
    // mutations: administration
    RegisterOrganization,
    CreateAccessToken,
    RevokeAccessToken,
    AddOffense,
    RetireOffense,
    EraseClientData,
    /// `probono keys rotate`: re-wrapping every data key under a new master key.
    RotateMasterKey,
    /// `GET /metrics` on the main address.
    ReadMetrics,
    /// A second person's approval of an account that can read identity.
    ApproveAccount,
    /// The list of accounts, with who created and approved each.
    ListAccounts,
    /// Deactivating an account, revoking every token and session of one.
    ManageAccounts,
    /// The web app's sign-in log, and an account's activity.
    ReadSignInLog,
    /// Asking for a client's data to be erased (decided by an ADMIN other than the asker).
    RequestErasure,
    /// Approving or turning down an erasure request.
    DecideErasure,
    /// The list of erasure requests.
    ListErasureRequests,
    /// The master key's status: epochs, number of data keys wrapped, last change.
    ReadKeyStatus,
    // mutations: the lawyer network
    RegisterLawyer,
    ManageLawyer,
    AssignLawyer,
    // mutations: cases
    OpenIntake,
    UpdateClientIdentity,
    ManageConsent,
    /// `recordVictimProfile`: the HTCDS profile of a case.
    RecordVictimProfile,
    ReferToService,
    AnswerAssignment,
    LegalAction,
    /// `addDefendant`, `recordDefendantVerdict`: the accused persons on a report.
    RecordDefendant,
    /// `claimCompensation`, `recordCompensationAward`, `recordCompensationPayment`.
    RecordCompensation,
    CloseCase,
    ReopenCase,
    /// `probono import cases` and the import page: historic cases from a CSV file.
    ImportCases,
    /// `deadlines` and `Case.deadlines`: what is due, within the caller's cases.
    ReadDeadlines,
    /// `setDeadlineRule`, `retireDeadlineRule`.
    ManageDeadlineRules,
    /// `transferCase`: the case moves to another organisation.
    TransferCase,
}

impl Op {
    pub const ALL: &'static [Op] = &[
        Op::Me,
        Op::ReadCase,
        Op::ListCases,
        Op::ReadLawyer,
        Op::ListLawyers,
        Op::ListOrganizations,
        Op::ListOffenses,
        Op::ReadStatistics,
        Op::ReadIdentity,
        Op::ReadIdentityForConflictCheck,
        Op::RecordPublishedFigure,
        Op::ReadIdentityLog,
        Op::ReadAuditTrail,
        Op::VerifyAuditTrail,
        Op::RegisterOrganization,
        Op::CreateAccessToken,
        Op::RevokeAccessToken,
        Op::AddOffense,
        Op::RetireOffense,
        Op::EraseClientData,
        Op::RotateMasterKey,
        Op::ReadMetrics,
        Op::ApproveAccount,
        Op::ListAccounts,
        Op::ManageAccounts,
        Op::ReadSignInLog,
        Op::RequestErasure,
        Op::DecideErasure,
        Op::ListErasureRequests,
        Op::ReadKeyStatus,
        Op::RegisterLawyer,
        Op::ManageLawyer,
        Op::AssignLawyer,
        Op::OpenIntake,
        Op::UpdateClientIdentity,
        Op::ManageConsent,
        Op::RecordVictimProfile,
        Op::ReferToService,
        Op::AnswerAssignment,
        Op::LegalAction,
        Op::RecordDefendant,
        Op::RecordCompensation,
        Op::CloseCase,
        Op::ReopenCase,
        Op::ImportCases,
        Op::ReadDeadlines,
        Op::ManageDeadlineRules,
        Op::TransferCase,
    ];
}

/// What a case-level decision needs to know about the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseScope {
    pub organization_id: Uuid,
    /// The lawyer assigned (accepted or not).
    pub lawyer_id: Option<Uuid>,
    /// The client consented to sharing data beyond their organisation and lawyer.
    pub data_sharing: bool,
    /// The assigned lawyer accepted the case.
    pub accepted: bool,
    /// The case is closed.
    pub closed: bool,
}

/// How a role relates to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// The case belongs to the intake worker's organisation.
    OwnOrganization,
    /// The lawyer is assigned to the case.
    AssignedLawyer,
    /// Neither.
    None,
}

fn relation(p: &Principal, scope: &CaseScope) -> Relation {
    match p.role {
        Role::IntakeWorker if p.organization_id == Some(scope.organization_id) => Relation::OwnOrganization,
        Role::Lawyer if p.lawyer_id.is_some() && p.lawyer_id == scope.lawyer_id => Relation::AssignedLawyer,
        _ => Relation::None,
    }
}

/// Allows or refuses `op` for `p`. `scope` is the case concerned, where there is one.
pub fn check(p: &Principal, op: Op, scope: Option<&CaseScope>) -> Result<(), ApiError> {
    if allowed(p, op, scope) {
        Ok(())
    } else if !p.approved
        && matches!(op, Op::ReadIdentity | Op::ReadIdentityForConflictCheck)
        && allowed(&Principal { approved: true, ..p.clone() }, op, scope)
    {
        Err(ApiError::Forbidden(NOT_APPROVED.into()))
    } else {
        Err(ApiError::Forbidden(format!("this is for {}; your account is {}", who_may(op), p.role)))
    }
}

/// Who may do `op`, in words, for the refusal.
pub fn who_may(op: Op) -> &'static str {
    match op {
        Op::Me | Op::ListOffenses | Op::ListCases | Op::ReadLawyer | Op::ReadDeadlines => "every account",
        Op::ListOrganizations => "ADMIN, COORDINATOR, AUDITOR and INTAKE_WORKER accounts",
        Op::ListLawyers | Op::ReadStatistics | Op::ReadAuditTrail | Op::VerifyAuditTrail => {
            "ADMIN, COORDINATOR and AUDITOR accounts"
        }
        Op::ReadCase => "oversight roles, the intake workers of the case's organisation and its assigned lawyer",
        Op::ReadIdentity => {
            "the intake workers of the client's organisation, the assigned lawyer once they accepted and until the case is closed, and the COORDINATOR where the client consented to data sharing"
        }
        Op::ReadIdentityForConflictCheck => "the lawyer offered the case, before they answer",
        Op::ReadIdentityLog | Op::ReadMetrics | Op::ListAccounts | Op::ReadSignInLog | Op::ListErasureRequests
        | Op::RecordPublishedFigure => {
            "ADMIN and AUDITOR accounts"
        }
        Op::RequestErasure => "the intake workers of the case's organisation, its assigned lawyer and an ADMIN",
        Op::ManageAccounts | Op::DecideErasure | Op::ReadKeyStatus => "an ADMIN",
        Op::RegisterOrganization
        | Op::CreateAccessToken
        | Op::RevokeAccessToken
        | Op::AddOffense
        | Op::RetireOffense
        | Op::EraseClientData
        | Op::RotateMasterKey
        | Op::ManageDeadlineRules => "an ADMIN",
        Op::ApproveAccount => "an ADMIN (or the COORDINATOR, for a lawyer's account)",
        Op::RegisterLawyer | Op::ManageLawyer | Op::AssignLawyer => "the COORDINATOR",
        Op::OpenIntake => "an INTAKE_WORKER",
        Op::UpdateClientIdentity | Op::ManageConsent | Op::RecordVictimProfile | Op::ReferToService => {
            "the intake workers of the case's organisation and its assigned lawyer"
        }
        Op::AnswerAssignment | Op::LegalAction | Op::RecordDefendant | Op::RecordCompensation => {
            "the lawyer assigned to the case"
        }
        Op::CloseCase | Op::ReopenCase | Op::TransferCase => "the COORDINATOR and the lawyer assigned to the case",
        Op::ImportCases => "the COORDINATOR and ADMIN accounts",
    }
}

/// Who approves an account of `role`: the COORDINATOR a lawyer's, an ADMIN the others'
/// (never the person who created it, which the account itself refuses).
pub fn may_approve(approver: &Principal, role: Role) -> bool {
    match role {
        Role::Lawyer => approver.role == Role::Coordinator,
        _ => approver.role == Role::Admin,
    }
}

/// Why an account that is not yet approved is refused identity.
pub const NOT_APPROVED: &str = "this account has not been approved yet: until a second person approves it (an ADMIN other than its creator; the COORDINATOR for a lawyer's account) it cannot read client identity";

/// The policy table.
pub fn allowed(p: &Principal, op: Op, scope: Option<&CaseScope>) -> bool {
    use Role::*;
    let rel = scope.map(|s| relation(p, s)).unwrap_or(Relation::None);
    let in_scope = matches!(rel, Relation::OwnOrganization | Relation::AssignedLawyer);
    match op {
        // Scoped by the use case to the caller's own cases, like the case list.
        Op::Me | Op::ListOffenses | Op::ListCases | Op::ReadDeadlines => true,
        Op::ListOrganizations => matches!(p.role, Admin | Coordinator | Auditor | IntakeWorker),
        Op::ReadLawyer => true,
        Op::ListLawyers => matches!(p.role, Admin | Coordinator | Auditor),
        // Aggregates only, but small cells can point at a person: oversight roles only.
        Op::ReadStatistics => matches!(p.role, Admin | Coordinator | Auditor),
        Op::ReadCase => match p.role {
            Admin | Coordinator | Auditor => true,
            IntakeWorker | Lawyer => in_scope,
        },
        // Identity: the client's organisation and lawyer; a coordinator only where the
        // client consented to data sharing. Auditors and admins never. A lawyer's access ends
        // when their part ends (the case is closed); before they accept, they see only what a
        // conflict-of-interest check needs (`ReadIdentityForConflictCheck`).
        Op::ReadIdentity | Op::ReadIdentityForConflictCheck if !p.approved => false,
        Op::ReadIdentity => match p.role {
            IntakeWorker => in_scope,
            Lawyer => in_scope && scope.is_some_and(|s| s.accepted && !s.closed),
            Coordinator => scope.is_some_and(|s| s.data_sharing),
            Admin | Auditor => false,
        },
        // Oversight of the record itself, whatever the case's scope: the audit trail
        // carries no identity (summaries are built from codes and dates only).
        Op::ReadAuditTrail | Op::VerifyAuditTrail => matches!(p.role, Admin | Coordinator | Auditor),
        Op::RegisterOrganization
        | Op::CreateAccessToken
        | Op::RevokeAccessToken
        | Op::AddOffense
        | Op::RetireOffense => p.role == Admin,
        Op::EraseClientData | Op::RotateMasterKey | Op::ManageDeadlineRules => p.role == Admin,
        Op::ReadIdentityForConflictCheck => {
            p.role == Lawyer && rel == Relation::AssignedLawyer && scope.is_some_and(|s| !s.accepted && !s.closed)
        }
        Op::ReadIdentityLog => matches!(p.role, Admin | Auditor),
        // Public figures entered by those who compare them with the ledger's own.
        Op::RecordPublishedFigure => matches!(p.role, Admin | Auditor),
        // Counts of requests and errors by route: operators and oversight only.
        Op::ReadMetrics => matches!(p.role, Admin | Auditor),
        Op::ApproveAccount => matches!(p.role, Admin | Coordinator),
        Op::ListAccounts | Op::ReadSignInLog | Op::ListErasureRequests => matches!(p.role, Admin | Auditor),
        Op::ManageAccounts | Op::DecideErasure | Op::ReadKeyStatus => p.role == Admin,
        // Those who work for the client (and an ADMIN, who may take a request by phone);
        // another ADMIN decides. A lawyer's part ends with the case.
        Op::RequestErasure => match p.role {
            Admin => true,
            IntakeWorker => in_scope,
            Lawyer => in_scope && scope.is_some_and(|s| !s.closed),
            Coordinator | Auditor => false,
        },
        Op::RegisterLawyer | Op::ManageLawyer | Op::AssignLawyer => p.role == Coordinator,
        Op::OpenIntake => p.role == IntakeWorker,
        Op::UpdateClientIdentity | Op::ManageConsent | Op::RecordVictimProfile | Op::ReferToService => in_scope,
        Op::AnswerAssignment | Op::LegalAction | Op::RecordDefendant | Op::RecordCompensation => {
            rel == Relation::AssignedLawyer
        }
        Op::CloseCase | Op::ReopenCase | Op::TransferCase => p.role == Coordinator || rel == Relation::AssignedLawyer,
        Op::ImportCases => matches!(p.role, Admin | Coordinator),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, organization_id: Option<Uuid>, lawyer_id: Option<Uuid>) -> Principal {
        Principal {
            account_id: Uuid::new_v4(),
            name: "t".into(),
            role,
            organization_id,
            lawyer_id,
            token_id: Uuid::new_v4(),
            approved: true,
        }
    }

    /// A LAWYER can assign no case, to themselves or anyone; only the coordinator runs the
    /// network. (The domain once refused this itself; the policy is now the only place.)
    #[test]
    fn only_the_coordinator_assigns_and_manages_lawyers() {
        let (org, lawyer) = (Uuid::new_v4(), Uuid::new_v4());
        let scope = CaseScope {
            organization_id: org,
            lawyer_id: Some(lawyer),
            data_sharing: true,
            accepted: true,
            closed: false,
        };
        for role in Role::ALL {
            let p = principal(*role, Some(org), Some(lawyer));
            for op in [Op::AssignLawyer, Op::RegisterLawyer, Op::ManageLawyer] {
                assert_eq!(allowed(&p, op, Some(&scope)), *role == Role::Coordinator, "{role:?} {op:?}");
            }
        }
    }

    /// A lawyer offered a case sees only the client's name (to check for a conflict of
    /// interest) until they accept, and nothing once the case is closed.
    #[test]
    fn a_lawyers_access_to_identity_follows_their_part_in_the_case() {
        let (org, lawyer) = (Uuid::new_v4(), Uuid::new_v4());
        let p = principal(Role::Lawyer, None, Some(lawyer));
        let scope = |accepted, closed| CaseScope {
            organization_id: org,
            lawyer_id: Some(lawyer),
            data_sharing: true,
            accepted,
            closed,
        };
        let (offered, represented, closed) = (scope(false, false), scope(true, false), scope(true, true));
        assert!(!allowed(&p, Op::ReadIdentity, Some(&offered)));
        assert!(allowed(&p, Op::ReadIdentityForConflictCheck, Some(&offered)));
        assert!(allowed(&p, Op::ReadIdentity, Some(&represented)));
        assert!(!allowed(&p, Op::ReadIdentityForConflictCheck, Some(&represented)));
        assert!(!allowed(&p, Op::ReadIdentity, Some(&closed)));
        assert!(!allowed(&p, Op::ReadIdentityForConflictCheck, Some(&closed)));
        // The client's organisation keeps its record after closing.
        let intake = principal(Role::IntakeWorker, Some(org), None);
        assert!(allowed(&intake, Op::ReadIdentity, Some(&closed)));
        // Another lawyer never.
        let other = principal(Role::Lawyer, None, Some(Uuid::new_v4()));
        assert!(!allowed(&other, Op::ReadIdentityForConflictCheck, Some(&offered)));
    }

    #[test]
    fn administration_is_for_admins_only() {
        for role in Role::ALL {
            let p = principal(*role, None, None);
            for op in [
                Op::RegisterOrganization,
                Op::CreateAccessToken,
                Op::RevokeAccessToken,
                Op::AddOffense,
                Op::RetireOffense,
                Op::EraseClientData,
            ] {
                assert_eq!(allowed(&p, op, None), *role == Role::Admin, "{role:?} {op:?}");
            }
        }
    }

    #[test]
    fn audit_trails_are_for_oversight_roles_only_even_in_scope() {
        let (org, lawyer) = (Uuid::new_v4(), Uuid::new_v4());
        let scope = CaseScope {
            organization_id: org,
            lawyer_id: Some(lawyer),
            data_sharing: true,
            accepted: true,
            closed: false,
        };
        for role in Role::ALL {
            // In scope: the case's own organisation and lawyer.
            let p = principal(*role, Some(org), Some(lawyer));
            let expected = matches!(role, Role::Admin | Role::Coordinator | Role::Auditor);
            for op in [Op::ReadAuditTrail, Op::VerifyAuditTrail] {
                assert_eq!(allowed(&p, op, Some(&scope)), expected, "{role:?} {op:?} in scope");
                assert_eq!(allowed(&p, op, None), expected, "{role:?} {op:?} without a case");
            }
        }
    }
}
