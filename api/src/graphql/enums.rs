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
