//! The HTCDS profile, a guardian's consent for a minor and the version-2 intake, through
//! GraphQL on both stores: values round-trip, a minor's legal-aid consent needs a guardian's,
//! a version-1 intake stored before this change reads through every path, and
//! `probono export htcds` shares no identity and no small group.

use serde_json::{json, Value};
use std::time::Duration;
use tests::fixtures::{case_mutation, world, World};
use tests::{on_both_backends, Backend, TestApp};

const CLIENT: &str = "Aigerim Profilova";

fn intake(age: u8, profile: Value, guardian: Value, legal_aid: bool) -> Value {
    json!({
        "identifiedOn": "2023-05-02", "referralSource": "IOM", "exploitationTypes": ["FORCED_LABOR"],
        "countryOfExploitation": "KZ",
        "client": {"fullName": CLIENT, "gender": "FEMALE", "ageAtIdentification": age, "citizenship": "KG",
                   "region": "BATKEN", "contact": "+996 700 111 222", "narrative": "Taken to a farm near Almaty."},
        "consent": {"legalAid": legal_aid, "reportToPolice": false, "dataSharing": false},
        "profile": profile, "guardianConsent": guardian,
    })
}

const FIELDS: &str = "id profile { recruitment meansOfControl recruiterRelationship industry placeOfRecruitment \
    migrationStatus primaryLanguage recordedOn } guardianConsent { givenBy givenOn }";

async fn open(t: &TestApp, w: &World, input: Value) -> Value {
    let q = format!("mutation($i: OpenIntakeInput!) {{ openIntake(input: $i) {{ {FIELDS} }} }}");
    t.gql(&w.intake, &q, json!({"i": input})).await
}

