//! Given/when/then tests of the case aggregate: the exact events of every command and every
//! rule of DESIGN.md §2 it enforces. The fixtures below build the usual histories (an opened
//! case, an accepted lawyer, a filed report, ...) so that each test reads as one sentence:
//! given this case, when this person does that, then exactly this happens.

use super::{CaseCommand as C, CaseEvent as E, *};
use crate::actor::Actor;
use crate::clock::FixedClock;
use crate::offense::OffenseRef;
use crate::sealed::Sealed;
use crate::values::*;
use chrono::NaiveDate;
use cqrs_es::test::{AggregateTestExecutor, TestFramework};
use cqrs_es::Aggregate;
use std::sync::Arc;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// The world the tests live in
// ---------------------------------------------------------------------------------------------

const CASE_ID: Uuid = Uuid::from_u128(0xCA5E);
const ORG: Uuid = Uuid::from_u128(0x0A515);
const LAWYER_A: Uuid = Uuid::from_u128(0xA);
const LAWYER_B: Uuid = Uuid::from_u128(0xB);
const REPORT_1: Uuid = Uuid::from_u128(0x1001);
const REPORT_2: Uuid = Uuid::from_u128(0x1002);
const NO_SUCH_REPORT: Uuid = Uuid::from_u128(0xDEAD);

const LEGAL_AID_AND_POLICE: ConsentGrant =
    ConsentGrant { legal_aid: true, report_to_police: true, data_sharing: false };
const LEGAL_AID_ONLY: ConsentGrant = ConsentGrant { legal_aid: true, report_to_police: false, data_sharing: false };
const NO_CONSENT: ConsentGrant = ConsentGrant { legal_aid: false, report_to_police: false, data_sharing: false };

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid calendar date in a test")
}

/// What the fixed clock says.
fn today() -> NaiveDate {
    day(2024, 6, 15)
}

fn tomorrow() -> NaiveDate {
    day(2024, 6, 16)
}

fn intake_day() -> NaiveDate {
    day(2024, 3, 1)
}

fn day_before_intake() -> NaiveDate {
    day(2024, 2, 29)
}

/// The day REPORT_1 is filed in the fixtures.
fn filing_day() -> NaiveDate {
    day(2024, 4, 1)
}

/// Between the intake and the filing of REPORT_1.
fn before_filing() -> NaiveDate {
    day(2024, 3, 20)
}

fn text(s: &str) -> Text {
    Text::parse("test", s).expect("valid test text")
}

fn sealed(tag: &str) -> Sealed {
    Sealed { alg: "XCHACHA20POLY1305".into(), nonce: format!("nonce-{tag}"), ciphertext: format!("ciphertext-{tag}") }
}

fn malformed_sealed() -> Sealed {
    Sealed { ciphertext: String::new(), ..sealed("broken") }
}

fn fraud() -> OffenseRef {
    OffenseRef { code: "2021-209".into(), category: OffenseCategory::Fraud }
}

fn trafficking() -> OffenseRef {
    OffenseRef { code: "2021-166".into(), category: OffenseCategory::Tip }
}

fn child_trafficking() -> OffenseRef {
    OffenseRef { code: "2021-167".into(), category: OffenseCategory::Tip }
}

// ---------------------------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------------------------

fn lawyer(lawyer_id: Uuid) -> Actor {
    Actor {
        account_id: Uuid::from_u128(0x1_0000 + lawyer_id.as_u128()),
        role: Role::Lawyer,
        organization_id: None,
        lawyer_id: Some(lawyer_id),
    }
}

/// The lawyer the fixtures assign.
fn lawyer_a() -> Actor {
    lawyer(LAWYER_A)
}

/// A lawyer of the network who is not on the case.
fn lawyer_b() -> Actor {
    lawyer(LAWYER_B)
}

fn coordinator() -> Actor {
    Actor { account_id: Uuid::from_u128(0xC00), role: Role::Coordinator, organization_id: None, lawyer_id: None }
}

fn intake_worker() -> Actor {
    Actor { account_id: Uuid::from_u128(0x1AA), role: Role::IntakeWorker, organization_id: Some(ORG), lawyer_id: None }
}

fn admin() -> Actor {
    Actor::system()
}

/// Everyone who is not the assigned lawyer, including an ADMIN account that carries the
/// assigned lawyer's id (only a LAWYER account acts as a lawyer).
fn everyone_but_the_assigned_lawyer() -> Vec<Actor> {
    let admin_posing_as_lawyer_a = Actor { lawyer_id: Some(LAWYER_A), ..admin() };
    vec![lawyer_b(), coordinator(), intake_worker(), admin(), admin_posing_as_lawyer_a]
}

// ---------------------------------------------------------------------------------------------
// Given / when
// ---------------------------------------------------------------------------------------------

fn services() -> CaseServices {
    CaseServices::new(Arc::new(FixedClock(today())))
}

fn given(history: Vec<CaseEvent>) -> AggregateTestExecutor<Case> {
    TestFramework::<Case>::with(services()).given(history)
}

fn given_no_case() -> AggregateTestExecutor<Case> {
    TestFramework::<Case>::with(services()).given_no_previous_events()
}

fn by(actor: Actor, command: CaseCommand) -> Acting {
    Acting::new(actor, command)
}

fn plus(mut history: Vec<CaseEvent>, more: impl IntoIterator<Item = CaseEvent>) -> Vec<CaseEvent> {
    history.extend(more);
    history
}

// ---------------------------------------------------------------------------------------------
// Histories
// ---------------------------------------------------------------------------------------------

fn client() -> ClientProfile {
    ClientProfile {
        gender: Gender::Female,
        age_at_identification: Some(24),
        citizenship: Some(CountryCode::parse("citizenship", "KG").expect("KG")),
        region: Some(Region::Osh),
    }
}

fn intake(consent: ConsentGrant) -> OpenIntake {
    OpenIntake {
        case_id: CASE_ID,
        organization_id: ORG,
        identified_on: intake_day(),
        referral_source: ReferralSource::Hotline,
        exploitation_types: vec![ExploitationType::ForcedLabor],
        country_of_exploitation: Some(CountryCode::parse("country", "RU").expect("RU")),
        client: client(),
        identity: sealed("identity"),
        consent,
        profile: VictimProfile::default(),
        guardian_consent: None,
    }
}

fn open_intake(consent: ConsentGrant) -> CaseCommand {
    C::OpenIntake(intake(consent))
}

fn intake_opened_on(identified_on: NaiveDate, exploitation_types: Vec<ExploitationType>) -> CaseEvent {
    E::IntakeOpened {
        case_id: CASE_ID,
        organization_id: ORG,
        identified_on,
        referral_source: ReferralSource::Hotline,
        exploitation_types,
        country_of_exploitation: Some(CountryCode::parse("country", "RU").expect("RU")),
        client: client(),
        identity: sealed("identity"),
        profile: VictimProfile::default(),
        guardian_consent: None,
    }
}

/// The event [`open_intake`] produces.
fn intake_opened() -> CaseEvent {
    intake_opened_on(intake_day(), vec![ExploitationType::ForcedLabor])
}

/// A case opened with the given consent scopes recorded at intake.
fn opened_with(scopes: Vec<ConsentScope>) -> Vec<CaseEvent> {
    let mut history = vec![intake_opened()];
    if !scopes.is_empty() {
        history.push(E::ConsentGiven { scopes, given_on: intake_day() });
    }
    history
}

/// A case opened with consent to legal aid and to reporting to the police.
fn opened() -> Vec<CaseEvent> {
    opened_with(vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice])
}

fn lawyer_assigned(lawyer_id: Uuid, replaces: Option<Uuid>) -> CaseEvent {
    E::LawyerAssigned { lawyer_id, assigned_on: day(2024, 3, 5), replaces }
}

fn accepted_by(lawyer_id: Uuid) -> CaseEvent {
    E::AssignmentAccepted { lawyer_id, accepted_on: day(2024, 3, 6) }
}

/// Lawyer A is assigned and has not answered yet.
fn assigned() -> Vec<CaseEvent> {
    plus(opened(), [lawyer_assigned(LAWYER_A, None)])
}

/// Lawyer A is assigned and has accepted.
fn accepted() -> Vec<CaseEvent> {
    plus(assigned(), [accepted_by(LAWYER_A)])
}

fn declined() -> Vec<CaseEvent> {
    plus(
        assigned(),
        [E::AssignmentDeclined {
            lawyer_id: LAWYER_A,
            declined_on: day(2024, 3, 6),
            reason: text("no capacity this month"),
        }],
    )
}

fn report_filed(report_id: Uuid, filed_on: NaiveDate) -> CaseEvent {
    E::PoliceReportFiled {
        initiated_by: Default::default(),
        report_id,
        filed_on,
        police_unit: text("Oktyabrsky district police, Bishkek"),
        reference_number: Some(text("KUSP-118")),
        lawyer_id: LAWYER_A,
    }
}

/// Lawyer A has filed REPORT_1 on the filing day.
fn filed() -> Vec<CaseEvent> {
    plus(accepted(), [report_filed(REPORT_1, filing_day())])
}

fn offense_registered(report_id: Uuid, offense: OffenseRef) -> CaseEvent {
    E::OffenseRegistered {
        decided_by: Default::default(),
        report_id,
        offense,
        registered_on: day(2024, 4, 10),
        registry_number: Some(text("ERPP-2024-0412")),
    }
}

/// REPORT_1 is registered under `offense`.
fn registered_as(offense: OffenseRef) -> Vec<CaseEvent> {
    plus(filed(), [offense_registered(REPORT_1, offense)])
}

fn refused() -> Vec<CaseEvent> {
    plus(
        filed(),
        [E::RegistrationRefused {
            decided_by: Default::default(),
            report_id: REPORT_1,
            decided_on: day(2024, 4, 10),
            reason: text("no elements of a crime"),
        }],
    )
}

fn outcome_recorded(report_id: Uuid, outcome: InvestigationOutcome, decided_on: NaiveDate) -> CaseEvent {
    E::InvestigationOutcomeRecorded { decided_by: Default::default(), report_id, outcome, decided_on, note: None }
}

/// REPORT_1, registered as trafficking, has been sent to court.
fn sent_to_court() -> Vec<CaseEvent> {
    plus(
        registered_as(trafficking()),
        [outcome_recorded(REPORT_1, InvestigationOutcome::SentToCourt, day(2024, 5, 20))],
    )
}

