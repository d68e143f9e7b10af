//! `probono demo seed`: a deterministic, realistic data set shaped like the situation the
//! UNODC project report describes — an NGO, crisis centres, a legal clinic and the Bar
//! Association; a network of 33 pro bono lawyers (14 professional, 19 students; 24 women,
//! 9 men); cases identified from 2016 to 2021, mostly labour exploitation in Russia,
//! Kazakhstan, Turkey, the UAE and South Korea; most police reports registered as fraud or
//! refused; a prosecutor's review in 2020–2021 that returns terminated cases, some of which
//! are re-registered as trafficking and reach court.
//!
//! Every step is an application use case run as the demo user who would take it (the
//! intake worker opens, the coordinator assigns, the lawyer files), so the access policy,
//! every invariant, the sealing of identities (all fictitious) and the audit metadata are
//! exactly those of real use. Ids are derived from a counter, so a second run finds the
//! data present and does nothing.
//!
//! Each registration uses an article of the code in force on its date (the era rule refuses
//! anything else). Fraud is verified in the catalogue only for the 2021 Code (art. 209); the
//! fraud articles of the 1997 and 2017 Codes are not verified (docs/offense-catalogue.md),
//! so the seed adds, as the ADMIN would, one placeholder entry per code, `1997-FRAUD` and
//! `2017-FRAUD`, titled as unverified and naming no article number. A real installation
//! adds the verified articles with `addOffense` instead. Reports in court get defendants,
//! each with their own verdict; convictions that award compensation record the claim (made
//! at registration), the award and a first part paid.

use crate::access::Principal;
use crate::app::accounts::NewAccount;
use crate::app::cases::{
    ClientInput, DefendantInput, DefendantVerdictInput, IdentityInput, InvestigationOutcomeInput, LegalActionInput,
    OpenIntakeInput, PoliceReportInput, ProfileInput, ReclassificationInput, RefusalInput, RegistrationInput,
    VerdictInput,
};
use crate::app::catalogue::NewOffense;
use crate::app::lawyers::RegisterLawyerInput;
use crate::app::{App, Caller};
use crate::error::ApiError;
use chrono::{Duration, NaiveDate};
use domain::case as dc;
use domain::values::*;
use domain::{Clock, ManualClock};
use std::sync::Arc;
use uuid::Uuid;

mod stories;

/// What the seed wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    pub organizations: usize,
    pub lawyers: usize,
    pub cases: usize,
    pub police_reports: usize,
    /// Official figures from the seed report, beside the ledger's own.
    pub published_figures: usize,
    pub already_present: bool,
    /// The web app's demo users: (role, username, password), the passwords shown once.
    pub users: Vec<(Role, String, String)>,
}

/// SplitMix64: a tiny generator whose sequence never changes between builds.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `p` percent.
    fn pct(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn days(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::days(lo + self.below((hi - lo + 1) as u64) as i64)
    }
}

/// The demo's ids: `KKNNNNNN-de30-4000-8000-000000000000` (kind, number), version-4 and
/// variant bits set, `de30` marking demo data. The kind and number lead, so the case
/// references people read (the id's first eight hex digits) differ from case to case.
const BASE: u128 = 0x0000_0000_DE30_4000_8000_0000_0000_0000;

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(BASE | (((kind << 24) | (n & 0xFF_FFFF)) << 96))
}

/// A demo user, acting as themselves.
fn as_user(account_id: Uuid, name: &str, role: Role, org: Option<Uuid>, lawyer: Option<Uuid>) -> Caller {
    let principal = Principal {
        account_id,
        name: name.to_string(),
        role,
        organization_id: org,
        lawyer_id: lawyer,
        token_id: Uuid::nil(),
        approved: true,
    };
    Caller::new(principal, "demo-seed")
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
}

const FIRST: &[&str] = &[
    "Aigul", "Bakyt", "Cholpon", "Dinara", "Elmira", "Gulnara", "Jyldyz", "Kanat", "Meerim", "Nurlan", "Saltanat",
    "Talant", "Aizada", "Baktygul", "Asel", "Erlan",
];
const LAST: &[&str] = &[
    "Abdyraeva",
    "Bekova",
    "Chynybaeva",
    "Duishenova",
    "Esenalieva",
    "Jumabaeva",
    "Kasymova",
    "Mamatova",
    "Osmonova",
    "Sadykova",
    "Toktosunova",
    "Usenova",
];