async fn htcds_profile_round_trips_and_is_corrected_whole(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let profile = json!({"recruitment": ["ONLINE", "JOB_OFFER", "ONLINE"], "meansOfControl": ["WITHHOLDS_DOCUMENTS", "DEBT_BONDAGE"],
        "recruiterRelationship": "FRIEND", "industry": "A", "placeOfRecruitment": "batken",
        "migrationStatus": "IRREGULAR_MIGRANT", "primaryLanguage": "KY"});
    let d = open(&t, &w, intake(29, profile, Value::Null, true)).await;
    let c = &d["data"]["openIntake"];
    assert!(d.get("errors").is_none(), "{d}");
    // Sorted and without repeats; codes normalised.
    assert_eq!(c["profile"]["recruitment"], json!(["JOB_OFFER", "ONLINE"]));
    assert_eq!(c["profile"]["meansOfControl"], json!(["DEBT_BONDAGE", "WITHHOLDS_DOCUMENTS"]));
    assert_eq!(c["profile"]["recruiterRelationship"], "FRIEND");
    assert_eq!(c["profile"]["industry"], "A");
    assert_eq!(c["profile"]["placeOfRecruitment"], "BATKEN");
    assert_eq!(c["profile"]["migrationStatus"], "IRREGULAR_MIGRANT");
    assert_eq!(c["profile"]["primaryLanguage"], "ky");
    assert_eq!(c["profile"]["recordedOn"], "2023-05-02");
    assert_eq!(c["guardianConsent"], Value::Null);
    let case = c["id"].as_str().unwrap().to_string();

    // A correction replaces the whole profile.
    let input = json!({"caseId": case, "profile": {"meansOfControl": ["THREATS"], "placeOfRecruitment": "UZ"}, "recordedOn": "2023-06-01"});
    let q = format!("mutation($i: RecordVictimProfileInput!) {{ recordVictimProfile(input: $i) {{ {FIELDS} }} }}");
    let d = t.ok(&w.intake, &q, json!({"i": input})).await;
    let p = &d["recordVictimProfile"]["profile"];
    assert_eq!(p["meansOfControl"], json!(["THREATS"]));
    assert_eq!(p["recruitment"], json!([]));
    assert_eq!((p["industry"].clone(), p["placeOfRecruitment"].clone()), (Value::Null, json!("UZ")));
    assert_eq!(p["recordedOn"], "2023-06-01");

    // Bad values are typed input errors, not failures.
    for (field, bad) in [("placeOfRecruitment", json!("Atlantis")), ("primaryLanguage", json!("kyrgyz"))] {
        let mut profile = json!({});
        profile[field] = bad;
        let d = open(&t, &w, intake(30, profile, Value::Null, true)).await;
        assert_eq!(d["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{field}: {d}");
        assert!(d["errors"][0]["message"].as_str().unwrap().contains(field), "{d}");
    }
    t.stop().await;
}

async fn a_minors_legal_aid_consent_needs_a_guardians(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    // Refused without, in words that say what to do.
    let d = open(&t, &w, intake(15, json!({}), Value::Null, true)).await;
    assert_eq!(d["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{d}");
    assert!(d["errors"][0]["message"].as_str().unwrap().contains("guardian"), "{d}");
    // A guardian's consent for an adult is refused too.
    let parent = json!({"givenBy": "PARENT", "givenOn": "2023-05-02"});
    let d = open(&t, &w, intake(30, json!({}), parent.clone(), true)).await;
    assert_eq!(d["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{d}");

    // Opened without legal-aid consent, the guardian's recorded later, then the consent.
    let d = open(&t, &w, intake(15, json!({}), Value::Null, false)).await;
    let case = d["data"]["openIntake"]["id"].as_str().unwrap().to_string();
    let give = json!({"caseId": case, "scopes": ["LEGAL_AID"], "on": "2023-05-03"});
    let q = "mutation($i: ConsentChangeInput!) { giveConsent(input: $i) { id } }";
    let d = t.gql(&w.intake, q, json!({"i": give})).await;
    assert_eq!(d["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{d}");
    let assign = json!({"caseId": case, "lawyerId": w.lawyer_a_id});
    let q = format!("mutation($i: RecordGuardianConsentInput!) {{ recordGuardianConsent(input: $i) {{ {FIELDS} }} }}");
    let g = json!({"caseId": case, "givenBy": "GUARDIANSHIP_AUTHORITY", "givenOn": "2023-05-03"});
    let d = t.ok(&w.intake, &q, json!({"i": g})).await;
    assert_eq!(
        d["recordGuardianConsent"]["guardianConsent"],
        json!({"givenBy": "GUARDIANSHIP_AUTHORITY", "givenOn": "2023-05-03"})
    );
    case_mutation(&t, &w.intake, "giveConsent", "ConsentChangeInput", give).await;
    let c = case_mutation(&t, &w.coordinator, "assignLawyer", "AssignLawyerInput", assign).await;
    assert_eq!(c["id"], case.as_str());

    // With a parent's consent at intake the case opens with legal-aid consent.
    let d = open(&t, &w, intake(16, json!({}), parent, true)).await;
    assert_eq!(d["data"]["openIntake"]["guardianConsent"]["givenBy"], "PARENT", "{d}");
    t.stop().await;
}

/// Writes the first event of a new case stream as the previous version did: an
/// `IntakeOpened` 1.0 payload, chained and hashed over exactly those stored bytes.
async fn store_version_1_intake(t: &TestApp, w: &World) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let payload = json!({"IntakeOpened": {
        "case_id": id, "organization_id": w.org, "identified_on": "2019-04-01", "referral_source": "HOTLINE",
        "exploitation_types": ["FORCED_LABOR"], "country_of_exploitation": "RU",
        "client": {"gender": "MALE", "age_at_identification": 16, "citizenship": null, "region": "OSH"},
        "identity": {"alg": "A256GCM", "nonce": "bm9uY2U=", "ciphertext": "Y2lwaGVydGV4dA=="}}});
    let metadata =
        json!({"actor_id": uuid::Uuid::nil().to_string(), "actor_role": "INTAKE_WORKER", "correlation_id": "v1"});
    let hash = domain::chain::event_hash(
        domain::chain::GENESIS,
        &domain::chain::ChainedEvent {
            aggregate_type: "Case",
            aggregate_id: &id,
            sequence: 1,
            event_type: "IntakeOpened",
            event_version: "1.0",
            payload: &payload,
            metadata: &metadata,
        },
    );
    let sql = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
               VALUES ('Case', $1, 1, 'IntakeOpened', '1.0', $2, $3, $4, $5)";
    match &t.app.db {
        projections::Db::Postgres(p) => sqlx::query(sql)
            .bind(&id)
            .bind(&payload)
            .bind(&metadata)
            .bind(domain::chain::GENESIS)
            .bind(&hash)
            .execute(p)
            .await
            .map(|_| ()),
        projections::Db::Sqlite(p) => sqlx::query(sql)
            .bind(&id)
            .bind(payload.to_string())
            .bind(metadata.to_string())
            .bind(domain::chain::GENESIS)
            .bind(&hash)
            .execute(p)
            .await
            .map(|_| ()),
    }
    .expect("insert a version-1 event");
    id
}

async fn a_version_1_intake_reads_through_every_path(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = store_version_1_intake(&t, &w).await;
    t.app.projector.notify();
    tests::wait_projected(&t.app).await;
    // The projector read it (upcast): no profile, no guardian's consent.
    let q = format!("query($c: ID!) {{ case(id: $c) {{ {FIELDS} client {{ ageGroup }} }} }}");
    let d = t.ok(&w.coordinator, &q, json!({"c": case})).await;
    assert_eq!(d["case"]["client"]["ageGroup"], "MINOR");
    assert_eq!(d["case"]["guardianConsent"], Value::Null);
    assert_eq!(d["case"]["profile"]["meansOfControl"], json!([]));
    // The aggregate loads it through the event store's upcaster and takes new events.
    let g = json!({"caseId": case, "givenBy": "PARENT", "givenOn": "2019-04-01"});
    case_mutation(&t, &w.intake, "recordGuardianConsent", "RecordGuardianConsentInput", g).await;
    let p = json!({"caseId": case, "profile": {"industry": "F"}, "recordedOn": "2019-04-02"});
    let c = case_mutation(&t, &w.intake, "recordVictimProfile", "RecordVictimProfileInput", p).await;
    assert_eq!(c["id"], case.as_str());
    // The timeline summarises the stored 1.0 row, and the chain, hashed over the stored
    // payload, still verifies.
    let a = t
        .ok(&w.auditor, "query($c: ID!) { auditTrail(caseId: $c) { eventType summary } verifyAuditTrail(caseId: $c) { ok checkedEvents } }", json!({"c": case}))
        .await;
    assert!(a["auditTrail"][0]["summary"].as_str().unwrap().starts_with("Intake opened"), "{a}");
    assert_eq!(a["auditTrail"][1]["eventType"], "GuardianConsentRecorded");
    assert_eq!(a["verifyAuditTrail"], json!({"ok": true, "checkedEvents": 3}));
    // The stored row is untouched: still version 1.0 without the new fields.
    let stored: (String, String) = match &t.app.db {
        projections::Db::Postgres(p) => {
            sqlx::query_as("SELECT event_version, payload::text FROM events WHERE aggregate_id = $1 AND sequence = 1")
                .bind(&case)
                .fetch_one(p)
                .await
                .unwrap()
        }
        projections::Db::Sqlite(p) => {
            sqlx::query_as("SELECT event_version, payload FROM events WHERE aggregate_id = $1 AND sequence = 1")
                .bind(&case)
                .fetch_one(p)
                .await
                .unwrap()
        }
    };
    assert_eq!(stored.0, "1.0");
    assert!(!stored.1.contains("guardian_consent") && !stored.1.contains("profile"), "{}", stored.1);
    // A rebuild from the log reads it the same way.
    t.stop().await;
    let live = tests::read_model_rows(&t.app.db).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while projections::log::visible_head(&t.app.db).await.unwrap()
        < projections::log::committed_head(&t.app.db).await.unwrap()
    {
        assert!(std::time::Instant::now() < deadline, "events stayed invisible");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    projections::projector::rebuild(&t.app.db).await.unwrap();
    assert!(live == tests::read_model_rows(&t.app.db).await, "a rebuild differs from the live read models");
}

async fn the_htcds_export_shares_no_identity_and_no_small_group(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let common = json!({"meansOfControl": ["THREATS", "TAKES_EARNINGS"], "recruiterRelationship": "FAMILY",
        "industry": "F", "placeOfRecruitment": "BATKEN", "primaryLanguage": "ky"});
    // Six alike (ages 29 and 30 share a bracket only after generalising: 27--29 / 30--38).
    for age in [29, 29, 29, 30, 30, 30] {
        let d = open(&t, &w, intake(age, common.clone(), Value::Null, true)).await;
        assert!(d.get("errors").is_none(), "{d}");
    }
    // One alone: a minor recruited abroad. Its combination is unique at every step.
    let lone = json!({"meansOfControl": ["DEBT_BONDAGE"], "placeOfRecruitment": "UZ"});
    let mut input = intake(15, lone, json!({"givenBy": "PARENT", "givenOn": "2023-05-02"}), true);
    input["countryOfExploitation"] = json!("TR");
    assert!(open(&t, &w, input).await.get("errors").is_none());
    tests::wait_projected(&t.app).await;

    let (cases, with_profile) = projections::store::cases_identified_between(&t.app.db, None, None).await.unwrap();
    assert_eq!((cases.len(), with_profile), (7, 7));
    let raw = api::app::htcds::export(&cases, 1).unwrap();
    assert_eq!(raw.rows, 7);
    let e = api::app::htcds::export(&cases, 5).unwrap();
    // The six are written, generalised to one age group; the lone minor is left out.
    assert_eq!((e.rows, e.generalised, e.suppressed), (6, 6, 1), "{}", e.csv);
    let mut r = csv::Reader::from_reader(e.csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    for col in [
        "yearOfRegistration",
        "gender",
        "ageBroad",
        "majorityStatus",
        "citizenship",
        "CountryOfExploitation",
        "meansOfControlThreats",
        "meansOfControlDebtBondage",
        "isForcedLabour",
        "RecruiterRelationship",
        "isicSection",
    ] {
        assert!(header.iter().any(|h| h == col), "no column {col}: {header:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    for row in &rows {
        assert_eq!(&row[col("ageBroad")], "18+");
        assert_eq!(&row[col("meansOfControlThreats")], "1");
        assert_eq!(&row[col("meansOfControlDebtBondage")], "0");
        assert_eq!(&row[col("RecruiterRelationship")], "Family");
        assert_eq!(&row[col("isicSection")], "F");
        assert_eq!(&row[col("yearOfRegistration")], "2023");
    }
    // Without suppression the values round-trip exactly.
    assert!(raw.csv.contains("27--29") && raw.csv.contains("30--38") && raw.csv.contains("9--17"), "{}", raw.csv);
    // No identity, no id, no free text, no exact date, in either.
    for out in [&e.csv, &raw.csv] {
        for secret in [CLIENT, "+996", "Almaty", "2023-05-02"] {
            assert!(!out.contains(secret), "{secret} in the export");
        }
        for c in &cases {
            assert!(!out.contains(&c.id.to_string()));
        }
    }
    // The command line writes the same file.
    let out = tests::probono(&t.db, &["export", "htcds"]).await;
    assert_eq!(out, e.csv);
    let out = tests::probono(&t.db, &["export", "htcds", "--from", "2024-01-01"]).await;
    assert_eq!(out.lines().count(), 1, "only the header: {out}");
    t.stop().await;
}

on_both_backends!(
    htcds_profile_round_trips_and_is_corrected_whole,
    a_minors_legal_aid_consent_needs_a_guardians,
    a_version_1_intake_reads_through_every_path,
    the_htcds_export_shares_no_identity_and_no_small_group,
);
