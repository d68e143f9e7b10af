//! Three scripted cases of the demo lawyer (`demo-lawyer`), so the proceedings show on their
//! screens: a trafficking case under the 2021 Code in court, with a hearing held and the next
//! one postponed to a day a few days after the seed runs (it shows under "What is due this
//! week"), a compensation claim and two accused persons; a labour-trafficking case under the
//! 2017 Code whose acquittal was appealed, with the appeal instance's conviction now in force
//! and the compensation it awarded partly paid; and a 1997-era report the police refused to
//! register, with the complaint to the prosecutor upheld.
//!
//! "Today" for these stories is the day the seed runs, but never before 15 January 2025 (so
//! a seed run with a clock set in the past, as the tests do, still has every fact after the
//! one before it).

use super::{d, id, Cast};
use crate::app::cases::{
    ClientInput, CompensationInput, DefendantInput, DefendantVerdictInput, IdentityInput, InvestigationOutcomeInput,
    OpenIntakeInput, PoliceReportInput, RefusalInput, RegistrationInput, VerdictInput,
};
use crate::app::proceedings::{AppealInput, ComplaintInput, HearingInput, PostponementInput};
use crate::app::{App, Caller};
use crate::error::ApiError;
use chrono::{Days, NaiveDate};
use domain::case as dc;
use domain::values::*;
use domain::ManualClock;
use uuid::Uuid;

/// The first number of the stories' cases (the random cases use 0 to 179).
const FIRST: u128 = 1000;

fn plus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_add_days(Days::new(n)).unwrap_or(day)
}

fn minus(day: NaiveDate, n: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(n)).unwrap_or(day)
}

/// Seeds the stories; returns (cases, police reports) written.
pub(super) async fn seed(
    app: &App,
    clock: &ManualClock,
    cast: &Cast,
    started_on: NaiveDate,
) -> Result<(usize, usize), ApiError> {
    let today = started_on.max(d(2025, 1, 15));
    let lawyer = &cast.lawyers[0];
    Box::pin(in_court_with_a_hearing_ahead(app, clock, cast, lawyer, today)).await?;
    Box::pin(appealed_acquittal(app, clock, cast, lawyer)).await?;
    Box::pin(refusal_complained_of(app, clock, cast, lawyer)).await?;
    clock.set(today);
    Ok((3, 3))
}

/// Opens case `FIRST + k`, assigns it to `lawyer`, who accepts, and files its report.
#[allow(clippy::too_many_arguments)]
async fn open_and_report(
    app: &App,
    clock: &ManualClock,
    cast: &Cast,
    lawyer: &Caller,
    k: u128,
    identified_on: NaiveDate,
    exploitation: ExploitationType,
    country: &str,
    gender: Gender,
    filed_on: NaiveDate,
) -> Result<(Uuid, Uuid), ApiError> {
    let case_id = id(5, FIRST + k);
    let report_id = id(6, FIRST + k);
    let intake = &cast.intake[0];
    clock.set(identified_on);
    let open = OpenIntakeInput {
        case_id: Some(case_id),
        organization_id: intake.principal.organization_id,
        identified_on,
        referral_source: ReferralSource::NgoOutreach,
        exploitation_types: vec![exploitation],
        country_of_exploitation: Some(country.into()),
        client: ClientInput {
            gender,
            age_at_identification: Some(27),
            citizenship: Some("KG".into()),
            region: Some(Region::Osh),
        },
        identity: IdentityInput {
            full_name: format!("Demo Client S{}", k + 1),
            narrative: Some("Fictitious record of the demonstration data set.".into()),
            ..Default::default()
        },
        consent: dc::ConsentGrant { legal_aid: true, report_to_police: true, data_sharing: true },
        profile: Default::default(),
        guardian_consent: None,
    };
    Box::pin(app.open_intake(intake, open)).await?;
    let lawyer_id = lawyer.principal.lawyer_id.unwrap_or(case_id);
    clock.set(plus(identified_on, 5));
    Box::pin(app.assign_lawyer(&cast.coordinator, case_id, lawyer_id, None)).await?;
    clock.set(plus(identified_on, 7));
    Box::pin(app.accept_assignment(lawyer, case_id, None)).await?;
    clock.set(filed_on);
    let report = PoliceReportInput {
        initiated_by: Some(ReportInitiator::Lawyer),
        report_id: Some(report_id),
        filed_on,
        police_unit: "Osh city police department (demo)".into(),
        reference_number: None,
    };
    Box::pin(app.file_police_report(lawyer, case_id, report)).await?;
    Ok((case_id, report_id))
}

async fn register(
    app: &App,
    clock: &ManualClock,
    lawyer: &Caller,
    ids: (Uuid, Uuid),
    code: &str,
    on: NaiveDate,
) -> Result<(), ApiError> {
    clock.set(on);
    let (case_id, report_id) = ids;
    let input = RegistrationInput {
        decided_by: Some(Authority::Police),
        report_id,
        offense_code: code.into(),
        registered_on: on,
        registry_number: None,
    };
    Box::pin(app.record_offense_registration(lawyer, case_id, input)).await?;
    Ok(())
}