fn verdict_recorded(report_id: Uuid, outcome: VerdictOutcome, decided_on: NaiveDate) -> CaseEvent {
    E::VerdictRecorded {
        instance: Default::default(),
        report_id,
        outcome,
        offense: None,
        decided_on,
        sentence_months: Some(96),
        compensation_awarded: Some(true),
    }
}

fn closed(history: Vec<CaseEvent>) -> Vec<CaseEvent> {
    plus(history, [E::CaseClosed { reason: text("client returned home"), closed_on: day(2024, 6, 1) }])
}

fn erased(history: Vec<CaseEvent>) -> Vec<CaseEvent> {
    plus(history, [E::ClientDataErased { reason: text("the client asked for erasure"), erased_on: day(2024, 6, 2) }])
}

// ---------------------------------------------------------------------------------------------
// Commands (each with the same details as the event builders above)
// ---------------------------------------------------------------------------------------------

fn refer(service: ProtectionService, referred_on: NaiveDate) -> CaseCommand {
    C::ReferToService(ReferToService { service, referred_on, provider: Some(text("Sezim crisis centre")) })
}

fn legal_action(taken_on: NaiveDate, note: Option<Sealed>) -> CaseCommand {
    C::RecordLegalAction(RecordLegalAction { kind: LegalActionKind::ComplaintDrafted, taken_on, note })
}

fn file_report(report_id: Uuid, filed_on: NaiveDate) -> CaseCommand {
    C::FilePoliceReport(FilePoliceReport {
        initiated_by: Default::default(),
        report_id,
        filed_on,
        police_unit: text("Oktyabrsky district police, Bishkek"),
        reference_number: Some(text("KUSP-118")),
    })
}

fn register(report_id: Uuid, offense: OffenseRef, registered_on: NaiveDate) -> CaseCommand {
    C::RecordOffenseRegistration(RecordOffenseRegistration {
        decided_by: Default::default(),
        report_id,
        offense,
        registered_on,
        registry_number: Some(text("ERPP-2024-0412")),
    })
}

fn refuse(report_id: Uuid, decided_on: NaiveDate) -> CaseCommand {
    C::RecordRegistrationRefused(RecordRegistrationRefused {
        decided_by: Default::default(),
        report_id,
        decided_on,
        reason: text("no elements of a crime"),
    })
}

fn reclassify(report_id: Uuid, offense: OffenseRef, decided_by: Authority, decided_on: NaiveDate) -> CaseCommand {
    C::ReclassifyOffense(ReclassifyOffense {
        report_id,
        offense,
        decided_on,
        decided_by,
        reason: text("exploitation, not a debt dispute"),
    })
}

fn record_outcome(report_id: Uuid, outcome: InvestigationOutcome, decided_on: NaiveDate) -> CaseCommand {
    C::RecordInvestigationOutcome(RecordInvestigationOutcome {
        decided_by: Default::default(),
        report_id,
        outcome,
        decided_on,
        note: None,
    })
}

fn record_verdict(report_id: Uuid, outcome: VerdictOutcome, decided_on: NaiveDate) -> CaseCommand {
    C::RecordVerdict(RecordVerdict {
        instance: Default::default(),
        report_id,
        outcome,
        offense: None,
        decided_on,
        sentence_months: Some(96),
        compensation_awarded: Some(true),
    })
}

fn close() -> CaseCommand {
    C::CloseCase { reason: text("client returned home"), closed_on: None }
}

fn reopen() -> CaseCommand {
    C::ReopenCase { reason: text("new evidence"), reopened_on: None }
}

fn erase() -> CaseCommand {
    C::EraseClientData { reason: text("the client asked for erasure") }
}

/// Every command except opening, reopening and erasing, each issued by someone allowed to
/// issue it on an open case with an accepted lawyer and a registered report.
fn every_ordinary_command() -> Vec<(Actor, CaseCommand)> {
    vec![
        (coordinator(), C::UpdateIdentity { identity: sealed("corrected") }),
        (intake_worker(), C::GiveConsent { scopes: vec![ConsentScope::DataSharing], given_on: today() }),
        (intake_worker(), C::WithdrawConsent { scopes: vec![ConsentScope::LegalAid], withdrawn_on: today() }),
        (intake_worker(), refer(ProtectionService::Shelter, today())),
        (coordinator(), C::AssignLawyer { lawyer_id: LAWYER_B, assigned_on: None }),
        (lawyer_a(), C::AcceptAssignment { accepted_on: None }),
        (lawyer_a(), C::DeclineAssignment { reason: text("conflict of interest"), declined_on: None }),
        (lawyer_a(), legal_action(today(), None)),
        (lawyer_a(), file_report(REPORT_2, today())),
        (lawyer_a(), register(REPORT_1, trafficking(), today())),
        (lawyer_a(), refuse(REPORT_1, today())),
        (lawyer_a(), reclassify(REPORT_1, fraud(), Authority::Police, today())),
        (lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::SentToCourt, today())),
        (lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())),
        (coordinator(), close()),
    ]
}

// ---------------------------------------------------------------------------------------------
// Intake
// ---------------------------------------------------------------------------------------------

#[test]
fn an_intake_with_consent_records_the_intake_then_the_consent() {
    given_no_case().when(by(intake_worker(), open_intake(LEGAL_AID_AND_POLICE))).then_expect_events(vec![
        intake_opened(),
        E::ConsentGiven { scopes: vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice], given_on: intake_day() },
    ]);
}

#[test]
fn an_intake_with_every_consent_records_all_three_scopes() {
    let all = ConsentGrant { legal_aid: true, report_to_police: true, data_sharing: true };
    given_no_case().when(by(intake_worker(), open_intake(all))).then_expect_events(vec![
        intake_opened(),
        E::ConsentGiven {
            scopes: vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice, ConsentScope::DataSharing],
            given_on: intake_day(),
        },
    ]);
}

#[test]
fn an_intake_without_consent_records_only_the_intake() {
    given_no_case().when(by(intake_worker(), open_intake(NO_CONSENT))).then_expect_events(vec![intake_opened()]);
}

#[test]
fn an_intake_records_each_exploitation_type_once_in_a_stable_order() {
    let mut cmd = intake(NO_CONSENT);
    cmd.exploitation_types = vec![ExploitationType::Sexual, ExploitationType::ForcedLabor, ExploitationType::Sexual];
    given_no_case().when(by(intake_worker(), C::OpenIntake(cmd))).then_expect_events(vec![intake_opened_on(
        intake_day(),
        vec![ExploitationType::ForcedLabor, ExploitationType::Sexual],
    )]);
}

#[test]
fn an_intake_identified_today_is_accepted() {
    let mut cmd = intake(NO_CONSENT);
    cmd.identified_on = today();
    given_no_case()
        .when(by(intake_worker(), C::OpenIntake(cmd)))
        .then_expect_events(vec![intake_opened_on(today(), vec![ExploitationType::ForcedLabor])]);
}

#[test]
fn an_intake_cannot_be_identified_in_the_future() {
    let mut cmd = intake(LEGAL_AID_AND_POLICE);
    cmd.identified_on = tomorrow();
    given_no_case()
        .when(by(intake_worker(), C::OpenIntake(cmd)))
        .then_expect_error(CaseError::FutureDate { field: "identifiedOn", date: tomorrow() });
}

#[test]
fn an_intake_needs_at_least_one_exploitation_type() {
    let mut cmd = intake(LEGAL_AID_AND_POLICE);
    cmd.exploitation_types = vec![];
    given_no_case().when(by(intake_worker(), C::OpenIntake(cmd))).then_expect_error(CaseError::NoExploitationType);
}

#[test]
fn an_intake_needs_a_well_formed_sealed_identity() {
    let mut cmd = intake(LEGAL_AID_AND_POLICE);
    cmd.identity = malformed_sealed();
    given_no_case().when(by(intake_worker(), C::OpenIntake(cmd))).then_expect_error(CaseError::Invalid(
        InvalidInput::Malformed { field: "client", expected: "a sealed identity" },
    ));
}

#[test]
fn a_case_cannot_be_opened_twice() {
    given(opened())
        .when(by(intake_worker(), open_intake(LEGAL_AID_AND_POLICE)))
        .then_expect_error(CaseError::AlreadyOpened);
}

#[test]
fn a_closed_case_cannot_be_opened_again() {
    given(closed(opened()))
        .when(by(intake_worker(), open_intake(LEGAL_AID_AND_POLICE)))
        .then_expect_error(CaseError::AlreadyOpened);
}

#[test]
fn a_case_that_was_never_opened_accepts_nothing_but_an_intake() {
    let mut commands = every_ordinary_command();
    commands.push((coordinator(), reopen()));
    commands.push((admin(), erase()));
    for (actor, command) in commands {
        given_no_case().when(by(actor, command)).then_expect_error(CaseError::NotOpened);
    }
}

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

#[test]
fn an_intake_worker_corrects_the_sealed_identity() {
    given(opened())
        .when(by(intake_worker(), C::UpdateIdentity { identity: sealed("corrected") }))
        .then_expect_events(vec![E::IdentityUpdated { identity: sealed("corrected") }]);
}

#[test]
fn the_accepted_lawyer_may_correct_the_identity() {
    given(accepted())
        .when(by(lawyer_a(), C::UpdateIdentity { identity: sealed("corrected") }))
        .then_expect_events(vec![E::IdentityUpdated { identity: sealed("corrected") }]);
}

#[test]
fn a_lawyer_not_assigned_cannot_update_the_identity() {
    given(accepted())
        .when(by(lawyer_b(), C::UpdateIdentity { identity: sealed("corrected") }))
        .then_expect_error(CaseError::NotAssignedLawyer);
}

#[test]
fn a_malformed_identity_update_is_refused() {
    given(opened()).when(by(intake_worker(), C::UpdateIdentity { identity: malformed_sealed() })).then_expect_error(
        CaseError::Invalid(InvalidInput::Malformed { field: "identity", expected: "a sealed envelope" }),
    );
}

