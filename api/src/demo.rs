//! `probono demo seed`: a deterministic, realistic data set shaped like the situation the
//! UNODC project report describes — an NGO, crisis centres, a legal clinic and the Bar
//! Association; a network of 33 pro bono lawyers (14 professional, 19 students; 24 women,
//! 9 men); cases identified from 2016 to 2021, mostly labour exploitation in Russia,
//! Kazakhstan, Turkey, the UAE and South Korea; most police reports registered as fraud or
//! refused; a prosecutor's review in 2020–2021 that returns terminated cases, some of which
//! are re-registered as trafficking and reach court.
//!
//! Every command goes through the real aggregates, so every invariant holds and identities
//! (all fictitious) are sealed as in production. Ids are derived from a counter, so a second
//! run finds the data present and does nothing.
//!
//! Fraud articles: only the 2021 Code's art. 209 is verified in the catalogue, so the demo
//! registers fraud under it whatever the year.

use crate::app::{App, CommandMeta};
use crate::crypto;
use crate::error::ApiError;
use crate::graphql::objects::IdentityPlain;
use chrono::{Datelike, Duration, NaiveDate};
use domain::account::{AccountActing, AccountCommand, CreateAccount};
use domain::case::{self as dc, Acting, CaseCommand};
use domain::lawyer::{LawyerActing, LawyerCommand, RegisterLawyer};
use domain::offense::OffenseRef;
use domain::organization::OrganizationCommand;
use domain::values::*;
use domain::{Actor, Clock, ManualClock};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use uuid::Uuid;

/// What the seed wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedSummary {
    pub organizations: usize,
    pub lawyers: usize,
    pub cases: usize,
    pub police_reports: usize,
    pub already_present: bool,
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

const BASE: u128 = 0xDE30_0000_0000_4000_8000_0000_0000_0000;

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(BASE | (kind << 32) | n)
}

fn text(s: &str) -> Result<Text, ApiError> {
    Ok(Text::parse("text", s)?)
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
    let first_org = id(1, 0);
    if projections::store::organization_by_id(&app.db, &first_org.to_string()).await?.is_some() {
        return Ok(SeedSummary { already_present: true, ..Default::default() });
    }
    app.defer_projection.store(true, Ordering::Relaxed);
    let result = seed_all(app, clock).await;
    app.defer_projection.store(false, Ordering::Relaxed);
    app.projector.catch_up().await?;
    result
}

