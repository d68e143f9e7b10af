//! Version 2.0 of `IntakeOpened` (the HTCDS profile and a guardian's consent) and the events
//! that record them later are stored forever too: this fixture pins their stored form and
//! replays it. Written once with UPDATE_FIXTURES=1; a later change of shape needs version 3.0
//! and an upcaster, never an edit of this file (ADR 0016).

use chrono::NaiveDate;
use cqrs_es::{Aggregate, DomainEvent};
use domain::case::*;
use domain::values::*;
use domain::Sealed;
use serde_json::{json, Value};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn history() -> Vec<CaseEvent> {
    let parent = GuardianConsent { given_by: GuardianKind::Parent, given_on: d("2023-05-02") };
    let authority = GuardianConsent { given_by: GuardianKind::GuardianshipAuthority, given_on: d("2023-06-01") };
    vec![
        CaseEvent::IntakeOpened {
            case_id: Uuid::from_u128(1),
            organization_id: Uuid::from_u128(2),
            identified_on: d("2023-05-02"),
            referral_source: ReferralSource::Iom,
            exploitation_types: vec![ExploitationType::ForcedLabor],
            country_of_exploitation: Some(CountryCode::parse("c", "KZ").unwrap()),
            client: ClientProfile {
                gender: Gender::Male,
                age_at_identification: Some(16),
                citizenship: Some(CountryCode::parse("c", "KG").unwrap()),
                region: Some(Region::Batken),
            },
            identity: Sealed { alg: "A256GCM".into(), nonce: "bm9uY2U=".into(), ciphertext: "Y2lwaGVydGV4dA==".into() },
            profile: VictimProfile {
                recruitment: vec![RecruitmentMethod::JobOffer, RecruitmentMethod::Online],
                means_of_control: vec![MeansOfControl::TakesEarnings, MeansOfControl::WithholdsDocuments],
                recruiter_relationship: Some(RecruiterRelationship::Friend),
                industry: Some(IsicSection::A),
                place_of_recruitment: Some(PlaceOfRecruitment::Region(Region::Batken)),
                migration_status: Some(MigrationStatus::IrregularMigrant),
                primary_language: Some(LanguageCode::parse("l", "ky").unwrap()),
            },
            guardian_consent: Some(parent),
        },
        CaseEvent::ConsentGiven { scopes: vec![ConsentScope::LegalAid], given_on: d("2023-05-02") },
        CaseEvent::VictimProfileRecorded {
            profile: VictimProfile {
                means_of_control: vec![MeansOfControl::DebtBondage],
                industry: Some(IsicSection::F),
                place_of_recruitment: Some(PlaceOfRecruitment::Country(CountryCode::parse("c", "UZ").unwrap())),
                ..Default::default()
            },
            recorded_on: d("2023-05-20"),
        },
        CaseEvent::GuardianConsentRecorded { consent: authority },
        CaseEvent::LawyerAssigned { lawyer_id: Uuid::from_u128(3), assigned_on: d("2023-06-02"), replaces: None },
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
fn version_2_events_replay_and_keep_their_stored_form() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/case-events-v2.json");
    if std::env::var("UPDATE_FIXTURES").is_ok_and(|v| v == "1") {
        std::fs::write(path, serde_json::to_string_pretty(&stored(&history())).unwrap()).unwrap();
    }
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the v2 fixture is committed")).unwrap();
    assert_eq!(stored(&history()), fixture, "the stored form of a v2 event changed: add a version and an upcaster");
    assert_eq!(fixture[0]["event_version"], "2.0");
    let mut case = Case::default();
    for row in fixture.as_array().unwrap() {
        let (_, payload) = upcast_case_payload(
            row["event_type"].as_str().unwrap(),
            row["event_version"].as_str().unwrap(),
            row["payload"].clone(),
        );
        // A 2.0 row is already in today's shape: the upcasters leave it alone.
        assert_eq!(payload, row["payload"]);
        case.apply(serde_json::from_value(payload).unwrap());
    }
    assert_eq!(case.state, CaseState::Open);
    assert!(case.minor);
    assert_eq!(case.guardian_consent.map(|g| g.given_by), Some(GuardianKind::GuardianshipAuthority));
    assert!(case.consent.contains(&ConsentScope::LegalAid));
    assert_eq!(case.assignment.as_ref().map(|a| a.lawyer_id), Some(Uuid::from_u128(3)));
}

#[test]
fn a_version_2_intake_without_its_new_fields_is_not_read_as_version_2() {
    // The new fields have no default: a 1.0 payload that skipped the upcaster fails loudly
    // instead of silently reading as "no guardian's consent".
    let v1: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/case-events-v1.json")).unwrap(),
    )
    .unwrap();
    assert!(serde_json::from_value::<CaseEvent>(v1[0]["payload"].clone()).is_err());
}