#[test]
fn an_erased_case_accepts_no_identity_update() {
    for actor in [intake_worker(), coordinator(), admin()] {
        given(erased(opened()))
            .when(by(actor, C::UpdateIdentity { identity: sealed("corrected") }))
            .then_expect_error(CaseError::Erased);
    }
    given(erased(accepted()))
        .when(by(lawyer_a(), C::UpdateIdentity { identity: sealed("corrected") }))
        .then_expect_error(CaseError::Erased);
}

// ---------------------------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------------------------

#[test]
fn consent_given_later_records_only_the_scopes_not_yet_given() {
    given(opened_with(vec![ConsentScope::LegalAid]))
        .when(by(
            intake_worker(),
            C::GiveConsent {
                scopes: vec![
                    ConsentScope::DataSharing,
                    ConsentScope::LegalAid,
                    ConsentScope::ReportToPolice,
                    ConsentScope::DataSharing,
                ],
                given_on: day(2024, 3, 10),
            },
        ))
        .then_expect_events(vec![E::ConsentGiven {
            scopes: vec![ConsentScope::ReportToPolice, ConsentScope::DataSharing],
            given_on: day(2024, 3, 10),
        }]);
}

#[test]
fn giving_consent_that_is_already_given_changes_nothing() {
    given(opened())
        .when(by(intake_worker(), C::GiveConsent { scopes: vec![ConsentScope::LegalAid], given_on: today() }))
        .then_expect_error(CaseError::NothingToChange("every scope is already given"));
}

#[test]
fn giving_no_scope_at_all_changes_nothing() {
    given(opened())
        .when(by(intake_worker(), C::GiveConsent { scopes: vec![], given_on: today() }))
        .then_expect_error(CaseError::NothingToChange("every scope is already given"));
}

#[test]
fn withdrawing_consent_records_only_the_scopes_that_were_given() {
    given(opened())
        .when(by(
            intake_worker(),
            C::WithdrawConsent {
                scopes: vec![ConsentScope::DataSharing, ConsentScope::ReportToPolice],
                withdrawn_on: day(2024, 5, 1),
            },
        ))
        .then_expect_events(vec![E::ConsentWithdrawn {
            scopes: vec![ConsentScope::ReportToPolice],
            withdrawn_on: day(2024, 5, 1),
        }]);
}

#[test]
fn withdrawing_consent_that_was_never_given_changes_nothing() {
    given(opened())
        .when(by(
            intake_worker(),
            C::WithdrawConsent { scopes: vec![ConsentScope::DataSharing], withdrawn_on: today() },
        ))
        .then_expect_error(CaseError::NothingToChange("no such scope is given"));
}

#[test]
fn consent_withdrawn_can_be_given_again() {
    let history = plus(
        opened(),
        [E::ConsentWithdrawn { scopes: vec![ConsentScope::ReportToPolice], withdrawn_on: day(2024, 3, 3) }],
    );
    given(history)
        .when(by(
            intake_worker(),
            C::GiveConsent { scopes: vec![ConsentScope::ReportToPolice], given_on: day(2024, 3, 4) },
        ))
        .then_expect_events(vec![E::ConsentGiven {
            scopes: vec![ConsentScope::ReportToPolice],
            given_on: day(2024, 3, 4),
        }]);
}

#[test]
fn a_lawyer_not_assigned_cannot_record_or_withdraw_consent() {
    given(accepted())
        .when(by(lawyer_b(), C::GiveConsent { scopes: vec![ConsentScope::DataSharing], given_on: today() }))
        .then_expect_error(CaseError::NotAssignedLawyer);
    given(accepted())
        .when(by(lawyer_b(), C::WithdrawConsent { scopes: vec![ConsentScope::LegalAid], withdrawn_on: today() }))
        .then_expect_error(CaseError::NotAssignedLawyer);
}

#[test]
fn the_accepted_lawyer_records_consent_the_client_gave_them() {
    given(accepted())
        .when(by(lawyer_a(), C::GiveConsent { scopes: vec![ConsentScope::DataSharing], given_on: today() }))
        .then_expect_events(vec![E::ConsentGiven { scopes: vec![ConsentScope::DataSharing], given_on: today() }]);
}

#[test]
fn withdrawing_consent_to_report_blocks_new_police_reports() {
    let history = plus(
        accepted(),
        [E::ConsentWithdrawn { scopes: vec![ConsentScope::ReportToPolice], withdrawn_on: day(2024, 3, 20) }],
    );
    given(history)
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoConsent("reporting to the police"));
}

#[test]
fn withdrawing_consent_to_legal_aid_blocks_assigning_a_lawyer() {
    let history =
        plus(opened(), [E::ConsentWithdrawn { scopes: vec![ConsentScope::LegalAid], withdrawn_on: day(2024, 3, 2) }]);
    given(history)
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_error(CaseError::NoConsent("legal aid"));
}

// ---------------------------------------------------------------------------------------------
// Referrals to protection services (National Referral Mechanism)
// ---------------------------------------------------------------------------------------------

#[test]
fn an_intake_worker_refers_the_client_to_a_shelter() {
    given(opened()).when(by(intake_worker(), refer(ProtectionService::Shelter, intake_day()))).then_expect_events(
        vec![E::ReferredToService {
            service: ProtectionService::Shelter,
            referred_on: intake_day(),
            provider: Some(text("Sezim crisis centre")),
        }],
    );
}

#[test]
fn the_accepted_lawyer_refers_the_client_for_psychological_support() {
    given(accepted()).when(by(lawyer_a(), refer(ProtectionService::Psychological, today()))).then_expect_events(vec![
        E::ReferredToService {
            service: ProtectionService::Psychological,
            referred_on: today(),
            provider: Some(text("Sezim crisis centre")),
        },
    ]);
}

#[test]
fn a_lawyer_not_assigned_cannot_refer_the_client() {
    given(accepted())
        .when(by(lawyer_b(), refer(ProtectionService::Medical, today())))
        .then_expect_error(CaseError::NotAssignedLawyer);
}

// ---------------------------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------------------------

#[test]
fn a_coordinator_assigns_a_lawyer() {
    given(opened())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_events(vec![E::LawyerAssigned { lawyer_id: LAWYER_A, assigned_on: today(), replaces: None }]);
}

#[test]
fn no_lawyer_is_assigned_without_consent_to_legal_aid() {
    given(opened_with(vec![ConsentScope::ReportToPolice]))
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_error(CaseError::NoConsent("legal aid"));
}

#[test]
fn reassigning_the_lawyer_already_assigned_is_refused() {
    given(assigned())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_error(CaseError::AlreadyAssigned);
    given(accepted())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_error(CaseError::AlreadyAssigned);
}

#[test]
fn reassigning_an_accepted_case_records_which_lawyer_is_replaced() {
    given(accepted())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_B, assigned_on: None }))
        .then_expect_events(vec![E::LawyerAssigned {
            lawyer_id: LAWYER_B,
            assigned_on: today(),
            replaces: Some(LAWYER_A),
        }]);
}

#[test]
fn reassigning_an_unanswered_assignment_records_which_lawyer_is_replaced() {
    given(assigned())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_B, assigned_on: None }))
        .then_expect_events(vec![E::LawyerAssigned {
            lawyer_id: LAWYER_B,
            assigned_on: today(),
            replaces: Some(LAWYER_A),
        }]);
}

#[test]
fn the_assigned_lawyer_accepts_the_case() {
    given(assigned())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_events(vec![E::AssignmentAccepted { lawyer_id: LAWYER_A, accepted_on: today() }]);
}

#[test]
fn only_the_assigned_lawyer_can_accept_the_case() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(assigned())
            .when(by(actor, C::AcceptAssignment { accepted_on: None }))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn there_is_nothing_to_accept_before_a_lawyer_is_assigned() {
    given(opened())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_error(CaseError::NoLawyerAssigned);
}

#[test]
fn an_assignment_is_accepted_only_once() {
    given(accepted())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_error(CaseError::AlreadyAccepted);
}

#[test]
fn the_assigned_lawyer_declines_the_case_with_a_reason() {
    given(assigned())
        .when(by(lawyer_a(), C::DeclineAssignment { reason: text("conflict of interest"), declined_on: None }))
        .then_expect_events(vec![E::AssignmentDeclined {
            lawyer_id: LAWYER_A,
            declined_on: today(),
            reason: text("conflict of interest"),
        }]);
}

#[test]
fn only_the_assigned_lawyer_can_decline_the_case() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(assigned())
            .when(by(actor, C::DeclineAssignment { reason: text("conflict of interest"), declined_on: None }))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn there_is_nothing_to_decline_before_a_lawyer_is_assigned() {
    given(opened())
        .when(by(lawyer_a(), C::DeclineAssignment { reason: text("conflict of interest"), declined_on: None }))
        .then_expect_error(CaseError::NoLawyerAssigned);
}

#[test]
fn an_accepted_case_cannot_be_declined_any_more() {
    given(accepted())
        .when(by(lawyer_a(), C::DeclineAssignment { reason: text("conflict of interest"), declined_on: None }))
        .then_expect_error(CaseError::AlreadyAccepted);
}

#[test]
fn after_a_decline_another_lawyer_is_assigned_and_replaces_no_one() {
    // The declining lawyer never held the case, so the new assignment replaces nobody.
    given(declined())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_B, assigned_on: None }))
        .then_expect_events(vec![E::LawyerAssigned { lawyer_id: LAWYER_B, assigned_on: today(), replaces: None }]);
}

#[test]
fn after_a_decline_the_new_lawyer_accepts_and_files_a_report() {
    let reassigned = plus(declined(), [lawyer_assigned(LAWYER_B, None)]);
    given(reassigned.clone())
        .when(by(lawyer_b(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_events(vec![E::AssignmentAccepted { lawyer_id: LAWYER_B, accepted_on: today() }]);
    given(plus(reassigned, [accepted_by(LAWYER_B)]))
        .when(by(lawyer_b(), file_report(REPORT_1, filing_day())))
        .then_expect_events(vec![E::PoliceReportFiled {
            initiated_by: Default::default(),
            report_id: REPORT_1,
            filed_on: filing_day(),
            police_unit: text("Oktyabrsky district police, Bishkek"),
            reference_number: Some(text("KUSP-118")),
            lawyer_id: LAWYER_B,
        }]);
}

#[test]
fn a_lawyer_who_declined_no_longer_acts_for_the_client() {
    given(declined())
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoLawyerAssigned);
    given(declined())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_error(CaseError::NoLawyerAssigned);
}

#[test]
fn a_lawyer_who_declined_may_be_asked_again_later() {
    given(declined())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None }))
        .then_expect_events(vec![E::LawyerAssigned { lawyer_id: LAWYER_A, assigned_on: today(), replaces: None }]);
}