async fn seed_all(app: &Arc<App>, clock: &ManualClock) -> Result<SeedSummary, ApiError> {
    let mut rng = Rng(20_161_201);
    let mut summary = SeedSummary::default();
    let system = CommandMeta::system("demo-seed");
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
        let cmd = OrganizationCommand::Register {
            actor: Actor::system(),
            organization_id: id(1, i as u128),
            name: text(name)?,
            kind: *kind,
        };
        app.execute(&app.cqrs.organizations, &id(1, i as u128).to_string(), cmd, &system, |e| {
            ApiError::Rule(e.to_string())
        })
        .await?;
        summary.organizations += 1;
    }

    // Accounts: an intake worker for each NGO / crisis centre, a coordinator, an auditor.
    let mut intake = vec![];
    for i in 0..3u128 {
        let account = id(2, i);
        create_account(
            app,
            &system,
            account,
            &format!("Intake worker {} (demo)", i + 1),
            Role::IntakeWorker,
            Some(id(1, i)),
            None,
        )
        .await?;
        intake.push(Actor {
            account_id: account,
            role: Role::IntakeWorker,
            organization_id: Some(id(1, i)),
            lawyer_id: None,
        });
    }
    let coordinator_id = id(2, 10);
    create_account(
        app,
        &system,
        coordinator_id,
        "Pro bono coordinator (demo)",
        Role::Coordinator,
        Some(id(1, 4)),
        None,
    )
    .await?;
    create_account(app, &system, id(2, 11), "Bar Association auditor (demo)", Role::Auditor, None, None).await?;
    let coordinator =
        Actor { account_id: coordinator_id, role: Role::Coordinator, organization_id: Some(id(1, 4)), lawyer_id: None };
    let coord_meta = CommandMeta { actor: coordinator.clone(), correlation_id: "demo-seed".into() };

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
        let cmd = LawyerCommand::Register(RegisterLawyer {
            lawyer_id,
            full_name: text(&format!("{} {} (demo)", rng.pick(FIRST), rng.pick(LAST)))?,
            gender,
            status,
            region,
            languages: vec![text("ky")?, text("ru")?],
            license_number: (status == LawyerStatus::Professional)
                .then(|| text(&format!("DEMO-{:04}", 100 + i)))
                .transpose()?,
        });
        app.execute(
            &app.cqrs.lawyers,
            &lawyer_id.to_string(),
            LawyerActing { actor: coordinator.clone(), command: cmd },
            &coord_meta,
            |e| ApiError::Rule(e.to_string()),
        )
        .await?;
        if rng.pct(70) {
            let cmd = LawyerCommand::RecordTraining {
                course: text("Trafficking in persons: identification and legal aid")?,
                completed_on: d(2016, 1, 10),
            };
            app.execute(
                &app.cqrs.lawyers,
                &lawyer_id.to_string(),
                LawyerActing { actor: coordinator.clone(), command: cmd },
                &coord_meta,
                |e| ApiError::Rule(e.to_string()),
            )
            .await?;
        }
        let account = id(4, i);
        create_account(
            app,
            &system,
            account,
            &format!("Lawyer account {} (demo)", i + 1),
            Role::Lawyer,
            None,
            Some(lawyer_id),
        )
        .await?;
        lawyers.push(Actor {
            account_id: account,
            role: Role::Lawyer,
            organization_id: None,
            lawyer_id: Some(lawyer_id),
        });
        summary.lawyers += 1;
    }

    // Cases, 2016 to 2021, in date order of identification.
    let mut plans: Vec<NaiveDate> = (0..180).map(|_| d(2016 + rng.below(6) as i32, 1, 1) + rng.days(0, 364)).collect();
    plans.sort();
    for (n, identified_on) in plans.into_iter().enumerate() {
        summary.police_reports +=
            seed_case(app, clock, &mut rng, n as u128, identified_on, &intake, &coordinator, &lawyers).await?;
        summary.cases += 1;
    }
    Ok(summary)
}

async fn create_account(
    app: &App,
    meta: &CommandMeta,
    account_id: Uuid,
    name: &str,
    role: Role,
    org: Option<Uuid>,
    lawyer: Option<Uuid>,
) -> Result<(), ApiError> {
    let cmd = AccountActing {
        actor: Actor::system(),
        command: AccountCommand::Create(CreateAccount {
            account_id,
            name: text(name)?,
            role,
            organization_id: org,
            lawyer_id: lawyer,
        }),
    };
    app.execute(&app.cqrs.accounts, &account_id.to_string(), cmd, meta, |e| ApiError::Rule(e.to_string())).await
}

/// Which code of which edition applied on a date.
fn tip_code(on: NaiveDate, labour: bool) -> &'static str {
    match on.year() {
        ..=2018 => "1997-124",
        2019..=2021 if labour => "2017-173",
        2019..=2021 => "2017-171",
        _ => "2021-166",
    }
}

fn tip_related_code(on: NaiveDate) -> &'static str {
    if on.year() <= 2018 {
        "1997-125"
    } else {
        "2021-159"
    }
}

