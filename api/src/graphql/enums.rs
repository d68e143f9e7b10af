//! GraphQL enums, mirrored from the domain's value types (same members, same labels).

use async_graphql::Enum;
use domain::values as v;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Role")]
pub enum Role {
    Admin,
    Coordinator,
    Lawyer,
    IntakeWorker,
    Auditor,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Gender")]
pub enum Gender {
    Female,
    Male,
    Other,
    Unknown,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Region")]
pub enum Region {
    Bishkek,
    OshCity,
    Chui,
    Osh,
    JalalAbad,
    Batken,
    Talas,
    Naryn,
    IssykKul,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ExploitationType")]
pub enum ExploitationType {
    ForcedLabor,
    Sexual,
    ForcedMarriage,
    ForcedBegging,
    ForcedCriminality,
    IllegalAdoption,
    OrganRemoval,
    ArmedGroupRecruitment,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ReferralSource")]
pub enum ReferralSource {
    Hotline,
    NgoOutreach,
    Police,
    Iom,
    #[graphql(name = "SELF")]
    SelfReferral,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::OrganizationKind")]
pub enum OrganizationKind {
    Ngo,
    CrisisCenter,
    LegalClinic,
    BarAssociation,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::LawyerStatus")]
pub enum LawyerStatus {
    Professional,
    Student,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::OffenseCategory")]
pub enum OffenseCategory {
    Tip,
    TipRelated,
    Fraud,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::Authority")]
pub enum Authority {
    Police,
    Prosecutor,
    Court,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::InvestigationOutcome")]
pub enum InvestigationOutcome {
    Terminated,
    ReturnedForInvestigation,
    SentToCourt,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::VerdictOutcome")]
pub enum VerdictOutcome {
    Convicted,
    Acquitted,
    Dismissed,
}

/// What an accused person did in the trafficking chain.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::DefendantRole")]
pub enum DefendantRole {
    Recruiter,
    Transporter,
    Harbourer,
    Exploiter,
    Organiser,
    Other,
}

/// Who an accused person was to the client before the offence (FAMILY, FRIEND,
/// INTIMATE_PARTNER, EMPLOYER and OTHER as in `RecruiterRelationship`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::DefendantRelationship")]
pub enum DefendantRelationship {
    Stranger,
    Acquaintance,
    Friend,
    IntimatePartner,
    Family,
    Employer,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ConsentScope")]
pub enum ConsentScope {
    LegalAid,
    ReportToPolice,
    DataSharing,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ProtectionService")]
pub enum ProtectionService {
    Shelter,
    Medical,
    Psychological,
    Reintegration,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::LegalActionKind")]
pub enum LegalActionKind {
    Consultation,
    ComplaintDrafted,
    EvidenceSubmitted,
    HearingAttended,
    AppealFiled,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::AgeGroup")]
pub enum AgeGroup {
    Minor,
    Adult,
    Unknown,
}

// ---- proceedings

/// Who started a police report.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ReportInitiator")]
pub enum ReportInitiator {
    /// The client's lawyer.
    Lawyer,
    /// The NGO, on the victim's behalf.
    Ngo,
    /// The police, on their own initiative.
    Police,
}

/// A court instance, lowest first.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::CourtInstance")]
pub enum CourtInstance {
    FirstInstance,
    Appeal,
    Cassation,
}

/// What a complaint is against.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ComplaintSubject")]
pub enum ComplaintSubject {
    RefusalToRegister,
    Termination,
    Qualification,
}

/// Whom a complaint was filed with.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ComplaintAddressee")]
pub enum ComplaintAddressee {
    Prosecutor,
    InvestigatingJudge,
    Court,
    HigherProsecutor,
}

/// The decision on a complaint; `PENDING` until one is recorded.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ComplaintStatus {
    Pending,
    Upheld,
    Rejected,
}

/// A decision on a complaint.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ComplaintOutcome")]
pub enum ComplaintOutcome {
    Upheld,
    Rejected,
}

/// What came of a referral to a protection service.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::ReferralOutcome")]
pub enum ReferralOutcome {
    ServiceProvided,
    Declined,
    Unavailable,
}

/// A kind of fact on a police report that starts a time limit or meets one.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::deadline::DeadlineEvent")]
pub enum DeadlineEvent {
    PoliceReportFiled,
    OffenseRegistered,
    RegistrationRefused,
    OffenseReclassified,
    InvestigationTerminated,
    ReturnedForInvestigation,
    SentToCourt,
    Verdict,
    ComplaintFiled,
    ComplaintDecided,
    AppealFiled,
}

/// Where something due comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeadlineKind {
    /// A court hearing ahead (or passed and not recorded as held).
    Hearing,
    /// A time limit of a deadline rule.
    Rule,
}

// ---- the HTCDS profile (docs/htcds.md) and a guardian's consent

/// How the client was recruited (our list; see docs/htcds.md).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::RecruitmentMethod")]
pub enum RecruitmentMethod {
    JobOffer,
    MarriageOrRelationship,
    EducationOffer,
    TravelOffer,
    Online,
    Agency,
    Abduction,
    SoldByFamily,
    Other,
}

/// A means of control used on the client (the CTDC Global Dataset's `meansOfControl*`).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::MeansOfControl")]
pub enum MeansOfControl {
    DebtBondage,
    TakesEarnings,
    RestrictsFinancialAccess,
    Threats,
    PsychologicalAbuse,
    PhysicalAbuse,
    SexualAbuse,
    FalsePromises,
    PsychoactiveSubstances,
    RestrictsMovement,
    RestrictsMedicalCare,
    ExcessiveWorkingHours,
    UsesChildren,
    ThreatOfLawEnforcement,
    WithholdsNecessities,
    WithholdsDocuments,
    Other,
}

/// The recruiter's relationship to the client.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::RecruiterRelationship")]
pub enum RecruiterRelationship {
    Family,
    Friend,
    IntimatePartner,
    Employer,
    Other,
}

/// A section (A–U) of ISIC Rev.4: the industry of forced labour.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::IsicSection")]
pub enum IsicSection {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    H,
    I,
    J,
    K,
    L,
    M,
    N,
    O,
    P,
    Q,
    R,
    S,
    T,
    U,
}

/// The client's migration status where exploited (our list).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::MigrationStatus")]
pub enum MigrationStatus {
    RegularMigrant,
    IrregularMigrant,
    NotAMigrant,
    Unknown,
}

/// Who consented on behalf of a client under 18.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "v::GuardianKind")]
pub enum GuardianKind {
    Parent,
    Guardian,
    LegalRepresentative,
    GuardianshipAuthority,
}