#[test]
fn a_replaced_lawyer_no_longer_acts_and_the_new_one_must_accept_first() {
    let reassigned = plus(accepted(), [lawyer_assigned(LAWYER_B, Some(LAWYER_A))]);
    given(reassigned.clone())
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NotAssignedLawyer);
    given(reassigned)
        .when(by(lawyer_b(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::AssignmentNotAccepted);
}

// ---------------------------------------------------------------------------------------------
// Legal actions
// ---------------------------------------------------------------------------------------------

#[test]
fn the_accepted_lawyer_records_a_legal_action_with_a_sealed_note() {
    given(accepted()).when(by(lawyer_a(), legal_action(day(2024, 3, 7), Some(sealed("note"))))).then_expect_events(
        vec![E::LegalActionRecorded {
            kind: LegalActionKind::ComplaintDrafted,
            taken_on: day(2024, 3, 7),
            note: Some(sealed("note")),
        }],
    );
}

#[test]
fn only_the_assigned_lawyer_records_legal_actions() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(accepted()).when(by(actor, legal_action(today(), None))).then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn a_lawyer_who_has_not_accepted_cannot_record_legal_actions() {
    given(assigned())
        .when(by(lawyer_a(), legal_action(today(), None)))
        .then_expect_error(CaseError::AssignmentNotAccepted);
}

#[test]
fn no_legal_action_is_recorded_without_a_lawyer() {
    given(opened()).when(by(lawyer_a(), legal_action(today(), None))).then_expect_error(CaseError::NoLawyerAssigned);
}

// ---------------------------------------------------------------------------------------------
// Police reports
// ---------------------------------------------------------------------------------------------

#[test]
fn the_accepted_lawyer_files_a_police_report_in_their_name() {
    given(accepted()).when(by(lawyer_a(), file_report(REPORT_1, filing_day()))).then_expect_events(vec![
        E::PoliceReportFiled {
            initiated_by: Default::default(),
            report_id: REPORT_1,
            filed_on: filing_day(),
            police_unit: text("Oktyabrsky district police, Bishkek"),
            reference_number: Some(text("KUSP-118")),
            lawyer_id: LAWYER_A,
        },
    ]);
}

#[test]
fn no_police_report_without_a_lawyer() {
    given(opened())
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoLawyerAssigned);
    given(opened())
        .when(by(intake_worker(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoLawyerAssigned);
}

#[test]
fn no_police_report_before_the_lawyer_accepts_the_case() {
    given(assigned())
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::AssignmentNotAccepted);
}

#[test]
fn a_lawyer_not_assigned_cannot_file_a_report() {
    given(accepted())
        .when(by(lawyer_b(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NotAssignedLawyer);
}

#[test]
fn a_coordinator_or_an_intake_worker_cannot_file_a_report() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(accepted())
            .when(by(actor, file_report(REPORT_1, filing_day())))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn no_police_report_without_consent_to_report() {
    let history =
        plus(opened_with(vec![ConsentScope::LegalAid]), [lawyer_assigned(LAWYER_A, None), accepted_by(LAWYER_A)]);
    given(history)
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoConsent("reporting to the police"));
}

#[test]
fn consent_to_report_given_after_the_intake_allows_a_report() {
    let history = plus(
        opened_with(vec![ConsentScope::LegalAid]),
        [
            lawyer_assigned(LAWYER_A, None),
            accepted_by(LAWYER_A),
            E::ConsentGiven { scopes: vec![ConsentScope::ReportToPolice], given_on: day(2024, 3, 15) },
        ],
    );
    given(history)
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_events(vec![report_filed(REPORT_1, filing_day())]);
}

#[test]
fn an_intake_with_legal_aid_consent_only_yields_no_report() {
    // The same rule reached through the intake command's own consent grant.
    let history = plus(
        vec![intake_opened()],
        CaseEvent::consent_given(intake(LEGAL_AID_ONLY).consent, intake_day())
            .into_iter()
            .chain([lawyer_assigned(LAWYER_A, None), accepted_by(LAWYER_A)]),
    );
    given(history)
        .when(by(lawyer_a(), file_report(REPORT_1, filing_day())))
        .then_expect_error(CaseError::NoConsent("reporting to the police"));
}

#[test]
fn a_report_id_is_filed_only_once() {
    given(filed())
        .when(by(lawyer_a(), file_report(REPORT_1, today())))
        .then_expect_error(CaseError::DuplicateReport(REPORT_1));
}

#[test]
fn a_case_can_have_several_police_reports() {
    given(filed())
        .when(by(lawyer_a(), file_report(REPORT_2, day(2024, 5, 2))))
        .then_expect_events(vec![report_filed(REPORT_2, day(2024, 5, 2))]);
}

#[test]
fn each_report_of_a_case_follows_its_own_course() {
    let two_reports = plus(
        registered_as(fraud()),
        [
            report_filed(REPORT_2, day(2024, 5, 2)),
            offense_registered(REPORT_2, trafficking()),
            outcome_recorded(REPORT_2, InvestigationOutcome::SentToCourt, day(2024, 5, 20)),
        ],
    );
    // The second report's course to court says nothing about the first one.
    given(two_reports.clone())
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::NotSentToCourt);
    given(two_reports.clone())
        .when(by(lawyer_a(), record_verdict(REPORT_2, VerdictOutcome::Convicted, today())))
        .then_expect_events(vec![verdict_recorded(REPORT_2, VerdictOutcome::Convicted, today())]);
    // The first report is still registered as fraud, and reclassifying it is its own affair.
    given(two_reports)
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, today())))
        .then_expect_events(vec![E::OffenseReclassified {
            report_id: REPORT_1,
            from: fraud(),
            to: trafficking(),
            decided_on: today(),
            decided_by: Authority::Prosecutor,
            reason: text("exploitation, not a debt dispute"),
        }]);
}

#[test]
fn a_second_report_is_registered_even_when_the_first_is_already() {
    let history = plus(registered_as(fraud()), [report_filed(REPORT_2, day(2024, 5, 2))]);
    given(history).when(by(lawyer_a(), register(REPORT_2, trafficking(), day(2024, 5, 3)))).then_expect_events(vec![
        E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_2,
            offense: trafficking(),
            registered_on: day(2024, 5, 3),
            registry_number: Some(text("ERPP-2024-0412")),
        },
    ]);
}

// ---------------------------------------------------------------------------------------------
// Registration or refusal
// ---------------------------------------------------------------------------------------------

#[test]
fn the_police_registration_of_a_report_is_recorded_with_its_offence() {
    given(filed()).when(by(lawyer_a(), register(REPORT_1, fraud(), day(2024, 4, 10)))).then_expect_events(vec![
        E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_1,
            offense: fraud(),
            registered_on: day(2024, 4, 10),
            registry_number: Some(text("ERPP-2024-0412")),
        },
    ]);
}

#[test]
fn a_registration_must_refer_to_an_existing_report() {
    given(filed())
        .when(by(lawyer_a(), register(NO_SUCH_REPORT, fraud(), today())))
        .then_expect_error(CaseError::UnknownReport(NO_SUCH_REPORT));
}

#[test]
fn a_report_is_registered_only_once() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), register(REPORT_1, trafficking(), today())))
        .then_expect_error(CaseError::AlreadyRegistered);
}

#[test]
fn only_the_assigned_lawyer_records_a_registration() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(filed())
            .when(by(actor, register(REPORT_1, fraud(), today())))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn a_refusal_to_register_a_report_is_recorded_with_its_reason() {
    given(filed()).when(by(lawyer_a(), refuse(REPORT_1, day(2024, 4, 10)))).then_expect_events(vec![
        E::RegistrationRefused {
            decided_by: Default::default(),
            report_id: REPORT_1,
            decided_on: day(2024, 4, 10),
            reason: text("no elements of a crime"),
        },
    ]);
}

#[test]
fn a_refusal_must_refer_to_an_existing_report() {
    given(filed())
        .when(by(lawyer_a(), refuse(NO_SUCH_REPORT, today())))
        .then_expect_error(CaseError::UnknownReport(NO_SUCH_REPORT));
}

#[test]
fn a_registered_report_cannot_be_refused_registration() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), refuse(REPORT_1, today())))
        .then_expect_error(CaseError::AlreadyRegistered);
}

#[test]
fn only_the_assigned_lawyer_records_a_refusal() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(filed()).when(by(actor, refuse(REPORT_1, today()))).then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn a_refused_report_can_be_registered_once_the_refusal_is_overturned() {
    given(refused()).when(by(lawyer_a(), register(REPORT_1, trafficking(), day(2024, 5, 15)))).then_expect_events(
        vec![E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_1,
            offense: trafficking(),
            registered_on: day(2024, 5, 15),
            registry_number: Some(text("ERPP-2024-0412")),
        }],
    );
}

#[test]
fn a_refused_report_has_no_offence_to_reclassify_or_investigate() {
    given(refused())
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, today())))
        .then_expect_error(CaseError::NotRegistered);
    given(refused())
        .when(by(lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::Terminated, today())))
        .then_expect_error(CaseError::NotRegistered);
}

// ---------------------------------------------------------------------------------------------
// Reclassification
// ---------------------------------------------------------------------------------------------

#[test]
fn a_reclassification_records_the_offence_it_replaces_and_who_decided() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, day(2024, 5, 1))))
        .then_expect_events(vec![E::OffenseReclassified {
            report_id: REPORT_1,
            from: fraud(),
            to: trafficking(),
            decided_on: day(2024, 5, 1),
            decided_by: Authority::Prosecutor,
            reason: text("exploitation, not a debt dispute"),
        }]);
}

