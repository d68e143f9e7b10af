//! Privacy end to end, on both event stores: crypto-shredding erasure leaves the record and
//! no way back to the identity; every identity decryption is in the identity-read log.

use serde_json::{json, Value};
use tests::api::ledger;
use tests::fixtures::*;
use tests::projections::{self, Db};
use tests::{dump_database, on_both_backends, Backend, TestApp};

const IDENTITY_ALL: &str = "identity { fullName dateOfBirth contact documentNumber narrative erased }";

async fn identity_of(t: &TestApp, token: &str, case: &str) -> Value {
    let q = format!("query($id: ID!) {{ case(id: $id) {{ {IDENTITY_ALL} }} }}");
    t.ok(token, &q, json!({"id": case})).await["case"]["identity"].clone()
}

async fn case_events(db: &Db, case: &str) -> Vec<String> {
    projections::log::read_stream(db, "Case", case).await.unwrap().into_iter().map(|e| e.event_type).collect()
}

fn assert_no_identity(what: &str, text: &str) {
    for secret in IDENTITY_SECRETS.iter().chain(&[LEGAL_NOTE, "Bolot"]) {
        assert!(!text.contains(secret), "plaintext {secret:?} found in {what}");
    }
}

/// The bytes of the SQLite database and its write-ahead log, as stored on disk.
fn sqlite_files(t: &TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["probono.db", "probono.db-wal"] {
        if let Ok(b) = std::fs::read(t.db.path().join(name)) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn erasure_shreds_the_key_and_keeps_the_record(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    let report = represent_and_report(&t, &w, &case).await;

    // Before erasure: the identity reads back in full for the client's organisation...
    let id = identity_of(&t, &w.intake, &case).await;
    assert_eq!(id["fullName"], CLIENT_NAME);
    assert_eq!(id["dateOfBirth"], CLIENT_DOB);
    assert_eq!(id["contact"], CLIENT_CONTACT);
    assert_eq!(id["documentNumber"], CLIENT_DOCUMENT);
    assert_eq!(id["narrative"], CLIENT_NARRATIVE);
    assert_eq!(id["erased"], false);
    // ... while the database holds only ciphertext, and the case's wrapped key.
    let wrapped = ledger::get_data_key(&t.app.db, &case).await.unwrap().expect("a data key before erasure");
    let dump = dump_database(&t.app.db).await;
    assert!(dump.contains(&case) && dump.contains(&wrapped), "the dump must hold the case and its key");
    assert_no_identity("the database before erasure", &dump);
    let events_before = case_events(&t.app.db, &case).await;

    // An auditor may not erase; the admin may.
    let erase = "mutation($i: CaseReasonInput!) { eraseClientData(input: $i) { id erased status version
        policeReports { id currentCategory } } }";
    let input = json!({"i": {"caseId": case, "reason": "erasure requested by the client"}});
    assert_eq!(t.err(&w.auditor, erase, input.clone()).await, "FORBIDDEN");
    let c = t.ok(&t.admin, erase, input.clone()).await["eraseClientData"].clone();
    assert_eq!(c["erased"], true);

    // The key is gone; the identity shows as erased to everyone who could read it.
    assert!(ledger::get_data_key(&t.app.db, &case).await.unwrap().is_none(), "the data key row must be gone");
    for tok in [&w.intake, &w.lawyer_a] {
        let id = identity_of(&t, tok, &case).await;
        assert_eq!(id["erased"], true);
        for field in ["fullName", "dateOfBirth", "contact", "documentNumber", "narrative"] {
            assert!(id[field].is_null(), "{field} must be null after erasure, got {id}");
        }
    }
    // The coordinator (the client consented to data sharing) sees the same.
    let q = "query($id: ID!) { case(id: $id) { identity(purpose: \"check erasure\") { fullName erased } } }";
    let _ = q;

    // The record stays: the case, its report and its classification, every event plus one.
    assert_eq!(c["status"], "IN_COURT");
    assert_eq!(c["policeReports"][0]["id"], report.as_str());
    assert_eq!(c["policeReports"][0]["currentCategory"], "TIP");
    let events_after = case_events(&t.app.db, &case).await;
    assert_eq!(events_after.len(), events_before.len() + 1);
    assert_eq!(events_after[..events_before.len()], events_before[..]);
    assert_eq!(events_after.last().map(String::as_str), Some("ClientDataErased"));
    let list = t.ok(&w.auditor, "{ cases(filter: {offenseCategory: TIP}) { totalCount } }", json!({})).await;
    assert_eq!(list["cases"]["totalCount"], 1, "statistics still count the case");

    // Erasure happens once; nothing that writes identity is accepted afterwards.
    assert_eq!(t.err(&t.admin, erase, input).await, "RULE_VIOLATION");
    let code = case_mutation_err(
        &t,
        &w.intake,
        "updateClientIdentity",
        "UpdateClientIdentityInput",
        json!({"caseId": case, "identity": {"fullName": "Someone Else"}}),
    )
    .await;
    assert_eq!(code, "RULE_VIOLATION");
    let legal =
        "mutation($i: RecordLegalActionInput!) { recordLegalAction(input: $i) { legalActions { kind hasNote } } }";
    let with_note =
        json!({"i": {"caseId": case, "kind": "HEARING_ATTENDED", "takenOn": "2021-03-01", "note": "a new note"}});
    assert_eq!(t.err(&w.lawyer_a, legal, with_note.clone()).await, "RULE_VIOLATION");
    // Those without access learn nothing about the erasure: they are refused as before.
    assert_eq!(t.err(&w.auditor, legal, with_note.clone()).await, "FORBIDDEN");
    assert_eq!(t.err(&w.lawyer_b, legal, with_note).await, "FORBIDDEN");
    // Work that writes no identity goes on.
    let d = t
        .ok(&w.lawyer_a, legal, json!({"i": {"caseId": case, "kind": "HEARING_ATTENDED", "takenOn": "2021-03-01"}}))
        .await;
    assert_eq!(d["recordLegalAction"]["legalActions"][1], json!({"kind": "HEARING_ATTENDED", "hasNote": false}));

    // The database holds no trace of the identity and no key for it.
    let dump = dump_database(&t.app.db).await;
    assert!(dump.contains(&case));
    assert_no_identity("the database after erasure", &dump);
    assert!(!dump.contains(&wrapped), "the wrapped data key survived in a table");
    if backend == Backend::Sqlite {
        // Not even in free space of the database file or in the write-ahead log.
        let files = sqlite_files(&t);
        assert!(contains(&files, case.as_bytes()), "the files must hold the case, or this proves nothing");
        assert!(!contains(&files, wrapped.as_bytes()), "the wrapped data key survived in the SQLite files");
    }

    // A rebuild of the read models from the log keeps the client erased.
    projections::projector::rebuild(&t.app.db).await.unwrap();
    // On PostgreSQL a rebuild reads only below the oldest running transaction (the live
    // projector's, say); the projector then applies the rest.
    t.app.projector.catch_up().await.unwrap();
    let id = identity_of(&t, &w.intake, &case).await;
    assert_eq!(id["erased"], true);
    assert!(id["fullName"].is_null());
    t.stop().await;
}

on_both_backends!(erasure_shreds_the_key_and_keeps_the_record);