/// Seeds the database behind `app` (opened with `clock`). Returns what it wrote.
pub async fn seed(app: &Arc<App>, clock: &ManualClock) -> Result<SeedSummary, ApiError> {
    seed_with(app, clock, false).await
}

/// [`seed`], refusing a ledger that holds cases the demo did not create (real ones, perhaps)
/// unless `force`: demo people and demo passwords must never mix into a real ledger.
pub async fn seed_with(app: &Arc<App>, clock: &ManualClock, force: bool) -> Result<SeedSummary, ApiError> {
    let first_org = id(1, 0);
    if app.organization(first_org).await?.is_some() {
        return Ok(SeedSummary { already_present: true, ..Default::default() });
    }
    let system = Caller::system("demo-seed");
    let existing = app.cases(&system, Default::default(), 1, None).await?;
    if !existing.cases.is_empty() && !force {
        return Err(ApiError::Rule(
            "this database already holds cases the demo did not create; demo data and demo passwords would mix into \
             them. Seed an empty database (e.g. --database-url sqlite://data/demo.db), or pass --force if these cases \
             are test data"
                .into(),
        ));
    }
    // Boxed: the seed's future is large, and a test thread's stack is not.
    let mut summary = Box::pin(seed_all(app, clock)).await?;
    summary.users = seed_users(app, &system).await?;
    Ok(summary)
}