#[test]
fn a_report_can_be_reclassified_again_from_its_current_offence() {
    let history = plus(
        registered_as(fraud()),
        [E::OffenseReclassified {
            report_id: REPORT_1,
            from: fraud(),
            to: trafficking(),
            decided_on: day(2024, 5, 1),
            decided_by: Authority::Prosecutor,
            reason: text("exploitation, not a debt dispute"),
        }],
    );
    given(history)
        .when(by(lawyer_a(), reclassify(REPORT_1, child_trafficking(), Authority::Court, day(2024, 6, 1))))
        .then_expect_events(vec![E::OffenseReclassified {
            report_id: REPORT_1,
            from: trafficking(),
            to: child_trafficking(),
            decided_on: day(2024, 6, 1),
            decided_by: Authority::Court,
            reason: text("exploitation, not a debt dispute"),
        }]);
}

#[test]
fn a_reclassification_must_change_the_offence() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), reclassify(REPORT_1, fraud(), Authority::Police, today())))
        .then_expect_error(CaseError::SameOffense);
}

#[test]
fn a_reclassification_to_the_same_code_under_another_category_changes_nothing() {
    let relabelled = OffenseRef { category: OffenseCategory::Other, ..fraud() };
    given(registered_as(fraud()))
        .when(by(lawyer_a(), reclassify(REPORT_1, relabelled, Authority::Police, today())))
        .then_expect_error(CaseError::SameOffense);
}

#[test]
fn a_reclassification_back_to_the_original_offence_is_a_change() {
    let history = plus(
        registered_as(fraud()),
        [E::OffenseReclassified {
            report_id: REPORT_1,
            from: fraud(),
            to: trafficking(),
            decided_on: day(2024, 5, 1),
            decided_by: Authority::Police,
            reason: text("exploitation, not a debt dispute"),
        }],
    );
    given(history).when(by(lawyer_a(), reclassify(REPORT_1, fraud(), Authority::Court, today()))).then_expect_events(
        vec![E::OffenseReclassified {
            report_id: REPORT_1,
            from: trafficking(),
            to: fraud(),
            decided_on: today(),
            decided_by: Authority::Court,
            reason: text("exploitation, not a debt dispute"),
        }],
    );
}

#[test]
fn a_reclassification_must_refer_to_an_existing_report() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), reclassify(NO_SUCH_REPORT, trafficking(), Authority::Police, today())))
        .then_expect_error(CaseError::UnknownReport(NO_SUCH_REPORT));
}

#[test]
fn an_unregistered_report_cannot_be_reclassified() {
    given(filed())
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Police, today())))
        .then_expect_error(CaseError::NotRegistered);
}

#[test]
fn only_the_assigned_lawyer_records_a_reclassification() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(registered_as(fraud()))
            .when(by(actor, reclassify(REPORT_1, trafficking(), Authority::Prosecutor, today())))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

// ---------------------------------------------------------------------------------------------
// Investigation outcomes and verdicts
// ---------------------------------------------------------------------------------------------

#[test]
fn an_investigation_outcome_is_recorded_for_a_registered_report() {
    given(registered_as(fraud()))
        .when(by(
            lawyer_a(),
            C::RecordInvestigationOutcome(RecordInvestigationOutcome {
                decided_by: Default::default(),
                report_id: REPORT_1,
                outcome: InvestigationOutcome::Terminated,
                decided_on: day(2024, 4, 20),
                note: Some(text("suspect not found")),
            }),
        ))
        .then_expect_events(vec![E::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: REPORT_1,
            outcome: InvestigationOutcome::Terminated,
            decided_on: day(2024, 4, 20),
            note: Some(text("suspect not found")),
        }]);
}

#[test]
fn an_unregistered_report_has_no_investigation_outcome() {
    given(filed())
        .when(by(lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::SentToCourt, today())))
        .then_expect_error(CaseError::NotRegistered);
}

#[test]
fn an_investigation_outcome_must_refer_to_an_existing_report() {
    given(registered_as(fraud()))
        .when(by(lawyer_a(), record_outcome(NO_SUCH_REPORT, InvestigationOutcome::Terminated, today())))
        .then_expect_error(CaseError::UnknownReport(NO_SUCH_REPORT));
}

#[test]
fn only_the_assigned_lawyer_records_an_investigation_outcome() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(registered_as(fraud()))
            .when(by(actor, record_outcome(REPORT_1, InvestigationOutcome::Terminated, today())))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

#[test]
fn a_verdict_is_recorded_for_a_report_sent_to_court() {
    given(sent_to_court())
        .when(by(
            lawyer_a(),
            C::RecordVerdict(RecordVerdict {
                instance: Default::default(),
                report_id: REPORT_1,
                outcome: VerdictOutcome::Convicted,
                offense: Some(child_trafficking()),
                decided_on: day(2024, 6, 10),
                sentence_months: Some(120),
                compensation_awarded: Some(false),
            }),
        ))
        .then_expect_events(vec![E::VerdictRecorded {
            instance: Default::default(),
            report_id: REPORT_1,
            outcome: VerdictOutcome::Convicted,
            offense: Some(child_trafficking()),
            decided_on: day(2024, 6, 10),
            sentence_months: Some(120),
            compensation_awarded: Some(false),
        }]);
}

#[test]
fn an_acquittal_is_a_verdict_too() {
    given(sent_to_court())
        .when(by(
            lawyer_a(),
            C::RecordVerdict(RecordVerdict {
                instance: Default::default(),
                report_id: REPORT_1,
                outcome: VerdictOutcome::Acquitted,
                offense: None,
                decided_on: today(),
                sentence_months: None,
                compensation_awarded: None,
            }),
        ))
        .then_expect_events(vec![E::VerdictRecorded {
            instance: Default::default(),
            report_id: REPORT_1,
            outcome: VerdictOutcome::Acquitted,
            offense: None,
            decided_on: today(),
            sentence_months: None,
            compensation_awarded: None,
        }]);
}

#[test]
fn a_verdict_needs_the_report_sent_to_court() {
    given(registered_as(trafficking()))
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::NotSentToCourt);
    given(filed())
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::NotSentToCourt);
}

#[test]
fn a_terminated_investigation_has_no_verdict() {
    let terminated = plus(
        registered_as(trafficking()),
        [outcome_recorded(REPORT_1, InvestigationOutcome::Terminated, day(2024, 5, 1))],
    );
    given(terminated)
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::NotSentToCourt);
}

#[test]
fn a_case_returned_from_court_for_investigation_needs_sending_to_court_again() {
    let returned = plus(
        sent_to_court(),
        [outcome_recorded(REPORT_1, InvestigationOutcome::ReturnedForInvestigation, day(2024, 6, 1))],
    );
    given(returned)
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::NotSentToCourt);
}

#[test]
fn a_verdict_is_recorded_only_once() {
    let decided = plus(sent_to_court(), [verdict_recorded(REPORT_1, VerdictOutcome::Convicted, day(2024, 6, 10))]);
    given(decided)
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Acquitted, today())))
        .then_expect_error(CaseError::VerdictAlreadyRecorded);
}

#[test]
fn a_decided_report_takes_no_further_investigation_outcome() {
    let decided = plus(sent_to_court(), [verdict_recorded(REPORT_1, VerdictOutcome::Convicted, day(2024, 6, 10))]);
    given(decided)
        .when(by(lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::ReturnedForInvestigation, today())))
        .then_expect_error(CaseError::VerdictAlreadyRecorded);
}

#[test]
fn a_verdict_must_refer_to_an_existing_report() {
    given(sent_to_court())
        .when(by(lawyer_a(), record_verdict(NO_SUCH_REPORT, VerdictOutcome::Convicted, today())))
        .then_expect_error(CaseError::UnknownReport(NO_SUCH_REPORT));
}

#[test]
fn only_the_assigned_lawyer_records_a_verdict() {
    for actor in everyone_but_the_assigned_lawyer() {
        given(sent_to_court())
            .when(by(actor, record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
            .then_expect_error(CaseError::NotAssignedLawyer);
    }
}

/// The path of the Prosecutor General's review in the report: a fraud registration whose
/// investigation was terminated is returned, re-registered as trafficking, sent to court and
/// decided.
#[test]
fn a_terminated_investigation_returned_by_the_prosecutor_can_end_in_a_conviction() {
    let mut history =
        plus(registered_as(fraud()), [outcome_recorded(REPORT_1, InvestigationOutcome::Terminated, day(2024, 4, 20))]);

    let returned = outcome_recorded(REPORT_1, InvestigationOutcome::ReturnedForInvestigation, day(2024, 5, 2));
    given(history.clone())
        .when(by(lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::ReturnedForInvestigation, day(2024, 5, 2))))
        .then_expect_events(vec![returned.clone()]);
    history.push(returned);

    let reclassified = E::OffenseReclassified {
        report_id: REPORT_1,
        from: fraud(),
        to: trafficking(),
        decided_on: day(2024, 5, 10),
        decided_by: Authority::Prosecutor,
        reason: text("exploitation, not a debt dispute"),
    };
    given(history.clone())
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, day(2024, 5, 10))))
        .then_expect_events(vec![reclassified.clone()]);
    history.push(reclassified);

    let to_court = outcome_recorded(REPORT_1, InvestigationOutcome::SentToCourt, day(2024, 5, 30));
    given(history.clone())
        .when(by(lawyer_a(), record_outcome(REPORT_1, InvestigationOutcome::SentToCourt, day(2024, 5, 30))))
        .then_expect_events(vec![to_court.clone()]);
    history.push(to_court);

    given(history)
        .when(by(lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, today())))
        .then_expect_events(vec![verdict_recorded(REPORT_1, VerdictOutcome::Convicted, today())]);
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// Each dated command with the history it needs and the name of its date field.
fn dated_commands(on: NaiveDate) -> Vec<(Vec<CaseEvent>, Actor, CaseCommand, &'static str)> {
    vec![
        (
            opened(),
            intake_worker(),
            C::GiveConsent { scopes: vec![ConsentScope::DataSharing], given_on: on },
            "givenOn",
        ),
        (
            opened(),
            intake_worker(),
            C::WithdrawConsent { scopes: vec![ConsentScope::LegalAid], withdrawn_on: on },
            "withdrawnOn",
        ),
        (opened(), intake_worker(), refer(ProtectionService::Medical, on), "referredOn"),
        (accepted(), lawyer_a(), legal_action(on, None), "takenOn"),
        (accepted(), lawyer_a(), file_report(REPORT_1, on), "filedOn"),
        (filed(), lawyer_a(), register(REPORT_1, fraud(), on), "registeredOn"),
        (filed(), lawyer_a(), refuse(REPORT_1, on), "decidedOn"),
        (registered_as(fraud()), lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Police, on), "decidedOn"),
        (
            registered_as(fraud()),
            lawyer_a(),
            record_outcome(REPORT_1, InvestigationOutcome::Terminated, on),
            "decidedOn",
        ),
        (sent_to_court(), lawyer_a(), record_verdict(REPORT_1, VerdictOutcome::Convicted, on), "decidedOn"),
    ]
}

