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

async fn logged_reads(t: &TestApp, case: &str) -> i64 {
    let filter = tests::api::privacy::ReadFilter { case_id: Some(case.to_string()), account_id: None };
    tests::api::privacy::list(&t.app.db, &filter, 1, None).await.unwrap().total
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
    let logged = logged_reads(&t, &case).await;
    assert_eq!(logged, 1, "the read is in the identity-read log");
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
    let d = t.ok(&w.coordinator, q, json!({"id": case})).await;
    assert_eq!(d["case"]["identity"], json!({"fullName": null, "erased": true}));

    // Erased identity is not decrypted, so those reads are not in the log.
    assert_eq!(logged_reads(&t, &case).await, logged);

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

const READS: &str = "query($case: ID, $account: ID, $first: Int, $after: String) {
    identityReads(caseId: $case, accountId: $account, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id readAt accountId role caseId fields purpose requestId account { name role } } } } }";

async fn reads(t: &TestApp, token: &str, vars: Value) -> Value {
    t.ok(token, READS, vars).await["identityReads"].clone()
}

async fn account_id(t: &TestApp, token: &str) -> String {
    t.ok(token, "{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string()
}

async fn every_identity_read_is_logged(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    case_mutation(
        &t,
        &w.coordinator,
        "assignLawyer",
        "AssignLawyerInput",
        json!({"caseId": case, "lawyerId": w.lawyer_a_id}),
    )
    .await;
    // A second case whose client did not consent to data sharing.
    let private = open_case_with(&t, &w.intake, true, false).await["id"].as_str().unwrap().to_string();
    assert_eq!(reads(&t, &w.auditor, json!({})).await["totalCount"], 0);

    // The intake worker reads two fields, with no purpose (theirs to give or not).
    let q = "query($id: ID!) { case(id: $id) { identity { fullName contact } } }";
    let (_, body) = t.gql_full(&w.intake, q, json!({"id": case}), Some("intake-read-1")).await;
    assert_eq!(body["data"]["case"]["identity"], json!({"fullName": CLIENT_NAME, "contact": CLIENT_CONTACT}));
    // Asking only whether the client was erased decrypts nothing and is not logged.
    let d = t.ok(&w.lawyer_a, "query($id: ID!) { case(id: $id) { identity { erased } } }", json!({"id": case})).await;
    assert_eq!(d["case"]["identity"]["erased"], false);
    // A coordinator must state a purpose ...
    let no_purpose = "query($id: ID!) { case(id: $id) { identity { fullName } } }";
    assert_eq!(t.err(&w.coordinator, no_purpose, json!({"id": case})).await, "BAD_USER_INPUT");
    let empty = "query($id: ID!) { case(id: $id) { identity(purpose: \"  \") { fullName } } }";
    assert_eq!(t.err(&w.coordinator, empty, json!({"id": case})).await, "BAD_USER_INPUT");
    // ... and reaches identity only with the client's consent to data sharing, whatever
    // the purpose; refusals come before the purpose is even looked at.
    assert_eq!(t.err(&w.coordinator, no_purpose, json!({"id": private})).await, "FORBIDDEN");
    let with_purpose = "query($id: ID!, $p: String) { case(id: $id) {
        identity(purpose: $p) { name: fullName ...more } } }
        fragment more on ClientIdentity { narrative erased }";
    let purpose = "match the client with a Russian-speaking lawyer";
    assert_eq!(t.err(&w.coordinator, with_purpose, json!({"id": private, "p": purpose})).await, "FORBIDDEN");
    let (_, body) =
        t.gql_full(&w.coordinator, with_purpose, json!({"id": case, "p": purpose}), Some("coord-read-1")).await;
    assert_eq!(body["data"]["case"]["identity"]["name"], CLIENT_NAME, "{body}");
    assert_eq!(body["data"]["case"]["identity"]["narrative"], CLIENT_NARRATIVE);
    // Auditors and administrators never read identity, so there is nothing to log.
    for tok in [&w.auditor, &t.admin] {
        assert_eq!(t.err(tok, no_purpose, json!({"id": case})).await, "FORBIDDEN");
    }

    // The log: exactly the two decryptions, oldest first, with who, what and why.
    let all = reads(&t, &w.auditor, json!({})).await;
    assert_eq!(all["totalCount"], 2, "{all}");
    let first = &all["edges"][0]["node"];
    assert_eq!(first["accountId"], account_id(&t, &w.intake).await.as_str());
    assert_eq!(first["role"], "INTAKE_WORKER");
    assert_eq!(first["account"]["role"], "INTAKE_WORKER");
    assert_eq!(first["caseId"], case.as_str());
    assert_eq!(first["fields"], json!(["fullName", "contact"]));
    assert!(first["purpose"].is_null());
    assert_eq!(first["requestId"], "intake-read-1");
    let second = &all["edges"][1]["node"];
    assert_eq!(second["role"], "COORDINATOR");
    assert_eq!(second["fields"], json!(["fullName", "narrative"]));
    assert_eq!(second["purpose"], purpose);
    assert_eq!(second["requestId"], "coord-read-1");
    assert!(first["readAt"].as_str().unwrap() <= second["readAt"].as_str().unwrap());

    // Narrowed by case or by account (an account's identity activity); paged.
    assert_eq!(reads(&t, &t.admin, json!({"case": private})).await["totalCount"], 0);
    let coord = account_id(&t, &w.coordinator).await;
    let mine = reads(&t, &t.admin, json!({"account": coord})).await;
    assert_eq!(mine["totalCount"], 1);
    assert_eq!(mine["edges"][0]["node"]["purpose"], purpose);
    let page1 = reads(&t, &w.auditor, json!({"case": case, "first": 1})).await;
    assert_eq!(page1["pageInfo"]["hasNextPage"], true);
    assert_eq!(page1["edges"][0]["node"]["role"], "INTAKE_WORKER");
    let page2 = reads(&t, &w.auditor, json!({"case": case, "first": 1, "after": page1["pageInfo"]["endCursor"]})).await;
    assert_eq!(page2["pageInfo"]["hasNextPage"], false);
    assert_eq!(page2["edges"][0]["node"]["role"], "COORDINATOR");
    assert_eq!(t.err(&w.auditor, READS, json!({"first": 0})).await, "BAD_USER_INPUT");
    assert_eq!(t.err(&w.auditor, READS, json!({"after": "bogus"})).await, "BAD_USER_INPUT");
    assert_eq!(t.err(&w.auditor, READS, json!({"case": "not-a-uuid"})).await, "BAD_USER_INPUT");
    // Only oversight reads the log, not the readers themselves.
    for tok in [&w.intake, &w.lawyer_a, &w.coordinator] {
        assert_eq!(t.err(tok, READS, json!({})).await, "FORBIDDEN");
    }

    // The log holds no identity, and it cannot be rewritten or emptied.
    let dump = dump_database(&t.app.db).await;
    assert!(dump.contains("match the client with a Russian-speaking lawyer"), "the dump must include the log");
    assert_no_identity("the database with an identity-read log", &dump);
    for sql in ["UPDATE identity_reads SET purpose = 'nothing to see'", "DELETE FROM identity_reads"] {
        let r = projections::on_db!(&t.app.db, p => sqlx::query(sql).execute(p).await.map(|_| ()));
        assert!(r.is_err(), "{sql} must be refused");
    }
    if let Db::Postgres(p) = &t.app.db {
        assert!(sqlx::query("TRUNCATE identity_reads").execute(p).await.is_err(), "TRUNCATE must be refused");
    }
    assert_eq!(reads(&t, &w.auditor, json!({})).await["totalCount"], 2);
    // A rebuild of the read models leaves the log alone.
    projections::projector::rebuild(&t.app.db).await.unwrap();
    t.app.projector.catch_up().await.unwrap();
    assert_eq!(reads(&t, &w.auditor, json!({})).await["totalCount"], 2);
    t.stop().await;
}

on_both_backends!(erasure_shreds_the_key_and_keeps_the_record, every_identity_read_is_logged);