#[allow(clippy::too_many_arguments)]
async fn seed_case(
    app: &App,
    clock: &ManualClock,
    rng: &mut Rng,
    n: u128,
    identified_on: NaiveDate,
    intake: &[Actor],
    coordinator: &Actor,
    lawyers: &[Actor],
) -> Result<usize, ApiError> {
    let case_id = id(5, n);
    let cid = case_id.to_string();
    let intake_actor = rng.pick(intake).clone();
    let organization_id = intake_actor.organization_id.unwrap_or(case_id);
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
    let age = if rng.pct(12) { 14 + rng.below(4) as u8 } else { 18 + rng.below(35) as u8 };
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
    let dk = app.new_data_key(&cid).await?;
    let plain = IdentityPlain {
        full_name: format!("Demo Client {:04}", n + 1),
        date_of_birth: None,
        contact: None,
        document_number: None,
        narrative: Some("Fictitious record of the demonstration data set.".into()),
    };
    let identity = crypto::seal(&dk, &cid, "identity", &serde_json::to_vec(&plain).map_err(ApiError::internal)?);
    let open = CaseCommand::OpenIntake(dc::OpenIntake {
        case_id,
        organization_id,
        identified_on,
        referral_source: *rng.pick(&[
            ReferralSource::Hotline,
            ReferralSource::NgoOutreach,
            ReferralSource::NgoOutreach,
            ReferralSource::Iom,
            ReferralSource::Police,
            ReferralSource::SelfReferral,
        ]),
        exploitation_types: exploitation,
        country_of_exploitation: Some(CountryCode::parse("country", country)?),
        client: dc::ClientProfile {
            gender,
            age_at_identification: Some(age),
            citizenship: Some(CountryCode::parse("country", "KG")?),
            region: Some(region),
        },
        identity,
        consent,
    });
    let run = |actor: &Actor, command: CaseCommand| {
        let meta = CommandMeta { actor: actor.clone(), correlation_id: "demo-seed".into() };
        let acting = Acting::new(actor.clone(), command);
        let cid = cid.clone();
        async move { app.execute(&app.cqrs.cases, &cid, acting, &meta, |e| ApiError::Rule(e.to_string())).await }
    };
    run(&intake_actor, open).await?;
    if rng.pct(30) {
        clock.set(identified_on + rng.days(3, 20));
        let service = *rng.pick(&[
            ProtectionService::Shelter,
            ProtectionService::Medical,
            ProtectionService::Psychological,
            ProtectionService::Reintegration,
        ]);
        run(
            &intake_actor,
            CaseCommand::ReferToService(dc::ReferToService { service, referred_on: clock.today(), provider: None }),
        )
        .await?;
    }
    if !consent.legal_aid || !rng.pct(92) {
        return Ok(0);
    }

    // Assignment, sometimes declined and reassigned.
    let mut day = identified_on + rng.days(5, 30);
    clock.set(day);
    let mut lawyer = rng.pick(lawyers).clone();
    run(coordinator, CaseCommand::AssignLawyer { lawyer_id: lawyer.lawyer_id.unwrap_or(case_id) }).await?;
    if rng.pct(10) {
        run(&lawyer, CaseCommand::DeclineAssignment { reason: text("workload")? }).await?;
        let other = rng.pick(lawyers).clone();
        lawyer =
            if other.lawyer_id == lawyer.lawyer_id { lawyers[(n as usize + 1) % lawyers.len()].clone() } else { other };
        run(coordinator, CaseCommand::AssignLawyer { lawyer_id: lawyer.lawyer_id.unwrap_or(case_id) }).await?;
    }
    day += rng.days(1, 7);
    clock.set(day);
    run(&lawyer, CaseCommand::AcceptAssignment).await?;
    day += rng.days(1, 20);
    clock.set(day);
    run(
        &lawyer,
        CaseCommand::RecordLegalAction(dc::RecordLegalAction {
            kind: LegalActionKind::Consultation,
            taken_on: day,
            note: None,
        }),
    )
    .await?;
    if !consent.report_to_police {
        return Ok(0);
    }

    // The police report and what the police made of it.
    let report_id = id(6, n);
    let filed_on = day + rng.days(3, 40);
    clock.set(filed_on);
    let unit = format!("{} police department (demo)", region.as_str().replace('_', " ").to_lowercase());
    run(
        &lawyer,
        CaseCommand::FilePoliceReport(dc::FilePoliceReport {
            report_id,
            filed_on,
            police_unit: text(&unit)?,
            reference_number: None,
        }),
    )
    .await?;
    let decided = filed_on + rng.days(3, 30);
    clock.set(decided);
    let roll = rng.below(100);
    let registered = match roll {
        0..=21 => {
            run(
                &lawyer,
                CaseCommand::RecordRegistrationRefused(dc::RecordRegistrationRefused {
                    report_id,
                    decided_on: decided,
                    reason: text("no elements of a crime found by the police")?,
                }),
            )
            .await?;
            None
        }
        22..=66 => Some(OffenseRef { code: "2021-209".into(), category: OffenseCategory::Fraud }),
        67..=79 => Some(OffenseRef { code: tip_related_code(decided).into(), category: OffenseCategory::TipRelated }),
        _ => Some(OffenseRef { code: tip_code(decided, labour).into(), category: OffenseCategory::Tip }),
    };
    let Some(current) = registered else { return Ok(1) };
    run(
        &lawyer,
        CaseCommand::RecordOffenseRegistration(dc::RecordOffenseRegistration {
            report_id,
            offense: current.clone(),
            registered_on: decided,
            registry_number: None,
        }),
    )
    .await?;

    // Investigation: fraud cases are mostly terminated; the prosecutor's review of 2020-21
    // returns some, and some of those are re-registered as trafficking.
    let mut day = decided + rng.days(30, 200);
    let outcome = |rng: &mut Rng, current: &OffenseRef| match current.category {
        OffenseCategory::Tip if rng.pct(55) => InvestigationOutcome::SentToCourt,
        OffenseCategory::TipRelated if rng.pct(40) => InvestigationOutcome::SentToCourt,
        _ if rng.pct(20) => InvestigationOutcome::SentToCourt,
        _ => InvestigationOutcome::Terminated,
    };
    let first = outcome(rng, &current);
    clock.set(day);
    run(
        &lawyer,
        CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
            report_id,
            outcome: first,
            decided_on: day,
            note: None,
        }),
    )
    .await?;
    let mut in_court = first == InvestigationOutcome::SentToCourt;
    if !in_court && current.category != OffenseCategory::Tip && rng.pct(30) {
        let review = d(2020, 6, 1).max(day) + rng.days(10, 300);
        clock.set(review);
        run(
            &lawyer,
            CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
                report_id,
                outcome: InvestigationOutcome::ReturnedForInvestigation,
                decided_on: review,
                note: Some(text("returned after the Prosecutor General's review")?),
            }),
        )
        .await?;
        day = review;
        if rng.pct(60) {
            day += rng.days(10, 90);
            clock.set(day);
            let to = OffenseRef { code: tip_code(day, labour).into(), category: OffenseCategory::Tip };
            run(
                &lawyer,
                CaseCommand::ReclassifyOffense(dc::ReclassifyOffense {
                    report_id,
                    offense: to,
                    decided_on: day,
                    decided_by: Authority::Prosecutor,
                    reason: text("recruitment, transfer and exploitation established on review")?,
                }),
            )
            .await?;
            if rng.pct(60) {
                day += rng.days(20, 120);
                clock.set(day);
                run(
                    &lawyer,
                    CaseCommand::RecordInvestigationOutcome(dc::RecordInvestigationOutcome {
                        report_id,
                        outcome: InvestigationOutcome::SentToCourt,
                        decided_on: day,
                        note: None,
                    }),
                )
                .await?;
                in_court = true;
            }
        }
    }
    if in_court && rng.pct(85) {
        day += rng.days(30, 250);
        clock.set(day);
        let verdict = match rng.below(100) {
            0..=59 => VerdictOutcome::Convicted,
            60..=79 => VerdictOutcome::Acquitted,
            _ => VerdictOutcome::Dismissed,
        };
        let sentence = (verdict == VerdictOutcome::Convicted).then(|| 36 + rng.below(96) as u16);
        run(
            &lawyer,
            CaseCommand::RecordVerdict(dc::RecordVerdict {
                report_id,
                outcome: verdict,
                offense: None,
                decided_on: day,
                sentence_months: sentence,
                compensation_awarded: Some(rng.pct(20)),
            }),
        )
        .await?;
    }
    if rng.pct(50) {
        clock.set(day + rng.days(10, 60));
        run(
            &lawyer,
            CaseCommand::CloseCase {
                reason: text(if in_court { "proceedings completed" } else { "no further legal avenue" })?,
            },
        )
        .await?;
    }
    Ok(1)
}
