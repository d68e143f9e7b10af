//! Synthetic ledgers for benchmarks and scale tests: realistic case histories built from real
//! domain events (serialised exactly as the event store does), chained with real hashes and
//! bulk-inserted straight into the events table. Nothing here is used by the product.

use domain::case::{CaseEvent, ClientProfile};
use domain::chain::{event_hash, ChainedEvent, GENESIS};
use domain::lawyer::LawyerEvent;
use domain::offense::{CatalogueEvent, CatalogueFile, OffenseRef};
use domain::organization::OrganizationEvent;
use domain::values::*;
use domain::Sealed;
use projections::Db;
use serde_json::{json, Value};
use uuid::Uuid;

/// One stored event, ready to insert.
pub struct Row {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub prev_hash: String,
    pub hash: String,
}

struct Stream {
    aggregate_type: &'static str,
    id: String,
    seq: i64,
    prev: String,
}

impl Stream {
    fn new(aggregate_type: &'static str, id: String) -> Self {
        Stream { aggregate_type, id, seq: 0, prev: GENESIS.to_string() }
    }

    fn push<E: cqrs_es::DomainEvent>(&mut self, out: &mut Vec<Row>, event: &E, on: &str) {
        self.seq += 1;
        let payload = serde_json::to_value(event).unwrap_or(Value::Null);
        let metadata = json!({"actor_id": Uuid::nil().to_string(), "actor_role": "ADMIN", "correlation_id": "synthetic", "recorded_at": format!("{on}T12:00:00.000000Z")});
        let event_type = event.event_type();
        let event_version = event.event_version();
        let hash = event_hash(
            &self.prev,
            &ChainedEvent {
                aggregate_type: self.aggregate_type,
                aggregate_id: &self.id,
                sequence: self.seq,
                event_type: &event_type,
                event_version: &event_version,
                payload: &payload,
                metadata: &metadata,
            },
        );
        out.push(Row {
            aggregate_type: self.aggregate_type,
            aggregate_id: self.id.clone(),
            sequence: self.seq,
            event_type,
            event_version,
            payload,
            metadata,
            prev_hash: std::mem::replace(&mut self.prev, hash.clone()),
            hash,
        });
    }
}

fn date(n: u64) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default() + chrono::Duration::days((n % 2000) as i64)
}

fn t(s: &str) -> Text {
    Text::parse("t", s).expect("synthetic text is valid")
}

/// The ledger's fixed part: the catalogue, an organisation, 33 lawyers.
pub fn network() -> (Vec<Row>, Uuid, Vec<(Uuid, LawyerStatus)>) {
    let mut out = vec![];
    let mut cat = Stream::new("OffenseCatalogue", domain::offense::CATALOGUE_ID.into());
    let file = CatalogueFile::shipped().expect("shipped catalogue");
    cat.push(
        &mut out,
        &CatalogueEvent::CatalogueImported { version: file.version, offenses: file.offenses },
        "2016-01-01",
    );
    let org = Uuid::from_u128(0x5E_0000);
    Stream::new("Organization", org.to_string()).push(
        &mut out,
        &OrganizationEvent::OrganizationRegistered {
            organization_id: org,
            name: t("Synthetic NGO"),
            kind: OrganizationKind::Ngo,
        },
        "2016-01-01",
    );
    let mut lawyers = vec![];
    for i in 0..33u128 {
        let id = Uuid::from_u128(0x5E_1000 + i);
        let status = if i < 14 { LawyerStatus::Professional } else { LawyerStatus::Student };
        Stream::new("Lawyer", id.to_string()).push(
            &mut out,
            &LawyerEvent::LawyerRegistered {
                lawyer_id: id,
                full_name: t(&format!("Lawyer {i}")),
                gender: if i % 11 < 8 { Gender::Female } else { Gender::Male },
                status,
                region: Region::ALL[i as usize % Region::ALL.len()],
                languages: vec![t("ky")],
                license_number: None,
                registered_on: date(0),
            },
            "2016-01-01",
        );
        lawyers.push((id, status));
    }
    (out, org, lawyers)
}

