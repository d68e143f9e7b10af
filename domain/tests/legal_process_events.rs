//! The event types of the legal process added after version 1 of the ledger (defendants
//! and compensation) are stored forever too: this fixture pins their stored form (type,
//! version, payload) and replays it. A changed payload needs a new `event_version` and an
//! upcaster, never an edit of stored rows. The fixture is frozen: version-1 rows are never rewritten (ADR 0016).

use chrono::NaiveDate;
use cqrs_es::{Aggregate, DomainEvent};
use domain::case::*;
use domain::offense::OffenseRef;
use domain::values::*;
use domain::Sealed;
use serde_json::{json, Value};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn history() -> Vec<CaseEvent> {
    let lawyer = Uuid::from_u128(3);
    let report = Uuid::from_u128(4);
    let defendant = Uuid::from_u128(5);
    let tip = OffenseRef { code: "2017-173".into(), category: OffenseCategory::Tip };
    let kgs = CurrencyCode::parse("c", "KGS").unwrap();
    vec![
        CaseEvent::IntakeOpened {
            case_id: Uuid::from_u128(1),
            organization_id: Uuid::from_u128(2),
            identified_on: d("2019-02-01"),
            referral_source: ReferralSource::Hotline,
            exploitation_types: vec![ExploitationType::ForcedLabor],
            country_of_exploitation: Some(CountryCode::parse("c", "RU").unwrap()),
            client: ClientProfile {
                gender: Gender::Female,
                age_at_identification: Some(29),
                citizenship: None,
                region: None,
            },
            identity: Sealed { alg: "A256GCM".into(), nonce: "bm9uY2U=".into(), ciphertext: "Y2lwaGVydGV4dA==".into() },
            // What the upcaster gives a version-1 intake.
            profile: VictimProfile::default(),
            guardian_consent: None,
        },
        CaseEvent::ConsentGiven {
            scopes: vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice],
            given_on: d("2019-02-01"),
        },
        CaseEvent::LawyerAssigned { lawyer_id: lawyer, assigned_on: d("2019-02-05"), replaces: None },
        CaseEvent::AssignmentAccepted { lawyer_id: lawyer, accepted_on: d("2019-02-05") },
        CaseEvent::PoliceReportFiled {
            initiated_by: Default::default(),
            report_id: report,
            filed_on: d("2019-03-01"),
            police_unit: Text::parse("t", "Osh").unwrap(),
            reference_number: None,
            lawyer_id: lawyer,
        },
        CaseEvent::OffenseRegistered {
            decided_by: Default::default(),
            report_id: report,
            offense: tip.clone(),
            registered_on: d("2019-03-10"),
            registry_number: None,
        },
        CaseEvent::DefendantAdded {
            report_id: report,
            defendant_id: defendant,
            gender: Gender::Male,
            age_at_offense: Some(41),
            citizenship: Some(CountryCode::parse("c", "KG").unwrap()),
            role: DefendantRole::Recruiter,
            charged_with: Some(tip),
            added_on: d("2019-03-15"),
            // Not known: left out of the payload, which stays as stored (ADR 0011).
            relationship: None,
        },
        CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::SentToCourt,
            decided_on: d("2019-09-01"),
            note: None,
        },
        CaseEvent::CompensationClaimed {
            report_id: report,
            amount: 500_000,
            currency: kgs.clone(),
            claimed_on: d("2019-04-01"),
        },
        CaseEvent::DefendantVerdictRecorded {
            report_id: report,
            defendant_id: defendant,
            outcome: VerdictOutcome::Convicted,
            offense: None,
            decided_on: d("2020-02-10"),
            sentence_months: Some(60),
        },
        CaseEvent::CompensationAwarded {
            report_id: report,
            amount: 300_000,
            currency: kgs.clone(),
            awarded_on: d("2020-02-10"),
        },
        CaseEvent::CompensationPaid { report_id: report, amount: 100_000, currency: kgs, paid_on: d("2020-03-01") },
    ]
}

fn stored(events: &[CaseEvent]) -> Value {
    Value::Array(
        events
            .iter()
            .map(|e| json!({"event_type": e.event_type(), "event_version": e.event_version(), "payload": serde_json::to_value(e).unwrap()}))
            .collect(),
    )
}

#[test]
fn legal_process_events_replay_and_keep_their_stored_form() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/case-events-legal-process-v1.json");
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the fixture is committed")).unwrap();
    // Rows of event types still at 1.0 are written today exactly as stored; the others read,
    // through the upcasters, as what the code writes today.
    let now = stored(&history());
    let rows = fixture.as_array().unwrap();
    assert_eq!(rows.len(), now.as_array().unwrap().len());
    for (row, today) in rows.iter().zip(now.as_array().unwrap()) {
        assert_eq!(row["event_type"], today["event_type"]);
        if today["event_version"] == "1.0" {
            assert_eq!(row, today, "the stored form of a 1.0 event changed: add a version and an upcaster instead");
        } else {
            let (_, up) = upcast_case_payload(
                row["event_type"].as_str().unwrap(),
                row["event_version"].as_str().unwrap(),
                row["payload"].clone(),
            );
            assert_eq!(up, today["payload"], "a stored 1.0 row does not upcast to today's form");
        }
    }
    let mut case = Case::default();
    for row in fixture.as_array().unwrap() {
        assert_eq!(row["event_version"], "1.0");
        let (_, payload) = upcast_case_payload(
            row["event_type"].as_str().unwrap(),
            row["event_version"].as_str().unwrap(),
            row["payload"].clone(),
        );
        let e: CaseEvent = serde_json::from_value(payload).unwrap();
        assert_eq!(e.event_type(), row["event_type"].as_str().unwrap());
        case.apply(e);
    }
    let r = &case.reports[0];
    assert_eq!(r.defendants, vec![DefendantState { defendant_id: Uuid::from_u128(5), verdict: true }]);
    let c = r.compensation.as_ref().unwrap();
    assert_eq!((c.awarded, c.paid), (Some((300_000, d("2020-02-10"))), 100_000));
}