/// A password nobody else has: 96 random bits, printed once by the seed.
fn demo_password() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("demo-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Web users for one demo account of every role.
async fn seed_users(app: &Arc<App>, system: &Caller) -> Result<Vec<(Role, String, String)>, ApiError> {
    // The demo administrator (id(2, 12)) was created with the other accounts.
    let people = [
        (Role::IntakeWorker, id(2, 0), "demo-intake"),
        (Role::Coordinator, id(2, 10), "demo-coordinator"),
        (Role::Lawyer, id(4, 0), "demo-lawyer"),
        (Role::Auditor, id(2, 11), "demo-auditor"),
        (Role::Admin, id(2, 12), "demo-admin"),
    ];
    let mut out = vec![];
    for (role, account, username) in people {
        let password = demo_password();
        app.add_user(system, account, username, &password).await?;
        out.push((role, username.to_string(), password));
    }
    Ok(out)
}

/// The demo's people, as callers.
struct Cast {
    intake: Vec<Caller>,
    coordinator: Caller,
    lawyers: Vec<Caller>,
}

/// Creates a demo account; one that can read identity is approved by `approver`, a second
/// person as the rules ask.
#[allow(clippy::too_many_arguments)]
async fn create_account(
    app: &App,
    system: &Caller,
    approver: Option<&Caller>,
    account_id: Uuid,
    name: &str,
    role: Role,
    org: Option<Uuid>,
    lawyer: Option<Uuid>,
) -> Result<Caller, ApiError> {
    let input = NewAccount {
        account_id: Some(account_id),
        name: name.to_string(),
        role,
        organization_id: org,
        lawyer_id: lawyer,
        expires_at: None,
    };
    Box::pin(app.create_account(system, input)).await?;
    if let Some(approver) = approver.filter(|_| role.reads_identity()) {
        Box::pin(app.approve_account(approver, account_id)).await?;
    }
    Ok(as_user(account_id, name, role, org, lawyer))
}

async fn seed_all(app: &Arc<App>, clock: &ManualClock) -> Result<SeedSummary, ApiError> {
    let mut rng = Rng(20_161_201);
    let mut summary = SeedSummary::default();
    let system = Caller::system("demo-seed");
    // The day the seed runs: the scripted stories' hearings lie ahead of it.
    let started_on = clock.today();
    clock.set(d(2016, 1, 11));

    // Organisations.
    let orgs: [(&str, OrganizationKind); 5] = [
        ("Oasis Public Foundation (demo)", OrganizationKind::Ngo),
        ("Bishkek Crisis Centre (demo)", OrganizationKind::CrisisCenter),
        ("Osh Crisis Centre (demo)", OrganizationKind::CrisisCenter),
        ("University Legal Clinic (demo)", OrganizationKind::LegalClinic),
        ("Bar Association (demo)", OrganizationKind::BarAssociation),
    ];
    for (i, (name, kind)) in orgs.iter().enumerate() {
        app.register_organization(&system, Some(id(1, i as u128)), name, *kind).await?;
        summary.organizations += 1;
    }

    // Placeholders for the fraud articles not verified (see the module's documentation).
    Box::pin(add_fraud_placeholders(app, &system)).await?;

    // Accounts: an administrator (who approves the accounts that read identity), an intake
    // worker for each NGO / crisis centre, a coordinator, an auditor.
    let admin = create_account(app, &system, None, id(2, 12), "Administrator (demo)", Role::Admin, None, None).await?;
    let mut intake = vec![];
    for i in 0..3u128 {
        let name = format!("Intake worker {} (demo)", i + 1);
        let org = Some(id(1, i));
        intake.push(create_account(app, &system, Some(&admin), id(2, i), &name, Role::IntakeWorker, org, None).await?);
    }
    let name = "Pro bono coordinator (demo)";
    let coordinator =
        create_account(app, &system, Some(&admin), id(2, 10), name, Role::Coordinator, Some(id(1, 4)), None).await?;
    let auditor =
        create_account(app, &system, None, id(2, 11), "Bar Association auditor (demo)", Role::Auditor, None, None)
            .await?;

    // The network: 14 professionals and 19 students; 24 women and 9 men.
    let regions = [
        Region::Bishkek,
        Region::Bishkek,
        Region::OshCity,
        Region::Chui,
        Region::Osh,
        Region::JalalAbad,
        Region::Batken,
        Region::IssykKul,
        Region::Naryn,
        Region::Talas,
    ];
    let mut lawyers = vec![];
    for i in 0..33u128 {
        let lawyer_id = id(3, i);
        let status = if i < 14 { LawyerStatus::Professional } else { LawyerStatus::Student };
        let gender = if i % 11 < 8 { Gender::Female } else { Gender::Male };
        let region = regions[i as usize % regions.len()];
        let input = RegisterLawyerInput {
            lawyer_id: Some(lawyer_id),
            full_name: format!("{} {} (demo)", rng.pick(FIRST), rng.pick(LAST)),
            gender,
            status,
            region,
            languages: vec!["ky".into(), "ru".into()],
            license_number: (status == LawyerStatus::Professional).then(|| format!("DEMO-{:04}", 100 + i)),
        };
        app.register_lawyer(&coordinator, input).await?;
        if rng.pct(70) {
            let course = "Trafficking in persons: identification and legal aid";
            app.record_lawyer_training(&coordinator, lawyer_id, course, d(2016, 1, 10)).await?;
        }
        let name = format!("Lawyer account {} (demo)", i + 1);
        let account =
            create_account(app, &system, Some(&coordinator), id(4, i), &name, Role::Lawyer, None, Some(lawyer_id));
        lawyers.push(account.await?);
        summary.lawyers += 1;
    }

    // Cases, 2016 to 2021, in date order of identification.
    let cast = Cast { intake, coordinator, lawyers };
    let mut plans: Vec<NaiveDate> = (0..180).map(|_| d(2016 + rng.below(6) as i32, 1, 1) + rng.days(0, 364)).collect();
    plans.sort();
    for (n, identified_on) in plans.into_iter().enumerate() {
        let seeded = Box::pin(async { seed_case(app, clock, &mut rng, n as u128, identified_on, &cast).await }).await?;
        summary.police_reports += seeded;
        summary.cases += 1;
    }
    let (cases, reports) = Box::pin(stories::seed(app, clock, &cast, started_on)).await?;
    summary.cases += cases;
    summary.police_reports += reports;
    summary.published_figures = Box::pin(seed_published_figures(app, &auditor)).await?;
    Ok(summary)
}

/// Where the seed report prints the official series.
const REPORT: &str = "UNODC, Final report: Strengthening the criminal justice response to trafficking in persons in \
                      the Kyrgyz Republic, section \"Key TIP trends during project implementation\"";

/// The official series the seed report prints for 2016–2021 (section "Key TIP trends during
/// project implementation", the three tables after "have slight discrepancies"); `None` is
/// the report's "-" (no figure). The three "registered TIP cases" rows have no "-"; the
/// other rows of the same tables do, and are loaded too so that "no data" shows as such.
const SERIES: &[(&str, &str, &str, [Option<i64>; 6])] = &[
    (
        "National Statistics Committee",
        "table \"NSC data (web/public-n)\"",
        "registered TIP cases",
        [Some(7), Some(2), Some(8), Some(11), Some(8), Some(6)],
    ),
    (
        "MOI/GPO",
        "table \"MOI/GPO data\"",
        "registered TIP cases",
        [Some(7), Some(4), Some(8), Some(9), Some(7), Some(9)],
    ),
    (
        "US TIP Report",
        "table \"US TIP Report\"",
        "registered TIP cases",
        [Some(8), Some(4), Some(10), Some(8), Some(40), Some(6)],
    ),
    (
        "National Statistics Committee",
        "table \"NSC data (web/public-n)\"",
        "prosecuted cases",
        [Some(13), Some(5), Some(3), None, None, None],
    ),
    ("MOI/GPO", "table \"MOI/GPO data\"", "prosecuted cases", [None, Some(5), Some(10), Some(9), Some(9), None]),
    (
        "US TIP Report",
        "table \"US TIP Report\"",
        "prosecuted cases",
        [Some(5), Some(7), Some(8), Some(11), Some(3), None],
    ),
];

/// Records [`SERIES`] as the demo auditor; returns how many figures it recorded.
async fn seed_published_figures(app: &App, auditor: &Caller) -> Result<usize, ApiError> {
    let mut n = 0;
    for (source, table, indicator, values) in SERIES {
        for (i, value) in values.iter().enumerate() {
            let input = crate::app::figures::NewFigure {
                source: source.to_string(),
                citation: format!("{REPORT}, {table}"),
                indicator: indicator.to_string(),
                year: 2016 + i as i32,
                value: *value,
            };
            app.record_published_figure(auditor, input).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// The code in force on a date: 1997 to 2018, 2017 from 1 January 2019, 2021 from the
/// date of that code (its day of entry into force is not verified).
fn era(on: NaiveDate) -> &'static str {
    if on < d(2019, 1, 1) {
        "1997"
    } else if on < d(2021, 10, 28) {
        "2017"
    } else {
        "2021"
    }
}

/// Trafficking, in the article of the code in force on a date.
fn tip_code(on: NaiveDate, labour: bool) -> &'static str {
    match era(on) {
        "1997" => "1997-124",
        "2017" if labour => "2017-173",
        "2017" => "2017-171",
        _ => "2021-166",
    }
}

/// A TIP-related offence of the code in force; the 2017 Code's are not verified, so a
/// report of that era is registered as fraud (the pattern the report describes anyway).
fn tip_related_code(on: NaiveDate) -> (&'static str, OffenseCategory) {
    match era(on) {
        "1997" => ("1997-125", OffenseCategory::TipRelated),
        "2017" => ("2017-FRAUD", OffenseCategory::Fraud),
        _ => ("2021-159", OffenseCategory::TipRelated),
    }
}

/// Fraud, in the code in force on a date (placeholders where the article is not verified).
fn fraud_code(on: NaiveDate) -> &'static str {
    match era(on) {
        "1997" => "1997-FRAUD",
        "2017" => "2017-FRAUD",
        _ => "2021-209",
    }
}

async fn seed_case(
    app: &App,
    clock: &ManualClock,
    rng: &mut Rng,
    n: u128,
    identified_on: NaiveDate,
    cast: &Cast,
) -> Result<usize, ApiError> {
    let case_id = id(5, n);
    let intake = rng.pick(&cast.intake).clone();
    let organization_id = intake.principal.organization_id.unwrap_or(case_id);
    let exploitation = match rng.below(100) {
        0..=69 => vec![ExploitationType::ForcedLabor],
        70..=84 => vec![ExploitationType::Sexual],
        85..=89 => vec![ExploitationType::ForcedLabor, ExploitationType::Sexual],
        90..=94 => vec![ExploitationType::ForcedMarriage],
        _ => vec![ExploitationType::ForcedBegging],
    };
    let labour = exploitation.contains(&ExploitationType::ForcedLabor);
    let country = if exploitation == [ExploitationType::ForcedMarriage] {
        "KG"
    } else if labour {
        *rng.pick(&["RU", "RU", "RU", "KZ", "KZ", "TR", "KR"])
    } else {
        *rng.pick(&["AE", "AE", "TR", "RU", "KZ"])
    };
    let age = if rng.pct(12) { 14 + rng.below(4) as i64 } else { 18 + rng.below(35) as i64 };
    let gender =
        if exploitation.contains(&ExploitationType::Sexual) || exploitation == [ExploitationType::ForcedMarriage] {
            Gender::Female
        } else if rng.pct(60) {
            Gender::Male
        } else {
            Gender::Female
        };
    let region = *rng.pick(Region::ALL);
    let consent = dc::ConsentGrant { legal_aid: rng.pct(85), report_to_police: rng.pct(65), data_sharing: rng.pct(50) };

    clock.set(identified_on + rng.days(0, 5));
    let referral_source = *rng.pick(&[
        ReferralSource::Hotline,
        ReferralSource::NgoOutreach,
        ReferralSource::NgoOutreach,
        ReferralSource::Iom,
        ReferralSource::Police,
        ReferralSource::SelfReferral,
    ]);
    let exploitation_kinds = exploitation.clone();
    let open = OpenIntakeInput {
        case_id: Some(case_id),
        organization_id: Some(organization_id),
        identified_on,
        referral_source,
        exploitation_types: exploitation,
        country_of_exploitation: Some(country.into()),
        client: ClientInput {
            gender,
            age_at_identification: Some(age),
            citizenship: Some("KG".into()),
            region: Some(region),
        },
        identity: IdentityInput {
            full_name: format!("Demo Client {:04}", n + 1),
            narrative: Some("Fictitious record of the demonstration data set.".into()),
            ..Default::default()
        },
        consent,
        profile: demo_profile(rng, &exploitation_kinds, region),
        // Every minor of the demonstration has a parent's (or an authority's) consent, so
        // their legal-aid consent takes effect.
        guardian_consent: (age < 18).then(|| dc::GuardianConsent {
            given_by: if rng.pct(80) { GuardianKind::Parent } else { GuardianKind::GuardianshipAuthority },
            given_on: identified_on,
        }),
    };
    Box::pin(async { app.open_intake(&intake, open).await }).await?;
    if rng.pct(30) {
        clock.set(identified_on + rng.days(3, 20));
        let service = *rng.pick(&[
            ProtectionService::Shelter,
            ProtectionService::Medical,
            ProtectionService::Psychological,
            ProtectionService::Reintegration,
        ]);
        Box::pin(async { app.refer_to_service(&intake, case_id, service, clock.today(), None).await }).await?;
    }
    if !consent.legal_aid || !rng.pct(92) {
        return Ok(0);
    }

    // Assignment, sometimes declined and reassigned.
    let coordinator = &cast.coordinator;
    let lawyer_id = |c: &Caller| c.principal.lawyer_id.unwrap_or(case_id);
    let mut day = identified_on + rng.days(5, 30);
    clock.set(day);
    let mut lawyer = rng.pick(&cast.lawyers).clone();
    Box::pin(async { app.assign_lawyer(coordinator, case_id, lawyer_id(&lawyer), None).await }).await?;
    if rng.pct(10) {
        Box::pin(async { app.decline_assignment(&lawyer, case_id, "workload", None).await }).await?;
        let other = rng.pick(&cast.lawyers).clone();
        lawyer = if other.principal.lawyer_id == lawyer.principal.lawyer_id {
            cast.lawyers[(n as usize + 1) % cast.lawyers.len()].clone()
        } else {
            other
        };
        Box::pin(async { app.assign_lawyer(coordinator, case_id, lawyer_id(&lawyer), None).await }).await?;
    }
    day += rng.days(1, 7);
    clock.set(day);
    Box::pin(async { app.accept_assignment(&lawyer, case_id, None).await }).await?;
    day += rng.days(1, 20);
    clock.set(day);
    let consultation = LegalActionInput { kind: LegalActionKind::Consultation, taken_on: day, note: None };
    Box::pin(async { app.record_legal_action(&lawyer, case_id, consultation).await }).await?;
    if !consent.report_to_police {
        return Ok(0);
    }

    // The police report and what the police made of it.
    let report_id = id(6, n);
    let filed_on = day + rng.days(3, 40);
    clock.set(filed_on);
    let police_unit = format!("{} police department (demo)", region.as_str().replace('_', " ").to_lowercase());
    let report = PoliceReportInput {
        initiated_by: Default::default(),
        report_id: Some(report_id),
        filed_on,
        police_unit,
        reference_number: None,
    };
    Box::pin(async { app.file_police_report(&lawyer, case_id, report).await }).await?;
    let decided = filed_on + rng.days(3, 30);
    clock.set(decided);
    let roll = rng.below(100);
    let registered = match roll {
        0..=21 => {
            let reason = "no elements of a crime found by the police".to_string();
            let refusal = RefusalInput { decided_by: Default::default(), report_id, decided_on: decided, reason };
            Box::pin(async { app.record_registration_refused(&lawyer, case_id, refusal).await }).await?;
            None
        }
        22..=66 => Some((fraud_code(decided), OffenseCategory::Fraud)),
        67..=79 => Some(tip_related_code(decided)),
        _ => Some((tip_code(decided, labour), OffenseCategory::Tip)),
    };
    let Some((code, category)) = registered else { return Ok(1) };
    let registration = RegistrationInput {
        decided_by: Default::default(),
        report_id,
        offense_code: code.into(),
        registered_on: decided,
        registry_number: None,
    };
    Box::pin(async { app.record_offense_registration(&lawyer, case_id, registration).await }).await?;

    // Investigation: fraud cases are mostly terminated; the prosecutor's review of 2020-21
    // returns some, and some of those are re-registered as trafficking.
    let mut day = decided + rng.days(30, 200);
    let first = match category {
        OffenseCategory::Tip if rng.pct(55) => InvestigationOutcome::SentToCourt,
        OffenseCategory::TipRelated if rng.pct(40) => InvestigationOutcome::SentToCourt,
        _ if rng.pct(20) => InvestigationOutcome::SentToCourt,
        _ => InvestigationOutcome::Terminated,
    };
    clock.set(day);
    let step = |outcome, decided_on, note: Option<&str>| InvestigationOutcomeInput {
        decided_by: Default::default(),
        report_id,
        outcome,
        decided_on,
        note: note.map(str::to_string),
    };
    Box::pin(async { app.record_investigation_outcome(&lawyer, case_id, step(first, day, None)).await }).await?;
    let mut in_court = first == InvestigationOutcome::SentToCourt;
    let mut current = code.to_string();
    if !in_court && category != OffenseCategory::Tip && rng.pct(30) {
        let review = d(2020, 6, 1).max(day) + rng.days(10, 300);
        clock.set(review);
        let note = Some("returned after the Prosecutor General's review");
        let returned = step(InvestigationOutcome::ReturnedForInvestigation, review, note);
        Box::pin(async { app.record_investigation_outcome(&lawyer, case_id, returned).await }).await?;
        day = review;
        if rng.pct(60) {
            day += rng.days(10, 90);
            clock.set(day);
            current = tip_code(day, labour).to_string();
            let change = ReclassificationInput {
                report_id,
                offense_code: current.clone(),
                decided_on: day,
                decided_by: Authority::Prosecutor,
                reason: "recruitment, transfer and exploitation established on review".into(),
            };
            Box::pin(async { app.reclassify_offense(&lawyer, case_id, change).await }).await?;
            if rng.pct(60) {
                day += rng.days(20, 120);
                clock.set(day);
                let sent = step(InvestigationOutcome::SentToCourt, day, None);
                Box::pin(async { app.record_investigation_outcome(&lawyer, case_id, sent).await }).await?;
                in_court = true;
            }
        }
    }
    // The accused persons of a report in court: one to three, mostly men. (Helpers keep
    // this function's stack frame small: a debug build reserves room for every call.)
    let defendants = if in_court {
        Box::pin(async { seed_defendants(app, rng, n, case_id, report_id, &current, day, &lawyer).await }).await?
    } else {
        vec![]
    };
    if in_court && rng.pct(85) {
        day += rng.days(30, 250);
        clock.set(day);
        let outcome = match rng.below(100) {
            0..=59 => VerdictOutcome::Convicted,
            60..=79 => VerdictOutcome::Acquitted,
            _ => VerdictOutcome::Dismissed,
        };
        let sentence_months = (outcome == VerdictOutcome::Convicted).then(|| 36 + rng.below(96) as i64);
        let compensation_awarded = rng.pct(20);
        let verdict = VerdictInput {
            instance: Default::default(),
            report_id,
            outcome,
            offense_code: None,
            decided_on: day,
            sentence_months,
            compensation_awarded: Some(compensation_awarded),
        };
        Box::pin(async { app.record_verdict(&lawyer, case_id, verdict).await }).await?;
        Box::pin(async {
            seed_defendant_verdicts(app, rng, case_id, report_id, &defendants, outcome, day, &lawyer).await
        })
        .await?;
        if compensation_awarded && outcome == VerdictOutcome::Convicted {
            Box::pin(async { seed_compensation(app, rng, case_id, report_id, decided, day, &lawyer).await }).await?;
        }
    }
    if rng.pct(50) {
        clock.set(day + rng.days(10, 60));
        let reason = if in_court { "proceedings completed" } else { "no further legal avenue" };
        Box::pin(async { app.close_case(&lawyer, case_id, reason, None).await }).await?;
    }
    Ok(1)
}

/// One to three defendants on a report in court, charged under its current article.
#[allow(clippy::too_many_arguments)]
async fn seed_defendants(
    app: &App,
    rng: &mut Rng,
    n: u128,
    case_id: Uuid,
    report_id: Uuid,
    current: &str,
    day: NaiveDate,
    lawyer: &Caller,
) -> Result<Vec<Uuid>, ApiError> {
    let mut defendants = vec![];
    for k in 0..1 + rng.below(3) {
        let gender = if rng.pct(62) { Gender::Male } else { Gender::Female };
        let role = *rng.pick(&[
            DefendantRole::Recruiter,
            DefendantRole::Recruiter,
            DefendantRole::Transporter,
            DefendantRole::Exploiter,
            DefendantRole::Organiser,
        ]);
        let defendant_id = id(7, n * 4 + u128::from(k));
        let input = DefendantInput {
            report_id,
            defendant_id: Some(defendant_id),
            gender,
            age_at_offense: Some(22 + rng.below(40) as i64),
            citizenship: Some("KG".into()),
            role,
            charged_with: Some(current.to_string()),
            charged_on: Some(day),
            relationship: None,
        };
        app.add_defendant(lawyer, case_id, input).await?;
        defendants.push(defendant_id);
    }
    Ok(defendants)
}

/// Each defendant's own verdict: mostly the report's, some acquitted where others are not.
#[allow(clippy::too_many_arguments)]
async fn seed_defendant_verdicts(
    app: &App,
    rng: &mut Rng,
    case_id: Uuid,
    report_id: Uuid,
    defendants: &[Uuid],
    outcome: VerdictOutcome,
    day: NaiveDate,
    lawyer: &Caller,
) -> Result<(), ApiError> {
    for defendant_id in defendants {
        let own = if outcome == VerdictOutcome::Convicted && rng.pct(15) { VerdictOutcome::Acquitted } else { outcome };
        let input = DefendantVerdictInput {
            report_id,
            defendant_id: *defendant_id,
            outcome: own,
            offense_code: None,
            decided_on: day,
            sentence_months: (own == VerdictOutcome::Convicted).then(|| 36 + rng.below(96) as i64),
        };
        app.record_defendant_verdict(lawyer, case_id, input).await?;
    }
    Ok(())
}

/// `1997-FRAUD` and `2017-FRAUD`: demo entries for fraud articles whose numbers are not
/// verified; they name no article number.
async fn add_fraud_placeholders(app: &App, system: &Caller) -> Result<(), ApiError> {
    for edition in ["1997", "2017"] {
        if app.offense(&format!("{edition}-FRAUD")).await?.is_some() {
            continue;
        }
        let placeholder = NewOffense {
            edition: edition.into(),
            article: "FRAUD".into(),
            title: "Fraud (demo placeholder: the article number is not verified)".into(),
            title_ru: Some("Мошенничество".into()),
            title_ky: None,
            category: OffenseCategory::Fraud,
            source: "Demo data only: no verified source for this code's fraud article; an ADMIN adds the verified \
                     article with addOffense (docs/offense-catalogue.md)"
                .into(),
        };
        app.add_offense(system, placeholder).await?;
    }
    Ok(())
}

/// The client's claim (made at registration), the court's award with the verdict, and a
/// first part paid the same day.
async fn seed_compensation(
    app: &App,
    rng: &mut Rng,
    case_id: Uuid,
    report_id: Uuid,
    claimed_on: NaiveDate,
    verdict_on: NaiveDate,
    lawyer: &Caller,
) -> Result<(), ApiError> {
    use crate::app::cases::CompensationInput;
    use domain::values::CompensationStep as S;
    let claimed = 100_000 * (1 + rng.below(20) as i64);
    let awarded = claimed / 100 * (40 + rng.below(61) as i64);
    let step = |step, amount, on| CompensationInput { report_id, step, amount, currency: "KGS".into(), on: Some(on) };
    app.record_compensation(lawyer, case_id, step(S::Claimed, claimed, claimed_on)).await?;
    app.record_compensation(lawyer, case_id, step(S::Awarded, awarded, verdict_on)).await?;
    app.record_compensation(lawyer, case_id, step(S::Paid, awarded / 4, verdict_on)).await?;
    Ok(())
}

/// A profile for the IOM data standard for about six cases in ten; empty for the others
/// (asked at intake only from some point on, as in a real organisation).
fn demo_profile(rng: &mut Rng, exploitation: &[ExploitationType], region: Region) -> ProfileInput {
    if !rng.pct(60) {
        return ProfileInput::default();
    }
    let labour = exploitation.contains(&ExploitationType::ForcedLabor);
    let mut means =
        vec![*rng.pick(&[MeansOfControl::WithholdsDocuments, MeansOfControl::TakesEarnings, MeansOfControl::Threats])];
    if rng.pct(40) {
        means.push(*rng.pick(&[
            MeansOfControl::DebtBondage,
            MeansOfControl::RestrictsMovement,
            MeansOfControl::ExcessiveWorkingHours,
        ]));
    }
    ProfileInput {
        recruitment: vec![*rng.pick(&[
            RecruitmentMethod::JobOffer,
            RecruitmentMethod::JobOffer,
            RecruitmentMethod::Online,
            RecruitmentMethod::Agency,
        ])],
        means_of_control: means,
        recruiter_relationship: Some(*rng.pick(&[
            RecruiterRelationship::Friend,
            RecruiterRelationship::Family,
            RecruiterRelationship::Other,
        ])),
        industry: labour
            .then(|| *rng.pick(&[IsicSection::F, IsicSection::A, IsicSection::C, IsicSection::I, IsicSection::T])),
        place_of_recruitment: Some(if rng.pct(85) { region.as_str().to_string() } else { "UZ".to_string() }),
        migration_status: Some(*rng.pick(&[MigrationStatus::RegularMigrant, MigrationStatus::IrregularMigrant])),
        primary_language: Some(if rng.pct(70) { "ky".to_string() } else { "ru".to_string() }),
    }
}