#[test]
fn no_fact_is_dated_in_the_future() {
    for (history, actor, command, field) in dated_commands(tomorrow()) {
        given(history).when(by(actor, command)).then_expect_error(CaseError::FutureDate { field, date: tomorrow() });
    }
}

#[test]
fn no_fact_is_dated_before_the_intake() {
    for (history, actor, command, field) in dated_commands(day_before_intake()) {
        given(history).when(by(actor, command)).then_expect_error(CaseError::DateTooEarly {
            field,
            date: day_before_intake(),
            before: "the intake",
        });
    }
}

#[test]
fn no_decision_on_a_report_is_dated_before_the_report_was_filed() {
    let decisions: Vec<(Vec<CaseEvent>, CaseCommand, &'static str)> = vec![
        (filed(), register(REPORT_1, fraud(), before_filing()), "registeredOn"),
        (filed(), refuse(REPORT_1, before_filing()), "decidedOn"),
        (registered_as(fraud()), reclassify(REPORT_1, trafficking(), Authority::Police, before_filing()), "decidedOn"),
        (
            registered_as(fraud()),
            record_outcome(REPORT_1, InvestigationOutcome::Terminated, before_filing()),
            "decidedOn",
        ),
        (sent_to_court(), record_verdict(REPORT_1, VerdictOutcome::Convicted, before_filing()), "decidedOn"),
    ];
    for (history, command, field) in decisions {
        given(history).when(by(lawyer_a(), command)).then_expect_error(CaseError::DateTooEarly {
            field,
            date: before_filing(),
            before: "the report was filed",
        });
    }
}

#[test]
fn facts_dated_on_the_intake_day_or_today_are_accepted() {
    given(accepted())
        .when(by(lawyer_a(), file_report(REPORT_1, intake_day())))
        .then_expect_events(vec![report_filed(REPORT_1, intake_day())]);
    given(opened()).when(by(intake_worker(), refer(ProtectionService::Reintegration, today()))).then_expect_events(
        vec![E::ReferredToService {
            service: ProtectionService::Reintegration,
            referred_on: today(),
            provider: Some(text("Sezim crisis centre")),
        }],
    );
}

#[test]
fn a_decision_on_the_day_the_report_was_filed_is_accepted() {
    given(filed()).when(by(lawyer_a(), register(REPORT_1, trafficking(), filing_day()))).then_expect_events(vec![
        E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_1,
            offense: trafficking(),
            registered_on: filing_day(),
            registry_number: Some(text("ERPP-2024-0412")),
        },
    ]);
}

// ---------------------------------------------------------------------------------------------
// Closing and reopening
// ---------------------------------------------------------------------------------------------

#[test]
fn a_coordinator_closes_a_case_with_a_reason() {
    given(accepted())
        .when(by(coordinator(), close()))
        .then_expect_events(vec![E::CaseClosed { reason: text("client returned home"), closed_on: today() }]);
}

#[test]
fn the_accepted_lawyer_may_close_the_case() {
    given(accepted())
        .when(by(lawyer_a(), close()))
        .then_expect_events(vec![E::CaseClosed { reason: text("client returned home"), closed_on: today() }]);
}

#[test]
fn a_lawyer_not_assigned_cannot_close_or_reopen_the_case() {
    given(accepted()).when(by(lawyer_b(), close())).then_expect_error(CaseError::NotAssignedLawyer);
    given(closed(accepted())).when(by(lawyer_b(), reopen())).then_expect_error(CaseError::NotAssignedLawyer);
}

#[test]
fn a_lawyer_who_has_not_accepted_cannot_close_the_case() {
    given(assigned()).when(by(lawyer_a(), close())).then_expect_error(CaseError::AssignmentNotAccepted);
}

#[test]
fn a_closed_case_accepts_nothing_but_reopen() {
    for (actor, command) in every_ordinary_command() {
        given(closed(registered_as(fraud()))).when(by(actor, command)).then_expect_error(CaseError::Closed);
    }
}

#[test]
fn a_closed_case_is_reopened_with_a_reason() {
    given(closed(accepted()))
        .when(by(coordinator(), reopen()))
        .then_expect_events(vec![E::CaseReopened { reason: text("new evidence"), reopened_on: today() }]);
    given(closed(accepted()))
        .when(by(lawyer_a(), reopen()))
        .then_expect_events(vec![E::CaseReopened { reason: text("new evidence"), reopened_on: today() }]);
}

#[test]
fn an_open_case_cannot_be_reopened() {
    given(accepted()).when(by(coordinator(), reopen())).then_expect_error(CaseError::NotClosed);
}

#[test]
fn a_reopened_case_takes_new_facts_again() {
    let reopened =
        plus(closed(accepted()), [E::CaseReopened { reason: text("new evidence"), reopened_on: day(2024, 6, 3) }]);
    given(reopened)
        .when(by(lawyer_a(), file_report(REPORT_1, today())))
        .then_expect_events(vec![report_filed(REPORT_1, today())]);
}

// ---------------------------------------------------------------------------------------------
// Erasure
// ---------------------------------------------------------------------------------------------

#[test]
fn an_admin_erases_the_client_data() {
    given(opened()).when(by(admin(), erase())).then_expect_events(vec![E::ClientDataErased {
        reason: text("the client asked for erasure"),
        erased_on: today(),
    }]);
}

#[test]
fn the_client_data_of_a_closed_case_can_be_erased() {
    // Deliberate: a client may ask for erasure after the case is over (DESIGN.md §5).
    given(closed(accepted())).when(by(admin(), erase())).then_expect_events(vec![E::ClientDataErased {
        reason: text("the client asked for erasure"),
        erased_on: today(),
    }]);
}

#[test]
fn client_data_is_erased_only_once() {
    given(erased(opened())).when(by(admin(), erase())).then_expect_error(CaseError::AlreadyErased);
}

#[test]
fn an_erased_case_still_records_facts_that_carry_no_identity() {
    given(erased(registered_as(fraud())))
        .when(by(lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, today())))
        .then_expect_events(vec![E::OffenseReclassified {
            report_id: REPORT_1,
            from: fraud(),
            to: trafficking(),
            decided_on: today(),
            decided_by: Authority::Prosecutor,
            reason: text("exploitation, not a debt dispute"),
        }]);
    given(erased(accepted())).when(by(lawyer_a(), legal_action(today(), None))).then_expect_events(vec![
        E::LegalActionRecorded { kind: LegalActionKind::ComplaintDrafted, taken_on: today(), note: None },
    ]);
}

// ---------------------------------------------------------------------------------------------
// Known defects: these state what DESIGN.md §2 requires and fail against today's aggregate.
// ---------------------------------------------------------------------------------------------

/// §2: "an erased case accepts nothing that writes identity". A legal action's note is free
/// text about the client's situation, sealed like identity (`RecordLegalAction::note`); after
/// erasure the aggregate still accepts one and writes it into `LegalActionRecorded`.
#[test]
fn an_erased_case_accepts_no_sealed_note_about_the_client() {
    given(erased(accepted()))
        .when(by(lawyer_a(), legal_action(today(), Some(sealed("note")))))
        .then_expect_error(CaseError::Erased);
}

// ---------------------------------------------------------------------------------------------
// The codes of each era
// ---------------------------------------------------------------------------------------------

fn tip_1997() -> OffenseRef {
    OffenseRef { code: "1997-124".into(), category: OffenseCategory::Tip }
}

/// A case of 2018, entered with its own dates: REPORT_1 filed on 1 March 2018.
fn filed_in_2018() -> Vec<CaseEvent> {
    vec![
        intake_opened_on(day(2018, 1, 10), vec![ExploitationType::ForcedLabor]),
        E::ConsentGiven {
            scopes: vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice],
            given_on: day(2018, 1, 10),
        },
        E::LawyerAssigned { lawyer_id: LAWYER_A, assigned_on: day(2018, 1, 15), replaces: None },
        E::AssignmentAccepted { lawyer_id: LAWYER_A, accepted_on: day(2018, 1, 16) },
        report_filed(REPORT_1, day(2018, 3, 1)),
    ]
}

#[test]
fn an_article_of_a_code_not_yet_in_force_cannot_be_registered() {
    let err = Case::default();
    let mut case = err;
    for e in filed_in_2018() {
        case.apply(e);
    }
    let refused = case.decide(&lawyer_a(), register(REPORT_1, trafficking(), day(2018, 5, 3)), today()).unwrap_err();
    match &refused {
        CaseError::ArticleNotYetInForce { code, in_force, date, .. } => {
            assert_eq!(code, "2021-166");
            assert_eq!(*date, day(2018, 5, 3));
            assert!(in_force.contains("1997"), "names the code in force: {refused}");
        }
        other => panic!("expected the era rule, got {other:?}"),
    }
    assert!(refused.to_string().contains("1997"));
    // The 1997 Code's article of the same day is accepted.
    given(filed_in_2018()).when(by(lawyer_a(), register(REPORT_1, tip_1997(), day(2018, 5, 3)))).then_expect_events(
        vec![E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_1,
            offense: tip_1997(),
            registered_on: day(2018, 5, 3),
            registry_number: Some(text("ERPP-2024-0412")),
        }],
    );
}