async fn sent_to_court(
    app: &App,
    clock: &ManualClock,
    lawyer: &Caller,
    ids: (Uuid, Uuid),
    on: NaiveDate,
) -> Result<(), ApiError> {
    clock.set(on);
    let (case_id, report_id) = ids;
    let input = InvestigationOutcomeInput {
        decided_by: Some(Authority::Prosecutor),
        report_id,
        outcome: InvestigationOutcome::SentToCourt,
        decided_on: on,
        note: None,
    };
    Box::pin(app.record_investigation_outcome(lawyer, case_id, input)).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn defendant(
    app: &App,
    lawyer: &Caller,
    ids: (Uuid, Uuid),
    n: u128,
    gender: Gender,
    age: i64,
    role: DefendantRole,
    code: &str,
    on: NaiveDate,
) -> Result<Uuid, ApiError> {
    let (case_id, report_id) = ids;
    let defendant_id = id(7, 4 * FIRST + n);
    let input = DefendantInput {
        report_id,
        defendant_id: Some(defendant_id),
        gender,
        age_at_offense: Some(age),
        citizenship: Some("KG".into()),
        role,
        charged_with: Some(code.into()),
        charged_on: Some(on),
        // The scripted recruiters were people the client knew, as in most of the report's cases.
        relationship: (role == DefendantRole::Recruiter).then_some(DefendantRelationship::Acquaintance),
    };
    Box::pin(app.add_defendant(lawyer, case_id, input)).await?;
    Ok(defendant_id)
}

async fn hearing(
    app: &App,
    lawyer: &Caller,
    ids: (Uuid, Uuid),
    n: u128,
    on: NaiveDate,
    instance: CourtInstance,
) -> Result<Uuid, ApiError> {
    let (case_id, report_id) = ids;
    let hearing_id = id(8, FIRST + n);
    let court = match instance {
        CourtInstance::FirstInstance => "Osh City Court (demo)",
        CourtInstance::Appeal => "Osh Regional Court (demo)",
        CourtInstance::Cassation => "Supreme Court (demo)",
    };
    let input = HearingInput { report_id, hearing_id: Some(hearing_id), on, court: court.into(), instance };
    Box::pin(app.schedule_hearing(lawyer, case_id, input)).await?;
    Ok(hearing_id)
}

async fn compensation(
    app: &App,
    clock: &ManualClock,
    lawyer: &Caller,
    ids: (Uuid, Uuid),
    step: CompensationStep,
    amount: i64,
    on: NaiveDate,
) -> Result<(), ApiError> {
    clock.set(on);
    let (case_id, report_id) = ids;
    let input = CompensationInput { report_id, step, amount, currency: "KGS".into(), on: Some(on) };
    Box::pin(app.record_compensation(lawyer, case_id, input)).await?;
    Ok(())
}

/// 2021 Code, art. 166: in court; a hearing held, the next postponed to three days ahead.
async fn in_court_with_a_hearing_ahead(
    app: &App,
    clock: &ManualClock,
    cast: &Cast,
    lawyer: &Caller,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let ids = open_and_report(
        app,
        clock,
        cast,
        lawyer,
        0,
        d(2023, 2, 10),
        ExploitationType::ForcedLabor,
        "RU",
        Gender::Male,
        d(2023, 3, 1),
    )
    .await?;
    register(app, clock, lawyer, ids, "2021-166", d(2023, 3, 10)).await?;
    compensation(app, clock, lawyer, ids, CompensationStep::Claimed, 500_000, d(2023, 3, 10)).await?;
    sent_to_court(app, clock, lawyer, ids, d(2023, 9, 1)).await?;
    defendant(app, lawyer, ids, 0, Gender::Male, 41, DefendantRole::Organiser, "2021-166", d(2023, 9, 1)).await?;
    defendant(app, lawyer, ids, 1, Gender::Female, 35, DefendantRole::Recruiter, "2021-166", d(2023, 9, 1)).await?;
    clock.set(d(2023, 10, 5));
    let first = hearing(app, lawyer, ids, 0, d(2023, 10, 5), CourtInstance::FirstInstance).await?;
    Box::pin(app.record_hearing_held(lawyer, ids.0, ids.1, first)).await?;
    // The next hearing was set for ten days ago; that day the court moved it to three days ahead.
    let set_for = minus(today, 10);
    clock.set(minus(today, 40));
    let next = hearing(app, lawyer, ids, 1, set_for, CourtInstance::FirstInstance).await?;
    clock.set(set_for);
    let postponement = PostponementInput {
        report_id: ids.1,
        hearing_id: next,
        to: plus(today, 3),
        postponed_on: Some(set_for),
        reason: Some("a defendant's counsel did not appear".into()),
    };
    Box::pin(app.postpone_hearing(lawyer, ids.0, postponement)).await?;
    Ok(())
}

/// 2017 Code, art. 173: acquitted at first instance, appealed, convicted on appeal (the
/// verdict in force); the award partly paid.
async fn appealed_acquittal(app: &App, clock: &ManualClock, cast: &Cast, lawyer: &Caller) -> Result<(), ApiError> {
    let ids = open_and_report(
        app,
        clock,
        cast,
        lawyer,
        1,
        d(2019, 4, 2),
        ExploitationType::ForcedLabor,
        "KZ",
        Gender::Female,
        d(2019, 5, 6),
    )
    .await?;
    register(app, clock, lawyer, ids, "2017-173", d(2019, 5, 20)).await?;
    compensation(app, clock, lawyer, ids, CompensationStep::Claimed, 400_000, d(2019, 6, 1)).await?;
    sent_to_court(app, clock, lawyer, ids, d(2019, 11, 1)).await?;
    let accused =
        defendant(app, lawyer, ids, 2, Gender::Male, 38, DefendantRole::Recruiter, "2017-173", d(2019, 11, 1)).await?;
    clock.set(d(2020, 3, 10));
    let first = hearing(app, lawyer, ids, 2, d(2020, 3, 10), CourtInstance::FirstInstance).await?;
    Box::pin(app.record_hearing_held(lawyer, ids.0, ids.1, first)).await?;
    let verdict = |instance, outcome, on, months| VerdictInput {
        instance: Some(instance),
        report_id: ids.1,
        outcome,
        offense_code: None,
        decided_on: on,
        sentence_months: months,
        compensation_awarded: Some(outcome == VerdictOutcome::Convicted),
    };
    let acquittal = verdict(CourtInstance::FirstInstance, VerdictOutcome::Acquitted, d(2020, 3, 10), None);
    Box::pin(app.record_verdict(lawyer, ids.0, acquittal)).await?;
    clock.set(d(2020, 3, 20));
    let appeal = AppealInput {
        report_id: ids.1,
        appeal_id: Some(id(9, FIRST)),
        instance: CourtInstance::Appeal,
        filed_on: None,
    };
    Box::pin(app.file_appeal(lawyer, ids.0, appeal)).await?;
    clock.set(d(2020, 6, 1));
    let second = hearing(app, lawyer, ids, 3, d(2020, 6, 1), CourtInstance::Appeal).await?;
    Box::pin(app.record_hearing_held(lawyer, ids.0, ids.1, second)).await?;
    let conviction = verdict(CourtInstance::Appeal, VerdictOutcome::Convicted, d(2020, 6, 1), Some(60));
    Box::pin(app.record_verdict(lawyer, ids.0, conviction)).await?;
    let own = DefendantVerdictInput {
        report_id: ids.1,
        defendant_id: accused,
        outcome: VerdictOutcome::Convicted,
        offense_code: None,
        decided_on: d(2020, 6, 1),
        sentence_months: Some(60),
    };
    Box::pin(app.record_defendant_verdict(lawyer, ids.0, own)).await?;
    compensation(app, clock, lawyer, ids, CompensationStep::Awarded, 300_000, d(2020, 6, 1)).await?;
    compensation(app, clock, lawyer, ids, CompensationStep::Paid, 100_000, d(2020, 9, 1)).await?;
    Ok(())
}

/// 1997 Code era: the police refused to register the report; the complaint to the
/// prosecutor was upheld.
async fn refusal_complained_of(app: &App, clock: &ManualClock, cast: &Cast, lawyer: &Caller) -> Result<(), ApiError> {
    let ids = open_and_report(
        app,
        clock,
        cast,
        lawyer,
        2,
        d(2017, 6, 12),
        ExploitationType::Sexual,
        "AE",
        Gender::Female,
        d(2017, 7, 3),
    )
    .await?;
    clock.set(d(2017, 7, 20));
    let refusal = RefusalInput {
        decided_by: Some(Authority::Police),
        report_id: ids.1,
        decided_on: d(2017, 7, 20),
        reason: "no elements of a crime found by the police".into(),
    };
    Box::pin(app.record_registration_refused(lawyer, ids.0, refusal)).await?;
    clock.set(d(2017, 8, 1));
    let complaint = ComplaintInput {
        report_id: ids.1,
        complaint_id: Some(id(9, FIRST + 1)),
        against: ComplaintSubject::RefusalToRegister,
        filed_with: ComplaintAddressee::Prosecutor,
        filed_on: None,
    };
    Box::pin(app.file_complaint(lawyer, ids.0, complaint)).await?;
    clock.set(d(2017, 8, 25));
    let decided = app.decide_complaint(lawyer, ids.0, ids.1, id(9, FIRST + 1), ComplaintOutcome::Upheld, None);
    Box::pin(decided).await?;
    Ok(())
}
