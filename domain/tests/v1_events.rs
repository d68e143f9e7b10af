//! Stored events are forever: this fixture holds version-1 events exactly as the event store
//! keeps them (type, version, payload). The test replays them, and fails when the code would
//! read or write them differently — a changed payload shape needs a new `event_version` and an
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

fn t(s: &str) -> Text {
    Text::parse("t", s).unwrap()
}

fn history() -> Vec<CaseEvent> {
    let case = Uuid::from_u128(1);
    let org = Uuid::from_u128(2);
    let lawyer = Uuid::from_u128(3);
    let report = Uuid::from_u128(4);
    let fraud = OffenseRef { code: "2021-209".into(), category: OffenseCategory::Fraud };
    let tip = OffenseRef { code: "2021-166".into(), category: OffenseCategory::Tip };
    vec![
        CaseEvent::IntakeOpened {
            case_id: case,
            organization_id: org,
            identified_on: d("2020-03-02"),
            referral_source: ReferralSource::NgoOutreach,
            exploitation_types: vec![ExploitationType::ForcedLabor],
            country_of_exploitation: Some(CountryCode::parse("c", "RU").unwrap()),
            client: ClientProfile {
                gender: Gender::Male,
                age_at_identification: Some(34),
                citizenship: None,
                region: Some(Region::Osh),
            },
            identity: Sealed { alg: "A256GCM".into(), nonce: "bm9uY2U=".into(), ciphertext: "Y2lwaGVydGV4dA==".into() },
            // What the upcaster gives a version-1 intake.
            profile: VictimProfile::default(),
            guardian_consent: None,
        },
        CaseEvent::ConsentGiven {
            scopes: vec![ConsentScope::LegalAid, ConsentScope::ReportToPolice],
            given_on: d("2020-03-02"),
        },
        CaseEvent::LawyerAssigned { lawyer_id: lawyer, assigned_on: d("2020-03-05"), replaces: None },
        CaseEvent::AssignmentAccepted { lawyer_id: lawyer, accepted_on: d("2020-03-06") },
        CaseEvent::PoliceReportFiled {
            initiated_by: Default::default(),
            report_id: report,
            filed_on: d("2020-04-01"),
            police_unit: t("Osh"),
            reference_number: None,
            lawyer_id: lawyer,
        },
        CaseEvent::OffenseRegistered {
            decided_by: Default::default(),
            report_id: report,
            offense: fraud.clone(),
            registered_on: d("2020-04-05"),
            registry_number: None,
        },
        CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::Terminated,
            decided_on: d("2020-06-01"),
            note: None,
        },
        CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::ReturnedForInvestigation,
            decided_on: d("2020-10-01"),
            note: Some(t("review")),
        },
        CaseEvent::OffenseReclassified {
            report_id: report,
            from: fraud,
            to: tip,
            decided_on: d("2020-11-01"),
            decided_by: Authority::Prosecutor,
            reason: t("review"),
        },
        CaseEvent::InvestigationOutcomeRecorded {
            decided_by: Default::default(),
            report_id: report,
            outcome: InvestigationOutcome::SentToCourt,
            decided_on: d("2021-01-10"),
            note: None,
        },
        CaseEvent::VerdictRecorded {
            instance: Default::default(),
            report_id: report,
            outcome: VerdictOutcome::Convicted,
            offense: None,
            decided_on: d("2021-06-01"),
            sentence_months: Some(96),
            compensation_awarded: Some(true),
        },
        CaseEvent::CaseClosed { reason: t("verdict in force"), closed_on: d("2021-07-01") },
        CaseEvent::ClientDataErased { reason: t("client request"), erased_on: d("2022-01-01") },
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
fn version_1_events_replay_and_keep_their_stored_form() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/case-events-v1.json");
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the v1 fixture is committed")).unwrap();
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
    // And the stored rows replay into the same state.
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
    assert_eq!(case.state, CaseState::Closed);
    assert!(case.erased);
    assert_eq!(case.reports[0].current.as_ref().unwrap().category, OffenseCategory::Tip);
    assert!(case.reports[0].verdict);
}