#[test]
fn a_repealed_codes_article_stays_usable_and_reclassification_and_verdict_follow_the_era_rule() {
    // Today (2024) a 1997 article can still be registered: acts committed before the change.
    given(filed())
        .when(by(lawyer_a(), register(REPORT_1, tip_1997(), day(2024, 4, 10))))
        .then_expect_events(vec![offense_registered(REPORT_1, tip_1997())]);
    let history = plus(
        filed_in_2018(),
        [E::OffenseRegistered {
            decided_by: Default::default(),
            report_id: REPORT_1,
            offense: tip_1997(),
            registered_on: day(2018, 5, 3),
            registry_number: None,
        }],
    );
    let case = history.iter().cloned().fold(Case::default(), |mut c, e| {
        c.apply(e);
        c
    });
    let r =
        case.decide(&lawyer_a(), reclassify(REPORT_1, trafficking(), Authority::Prosecutor, day(2018, 9, 1)), today());
    assert!(matches!(r, Err(CaseError::ArticleNotYetInForce { .. })), "{r:?}");
    let sent = plus(history, [outcome_recorded(REPORT_1, InvestigationOutcome::SentToCourt, day(2018, 10, 1))]);
    let case = sent.iter().cloned().fold(Case::default(), |mut c, e| {
        c.apply(e);
        c
    });
    let verdict = C::RecordVerdict(RecordVerdict {
        instance: Default::default(),
        report_id: REPORT_1,
        outcome: VerdictOutcome::Convicted,
        offense: Some(OffenseRef { code: "2017-171".into(), category: OffenseCategory::Tip }),
        decided_on: day(2018, 12, 20),
        sentence_months: Some(60),
        compensation_awarded: None,
    });
    let r = case.decide(&lawyer_a(), verdict, today());
    assert!(matches!(r, Err(CaseError::ArticleNotYetInForce { ref code, .. }) if code == "2017-171"), "{r:?}");
}

// ---------------------------------------------------------------------------------------------
// Every fact has its own date
// ---------------------------------------------------------------------------------------------

#[test]
fn an_assignment_and_its_answer_take_their_own_dates() {
    given(opened())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: Some(day(2024, 3, 2)) }))
        .then_expect_events(vec![E::LawyerAssigned {
            lawyer_id: LAWYER_A,
            assigned_on: day(2024, 3, 2),
            replaces: None,
        }]);
    given(opened())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: Some(tomorrow()) }))
        .then_expect_error(CaseError::FutureDate { field: "assignedOn", date: tomorrow() });
    given(opened())
        .when(by(coordinator(), C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: Some(day_before_intake()) }))
        .then_expect_error(CaseError::DateTooEarly {
            field: "assignedOn",
            date: day_before_intake(),
            before: "the intake",
        });
    given(assigned())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: Some(day(2024, 3, 9)) }))
        .then_expect_events(vec![E::AssignmentAccepted { lawyer_id: LAWYER_A, accepted_on: day(2024, 3, 9) }]);
    given(assigned())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: Some(day(2024, 3, 4)) }))
        .then_expect_error(CaseError::DateTooEarly {
            field: "acceptedOn",
            date: day(2024, 3, 4),
            before: "the assignment",
        });
    given(assigned())
        .when(by(lawyer_a(), C::DeclineAssignment { reason: text("conflict"), declined_on: Some(day(2024, 3, 7)) }))
        .then_expect_events(vec![E::AssignmentDeclined {
            lawyer_id: LAWYER_A,
            declined_on: day(2024, 3, 7),
            reason: text("conflict"),
        }]);
    // Without a date the fact is today's.
    given(assigned())
        .when(by(lawyer_a(), C::AcceptAssignment { accepted_on: None }))
        .then_expect_events(vec![E::AssignmentAccepted { lawyer_id: LAWYER_A, accepted_on: today() }]);
}

#[test]
fn closing_and_reopening_take_their_own_dates() {
    given(accepted())
        .when(by(lawyer_a(), C::CloseCase { reason: text("done"), closed_on: Some(day(2024, 5, 1)) }))
        .then_expect_events(vec![E::CaseClosed { reason: text("done"), closed_on: day(2024, 5, 1) }]);
    given(accepted())
        .when(by(lawyer_a(), C::CloseCase { reason: text("done"), closed_on: Some(tomorrow()) }))
        .then_expect_error(CaseError::FutureDate { field: "closedOn", date: tomorrow() });
    given(closed(accepted()))
        .when(by(lawyer_a(), C::ReopenCase { reason: text("new facts"), reopened_on: Some(day(2024, 5, 1)) }))
        .then_expect_error(CaseError::DateTooEarly {
            field: "reopenedOn",
            date: day(2024, 5, 1),
            before: "the case was closed",
        });
    given(closed(accepted()))
        .when(by(lawyer_a(), C::ReopenCase { reason: text("new facts"), reopened_on: Some(day(2024, 6, 3)) }))
        .then_expect_events(vec![E::CaseReopened { reason: text("new facts"), reopened_on: day(2024, 6, 3) }]);
}

// ---------------------------------------------------------------------------------------------
// Defendants
// ---------------------------------------------------------------------------------------------

const DEFENDANT: Uuid = Uuid::from_u128(0xDEF);

fn add_defendant(charged_with: Option<OffenseRef>, charged_on: Option<NaiveDate>) -> CaseCommand {
    C::AddDefendant(AddDefendant {
        report_id: REPORT_1,
        defendant_id: DEFENDANT,
        gender: Gender::Male,
        age_at_offense: Some(41),
        citizenship: Some(CountryCode::parse("c", "KG").unwrap()),
        role: DefendantRole::Recruiter,
        charged_with,
        charged_on,
        relationship: None,
    })
}

fn defendant_added(on: NaiveDate) -> CaseEvent {
    E::DefendantAdded {
        report_id: REPORT_1,
        defendant_id: DEFENDANT,
        gender: Gender::Male,
        age_at_offense: Some(41),
        citizenship: Some(CountryCode::parse("c", "KG").unwrap()),
        role: DefendantRole::Recruiter,
        charged_with: Some(trafficking()),
        added_on: on,
        relationship: None,
    }
}

fn defendant_verdict(outcome: VerdictOutcome) -> CaseCommand {
    C::RecordDefendantVerdict(RecordDefendantVerdict {
        report_id: REPORT_1,
        defendant_id: DEFENDANT,
        outcome,
        offense: None,
        decided_on: day(2024, 6, 1),
        sentence_months: Some(84),
    })
}

#[test]
fn the_lawyer_adds_a_charged_defendant_to_a_report() {
    given(registered_as(trafficking()))
        .when(by(lawyer_a(), add_defendant(Some(trafficking()), Some(day(2024, 4, 20)))))
        .then_expect_events(vec![defendant_added(day(2024, 4, 20))]);
    given(plus(registered_as(trafficking()), [defendant_added(day(2024, 4, 20))]))
        .when(by(lawyer_a(), add_defendant(Some(trafficking()), None)))
        .then_expect_error(CaseError::DuplicateDefendant(DEFENDANT));
    given(accepted())
        .when(by(lawyer_a(), add_defendant(None, None)))
        .then_expect_error(CaseError::UnknownReport(REPORT_1));
    for actor in everyone_but_the_assigned_lawyer() {
        let r = Case::default();
        let case = registered_as(trafficking()).into_iter().fold(r, |mut c, e| {
            c.apply(e);
            c
        });
        assert!(case.decide(&actor, add_defendant(None, None), today()).is_err());
    }
    given(registered_as(trafficking()))
        .when(by(lawyer_a(), add_defendant(Some(trafficking()), Some(before_filing()))))
        .then_expect_error(CaseError::DateTooEarly {
            field: "chargedOn",
            date: before_filing(),
            before: "the report was filed",
        });
}

#[test]
fn a_defendants_relationship_to_the_client_is_recorded_when_known() {
    let employer = match add_defendant(Some(trafficking()), Some(day(2024, 4, 20))) {
        C::AddDefendant(d) => {
            C::AddDefendant(AddDefendant { relationship: Some(DefendantRelationship::Employer), ..d })
        }
        _ => unreachable!(),
    };
    let recorded = match defendant_added(day(2024, 4, 20)) {
        E::DefendantAdded {
            report_id,
            defendant_id,
            gender,
            age_at_offense,
            citizenship,
            role,
            charged_with,
            added_on,
            ..
        } => E::DefendantAdded {
            report_id,
            defendant_id,
            gender,
            age_at_offense,
            citizenship,
            role,
            charged_with,
            added_on,
            relationship: Some(DefendantRelationship::Employer),
        },
        _ => unreachable!(),
    };
    given(registered_as(trafficking())).when(by(lawyer_a(), employer)).then_expect_events(vec![recorded.clone()]);
    // Stored with it when known; without it, a payload as before the field existed, which
    // reads back as "not known".
    let with = serde_json::to_value(&recorded).unwrap();
    assert_eq!(with["DefendantAdded"]["relationship"], "EMPLOYER");
    let without = serde_json::to_value(defendant_added(day(2024, 4, 20))).unwrap();
    assert!(without["DefendantAdded"].get("relationship").is_none(), "{without}");
    let read: CaseEvent = serde_json::from_value(without).unwrap();
    assert_eq!(read, defendant_added(day(2024, 4, 20)));
    assert!("NEIGHBOUR".parse::<DefendantRelationship>().is_err());
}

#[test]
fn a_charge_follows_the_era_rule() {
    let case = filed_in_2018().into_iter().fold(Case::default(), |mut c, e| {
        c.apply(e);
        c
    });
    let r = case.decide(&lawyer_a(), add_defendant(Some(trafficking()), Some(day(2018, 4, 1))), today());
    assert!(matches!(r, Err(CaseError::ArticleNotYetInForce { .. })), "{r:?}");
    assert!(case.decide(&lawyer_a(), add_defendant(Some(tip_1997()), Some(day(2018, 4, 1))), today()).is_ok());
}

#[test]
fn each_defendant_gets_one_verdict_once_the_report_is_in_court() {
    given(plus(registered_as(trafficking()), [defendant_added(day(2024, 4, 20))]))
        .when(by(lawyer_a(), defendant_verdict(VerdictOutcome::Convicted)))
        .then_expect_error(CaseError::NotSentToCourt);
    let in_court = plus(sent_to_court(), [defendant_added(day(2024, 4, 20))]);
    given(in_court.clone()).when(by(lawyer_a(), defendant_verdict(VerdictOutcome::Convicted))).then_expect_events(
        vec![E::DefendantVerdictRecorded {
            report_id: REPORT_1,
            defendant_id: DEFENDANT,
            outcome: VerdictOutcome::Convicted,
            offense: None,
            decided_on: day(2024, 6, 1),
            sentence_months: Some(84),
        }],
    );
    let decided = plus(
        in_court,
        [E::DefendantVerdictRecorded {
            report_id: REPORT_1,
            defendant_id: DEFENDANT,
            outcome: VerdictOutcome::Convicted,
            offense: None,
            decided_on: day(2024, 6, 1),
            sentence_months: Some(84),
        }],
    );
    given(decided)
        .when(by(lawyer_a(), defendant_verdict(VerdictOutcome::Acquitted)))
        .then_expect_error(CaseError::DefendantVerdictAlreadyRecorded);
    given(sent_to_court())
        .when(by(lawyer_a(), defendant_verdict(VerdictOutcome::Convicted)))
        .then_expect_error(CaseError::UnknownDefendant(DEFENDANT));
}