/// The events of case number `n`: 10 events on average (intake, consent, assignment,
/// acceptance, a report with registration, sometimes reclassification, outcomes, verdict).
pub fn case(n: u64, org: Uuid, lawyers: &[(Uuid, LawyerStatus)], out: &mut Vec<Row>) {
    let id = Uuid::from_u128(0xCA5E_0000_0000 + n as u128);
    let mut s = Stream::new("Case", id.to_string());
    let on = date(n);
    let day = |k: u64| (on + chrono::Duration::days(k as i64)).to_string();
    let lawyer = lawyers[(n as usize) % lawyers.len()].0;
    let report = Uuid::from_u128(0xBE_0000_0000 + n as u128);
    let sealed = Sealed {
        alg: "A256GCM".into(),
        nonce: "AAAAAAAAAAAAAAAA".into(),
        ciphertext: "c3ludGhldGljIGNpcGhlcnRleHQ=".into(),
    };
    let types = if n.is_multiple_of(7) {
        vec![ExploitationType::ForcedLabor, ExploitationType::Sexual]
    } else {
        vec![ExploitationType::ForcedLabor]
    };
    let e = CaseEvent::IntakeOpened {
        case_id: id,
        organization_id: org,
        identified_on: on,
        referral_source: ReferralSource::NgoOutreach,
        exploitation_types: types,
        country_of_exploitation: CountryCode::parse("c", ["RU", "KZ", "TR", "AE", "KR"][(n % 5) as usize]).ok(),
        client: ClientProfile {
            gender: if n.is_multiple_of(3) { Gender::Female } else { Gender::Male },
            age_at_identification: Some((15 + n % 40) as u8),
            citizenship: CountryCode::parse("c", "KG").ok(),
            region: Some(Region::ALL[(n % 9) as usize]),
        },
        identity: sealed,
        profile: Default::default(),
        // The synthetic minors (15–17) have a parent's consent, as the rule asks.
        guardian_consent: (15 + n % 40 < 18)
            .then_some(domain::case::GuardianConsent { given_by: domain::values::GuardianKind::Parent, given_on: on }),
    };
    s.push(out, &e, &day(0));
    let all = vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice, ConsentScope::DataSharing];
    s.push(out, &CaseEvent::ConsentGiven { scopes: all, given_on: on }, &day(0));
    s.push(
        out,
        &CaseEvent::LawyerAssigned { lawyer_id: lawyer, assigned_on: on + chrono::Duration::days(3), replaces: None },
        &day(3),
    );
    s.push(
        out,
        &CaseEvent::AssignmentAccepted { lawyer_id: lawyer, accepted_on: on + chrono::Duration::days(4) },
        &day(4),
    );
    let filed = on + chrono::Duration::days(10);
    s.push(
        out,
        &CaseEvent::PoliceReportFiled {
            initiated_by: Default::default(),
            report_id: report,
            filed_on: filed,
            police_unit: t("Unit 1"),
            reference_number: None,
            lawyer_id: lawyer,
        },
        &day(10),
    );
    let fraud = OffenseRef { code: "2021-209".into(), category: OffenseCategory::Fraud };
    let tip = OffenseRef { code: "2021-166".into(), category: OffenseCategory::Tip };
    let first = if n.is_multiple_of(4) { tip.clone() } else { fraud.clone() };
    s.push(
        out,
        &CaseEvent::OffenseRegistered {
            decided_by: Default::default(),
            report_id: report,
            offense: first.clone(),
            registered_on: filed + chrono::Duration::days(2),
            registry_number: None,
        },
        &day(12),
    );
    let d = |k: i64| filed + chrono::Duration::days(k);
    s.push(
        out,
        &CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::Terminated,
            decided_on: d(60),
            note: None,
        },
        &day(70),
    );
    s.push(
        out,
        &CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::ReturnedForInvestigation,
            decided_on: d(200),
            note: None,
        },
        &day(210),
    );
    if first.category != OffenseCategory::Tip {
        s.push(
            out,
            &CaseEvent::OffenseReclassified {
                report_id: report,
                from: first,
                to: tip,
                decided_on: d(230),
                decided_by: Authority::Prosecutor,
                reason: t("review"),
            },
            &day(240),
        );
    }
    s.push(
        out,
        &CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::SentToCourt,
            decided_on: d(260),
            note: None,
        },
        &day(270),
    );
    s.push(
        out,
        &CaseEvent::VerdictRecorded {
            instance: Default::default(),
            report_id: report,
            outcome: if n.is_multiple_of(3) { VerdictOutcome::Acquitted } else { VerdictOutcome::Convicted },
            offense: None,
            decided_on: d(400),
            sentence_months: Some(60),
            compensation_awarded: Some(false),
        },
        &day(410),
    );
}

/// Inserts rows in large multi-row statements, in one transaction.
pub async fn insert(db: &Db, rows: &[Row]) -> Result<(), sqlx::Error> {
    const CHUNK: usize = 2000;
    match db {
        Db::Postgres(p) => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.aggregate_type)
                        .push_bind(&r.aggregate_id)
                        .push_bind(r.sequence)
                        .push_bind(&r.event_type)
                        .push_bind(&r.event_version)
                        .push_bind(&r.payload)
                        .push_bind(&r.metadata)
                        .push_bind(&r.prev_hash)
                        .push_bind(&r.hash);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        Db::Sqlite(p) => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(CHUNK) {
                let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.aggregate_type)
                        .push_bind(&r.aggregate_id)
                        .push_bind(r.sequence)
                        .push_bind(&r.event_type)
                        .push_bind(&r.event_version)
                        .push_bind(r.payload.to_string())
                        .push_bind(r.metadata.to_string())
                        .push_bind(&r.prev_hash)
                        .push_bind(&r.hash);
                });
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        }
    }
}

/// Writes a ledger of about `events` events (the network plus whole cases).
pub async fn fill(db: &Db, events: usize) -> Result<usize, sqlx::Error> {
    Ok(fill_cases(db, events).await?.0)
}

/// [`fill`], also returning how many cases the ledger holds (for [`grow`]).
pub async fn fill_cases(db: &Db, events: usize) -> Result<(usize, u64), sqlx::Error> {
    let (rows, _, _) = network();
    insert(db, &rows).await?;
    grow(db, (rows.len(), 0), events).await
}

/// Grows a ledger of [`fill_cases`] holding `(events, cases)` to about `to_events` events
/// with more whole cases, numbered on from the ones it holds; returns the new `(events,
/// cases)`.
pub async fn grow(db: &Db, (events, cases): (usize, u64), to_events: usize) -> Result<(usize, u64), sqlx::Error> {
    let (_, org, lawyers) = network();
    let mut rows = vec![];
    let mut total = events;
    let mut n = cases;
    while total < to_events {
        case(n, org, &lawyers, &mut rows);
        n += 1;
        if rows.len() >= 20_000 {
            total += rows.len();
            insert(db, &rows).await?;
            rows.clear();
        }
    }
    total += rows.len();
    insert(db, &rows).await?;
    Ok((total, n))
}
