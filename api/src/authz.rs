//! Authorisation, in one place: every query, mutation and guarded field names its
//! [`Op`], and [`check`] decides from the caller's role and the case's scope.
//! DESIGN.md §1 is the source of this table.

use crate::auth::Principal;
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
    /// `Case.identity`: decrypting a client's identity.
    ReadIdentity,
    /// `identityReads`: who decrypted which client's identity, when and why.
    ReadIdentityLog,
    // mutations: administration
    RegisterOrganization,
    CreateAccessToken,
    RevokeAccessToken,
    AddOffense,
    RetireOffense,
    EraseClientData,
    // mutations: the lawyer network
    RegisterLawyer,
    ManageLawyer,
    AssignLawyer,
    // mutations: cases
    OpenIntake,
    UpdateClientIdentity,
    ManageConsent,
    ReferToService,
    AnswerAssignment,
    LegalAction,
    CloseCase,
    ReopenCase,
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
        Op::ReadIdentity,
        Op::ReadIdentityLog,
        Op::RegisterOrganization,
        Op::CreateAccessToken,
        Op::RevokeAccessToken,
        Op::AddOffense,
        Op::RetireOffense,
        Op::EraseClientData,
        Op::RegisterLawyer,
        Op::ManageLawyer,
        Op::AssignLawyer,
        Op::OpenIntake,
        Op::UpdateClientIdentity,
        Op::ManageConsent,
        Op::ReferToService,
        Op::AnswerAssignment,
        Op::LegalAction,
        Op::CloseCase,
        Op::ReopenCase,
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
        // A deactivated lawyer (left the network, on leave) no longer acts for, or reads
        // the identity of, clients whose cases still await reassignment.
        Role::Lawyer if p.lawyer_active && p.lawyer_id.is_some() && p.lawyer_id == scope.lawyer_id => {
            Relation::AssignedLawyer
        }
        _ => Relation::None,
    }
}

/// Allows or refuses `op` for `p`. `scope` is the case concerned, where there is one.
pub fn check(p: &Principal, op: Op, scope: Option<&CaseScope>) -> Result<(), ApiError> {
    if allowed(p, op, scope) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

/// The policy table.
pub fn allowed(p: &Principal, op: Op, scope: Option<&CaseScope>) -> bool {
    use Role::*;
    let rel = scope.map(|s| relation(p, s)).unwrap_or(Relation::None);
    let in_scope = matches!(rel, Relation::OwnOrganization | Relation::AssignedLawyer);
    match op {
        Op::Me | Op::ListOffenses => true,
        // Everyone lists the cases in their scope; a deactivated lawyer has none.
        Op::ListCases => p.role != Lawyer || p.lawyer_active,
        Op::ListOrganizations => matches!(p.role, Admin | Coordinator | Auditor | IntakeWorker),
        Op::ReadLawyer => true,
        Op::ListLawyers => matches!(p.role, Admin | Coordinator | Auditor),
        Op::ReadCase => match p.role {
            Admin | Coordinator | Auditor => true,
            IntakeWorker | Lawyer => in_scope,
        },
        // Identity: the client's organisation and lawyer; a coordinator only where the
        // client consented to data sharing. Auditors and admins never.
        Op::ReadIdentity => match p.role {
            IntakeWorker | Lawyer => in_scope,
            Coordinator => scope.is_some_and(|s| s.data_sharing),
            Admin | Auditor => false,
        },
        // Oversight of identity access: the auditors, and the administrators who answer
        // for accounts. Not the readers themselves.
        Op::ReadIdentityLog => matches!(p.role, Admin | Auditor),
        Op::RegisterOrganization
        | Op::CreateAccessToken
        | Op::RevokeAccessToken
        | Op::AddOffense
        | Op::RetireOffense => p.role == Admin,
        Op::EraseClientData => p.role == Admin,
        Op::RegisterLawyer | Op::ManageLawyer | Op::AssignLawyer => p.role == Coordinator,
        Op::OpenIntake => p.role == IntakeWorker,
        Op::UpdateClientIdentity | Op::ManageConsent | Op::ReferToService => in_scope,
        Op::AnswerAssignment | Op::LegalAction => rel == Relation::AssignedLawyer,
        Op::CloseCase | Op::ReopenCase => p.role == Coordinator || rel == Relation::AssignedLawyer,
    }
}