// ---------------------------------------------------------------------------------------------
// Compensation
// ---------------------------------------------------------------------------------------------

fn kgs() -> CurrencyCode {
    CurrencyCode::parse("currency", "kgs").unwrap()
}

fn compensation(step: CompensationStep, amount: u64, on: NaiveDate) -> CaseCommand {
    C::RecordCompensation(RecordCompensation { report_id: REPORT_1, step, amount, currency: kgs(), on })
}

fn claimed() -> Vec<CaseEvent> {
    plus(
        sent_to_court(),
        [E::CompensationClaimed {
            report_id: REPORT_1,
            amount: 500_000,
            currency: kgs(),
            claimed_on: day(2024, 4, 20),
        }],
    )
}

fn awarded() -> Vec<CaseEvent> {
    plus(
        claimed(),
        [E::CompensationAwarded { report_id: REPORT_1, amount: 300_000, currency: kgs(), awarded_on: day(2024, 6, 1) }],
    )
}

#[test]
fn compensation_is_claimed_then_awarded_then_paid_in_parts() {
    given(sent_to_court())
        .when(by(lawyer_a(), compensation(CompensationStep::Claimed, 500_000, day(2024, 4, 20))))
        .then_expect_events(vec![E::CompensationClaimed {
            report_id: REPORT_1,
            amount: 500_000,
            currency: kgs(),
            claimed_on: day(2024, 4, 20),
        }]);
    given(claimed())
        .when(by(lawyer_a(), compensation(CompensationStep::Awarded, 300_000, day(2024, 6, 1))))
        .then_expect_events(vec![E::CompensationAwarded {
            report_id: REPORT_1,
            amount: 300_000,
            currency: kgs(),
            awarded_on: day(2024, 6, 1),
        }]);
    given(awarded())
        .when(by(lawyer_a(), compensation(CompensationStep::Paid, 100_000, day(2024, 6, 10))))
        .then_expect_events(vec![E::CompensationPaid {
            report_id: REPORT_1,
            amount: 100_000,
            currency: kgs(),
            paid_on: day(2024, 6, 10),
        }]);
}

#[test]
fn compensation_refuses_steps_out_of_order_and_amounts_that_do_not_add_up() {
    given(sent_to_court())
        .when(by(lawyer_a(), compensation(CompensationStep::Awarded, 1, day(2024, 6, 1))))
        .then_expect_error(CaseError::NoCompensationClaim);
    given(claimed())
        .when(by(lawyer_a(), compensation(CompensationStep::Paid, 1, day(2024, 6, 1))))
        .then_expect_error(CaseError::NoCompensationAward);
    given(claimed())
        .when(by(lawyer_a(), compensation(CompensationStep::Claimed, 1, day(2024, 6, 1))))
        .then_expect_error(CaseError::CompensationAlreadyRecorded("claimed"));
    given(awarded())
        .when(by(lawyer_a(), compensation(CompensationStep::Paid, 300_001, day(2024, 6, 10))))
        .then_expect_error(CaseError::OverPaid { paid: 300_001, awarded: 300_000 });
    given(awarded())
        .when(by(lawyer_a(), compensation(CompensationStep::Paid, 0, day(2024, 6, 10))))
        .then_expect_error(CaseError::ZeroAmount);
    given(claimed())
        .when(by(lawyer_a(), compensation(CompensationStep::Awarded, 1, day(2024, 4, 19))))
        .then_expect_error(CaseError::DateTooEarly { field: "awardedOn", date: day(2024, 4, 19), before: "the claim" });
    let rub = CurrencyCode::parse("currency", "RUB").unwrap();
    given(claimed())
        .when(by(
            lawyer_a(),
            C::RecordCompensation(RecordCompensation {
                report_id: REPORT_1,
                step: CompensationStep::Awarded,
                amount: 1,
                currency: rub,
                on: day(2024, 6, 1),
            }),
        ))
        .then_expect_error(CaseError::CurrencyMismatch { claimed: "KGS".into(), given: "RUB".into() });
    given(sent_to_court())
        .when(by(lawyer_b(), compensation(CompensationStep::Claimed, 1, day(2024, 6, 1))))
        .then_expect_error(CaseError::NotAssignedLawyer);
}

// ---- the HTCDS profile and a guardian's consent for a minor

fn minor_intake(consent: ConsentGrant, guardian: Option<GuardianConsent>) -> OpenIntake {
    let mut i = intake(consent);
    i.client.age_at_identification = Some(15);
    i.guardian_consent = guardian;
    i
}

fn minor_opened(guardian: Option<GuardianConsent>) -> CaseEvent {
    match intake_opened_on(intake_day(), vec![ExploitationType::ForcedLabor]) {
        E::IntakeOpened {
            case_id,
            organization_id,
            identified_on,
            referral_source,
            exploitation_types,
            country_of_exploitation,
            mut client,
            identity,
            profile,
            ..
        } => {
            client.age_at_identification = Some(15);
            E::IntakeOpened {
                case_id,
                organization_id,
                identified_on,
                referral_source,
                exploitation_types,
                country_of_exploitation,
                client,
                identity,
                profile,
                guardian_consent: guardian,
            }
        }
        other => other,
    }
}

fn parent_on(d: NaiveDate) -> GuardianConsent {
    GuardianConsent { given_by: GuardianKind::Parent, given_on: d }
}

const LEGAL_AID: ConsentGrant = ConsentGrant { legal_aid: true, report_to_police: false, data_sharing: false };

#[test]
fn a_minor_cannot_consent_to_legal_aid_alone_at_intake() {
    let err = Case::default().decide(&intake_worker(), C::OpenIntake(minor_intake(LEGAL_AID, None)), today());
    assert_eq!(err, Err(CaseError::GuardianConsentRequired));
}

#[test]
fn a_minor_with_a_guardians_consent_opens_with_legal_aid_consent() {
    let g = parent_on(intake_day());
    let events = Case::default()
        .decide(&intake_worker(), C::OpenIntake(minor_intake(LEGAL_AID, Some(g))), today())
        .expect("opens");
    assert!(matches!(&events[0], E::IntakeOpened { guardian_consent: Some(x), .. } if *x == g));
    assert!(matches!(&events[1], E::ConsentGiven { scopes, .. } if scopes == &vec![ConsentScope::LegalAid]));
}

#[test]
fn a_guardians_consent_is_refused_for_an_adult() {
    let mut i = intake(LEGAL_AID);
    i.guardian_consent = Some(parent_on(intake_day()));
    assert_eq!(Case::default().decide(&intake_worker(), C::OpenIntake(i), today()), Err(CaseError::NotAMinor));
    let mut case = Case::default();
    case.apply(intake_opened_on(intake_day(), vec![ExploitationType::ForcedLabor]));
    let r = case.decide(&intake_worker(), C::RecordGuardianConsent(parent_on(intake_day())), today());
    assert_eq!(r, Err(CaseError::NotAMinor));
}

#[test]
fn a_minors_legal_aid_consent_later_needs_the_guardian_first() {
    let mut case = Case::default();
    case.apply(minor_opened(None));
    let give = C::GiveConsent { scopes: vec![ConsentScope::LegalAid], given_on: intake_day() };
    assert_eq!(case.decide(&intake_worker(), give.clone(), today()), Err(CaseError::GuardianConsentRequired));
    // Other scopes are the minor's own to give.
    let police = C::GiveConsent { scopes: vec![ConsentScope::DataSharing], given_on: intake_day() };
    assert!(case.decide(&intake_worker(), police, today()).is_ok());
    let g =
        case.decide(&intake_worker(), C::RecordGuardianConsent(parent_on(intake_day())), today()).expect("guardian");
    assert_eq!(g, vec![E::GuardianConsentRecorded { consent: parent_on(intake_day()) }]);
    for e in g {
        case.apply(e);
    }
    assert!(case.decide(&intake_worker(), give, today()).is_ok());
}

#[test]
fn a_minors_lawyer_needs_the_guardians_consent_even_on_an_old_intake() {
    // A version-1 intake of a minor with legal-aid consent and no guardian recorded.
    let mut case = Case::default();
    case.apply(minor_opened(None));
    case.apply(E::ConsentGiven { scopes: vec![ConsentScope::LegalAid], given_on: intake_day() });
    let assign = C::AssignLawyer { lawyer_id: LAWYER_A, assigned_on: None };
    assert_eq!(case.decide(&coordinator(), assign.clone(), today()), Err(CaseError::GuardianConsentRequired));
    case.apply(E::GuardianConsentRecorded { consent: parent_on(intake_day()) });
    assert!(case.decide(&coordinator(), assign, today()).is_ok());
}

#[test]
fn a_victim_profile_is_recorded_sorted_and_replaces_the_last() {
    let mut case = Case::default();
    case.apply(intake_opened_on(intake_day(), vec![ExploitationType::ForcedLabor]));
    let profile = VictimProfile {
        means_of_control: vec![MeansOfControl::Threats, MeansOfControl::DebtBondage, MeansOfControl::Threats],
        industry: Some(IsicSection::F),
        ..Default::default()
    };
    let events = case
        .decide(&intake_worker(), C::RecordVictimProfile { profile, recorded_on: None }, today())
        .expect("recorded");
    let E::VictimProfileRecorded { profile, recorded_on } = &events[0] else { panic!("{events:?}") };
    assert_eq!(profile.means_of_control, vec![MeansOfControl::DebtBondage, MeansOfControl::Threats]);
    assert_eq!(*recorded_on, today());
    let future =
        C::RecordVictimProfile { profile: VictimProfile::default(), recorded_on: Some(today().succ_opt().unwrap()) };
    assert!(matches!(case.decide(&intake_worker(), future, today()), Err(CaseError::FutureDate { .. })));
}
