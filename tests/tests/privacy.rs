//! Victim privacy: crypto-shredding erasure, the identity-read log, and no identity in the
//! database, the logs or the metrics — before and after erasure, on both backends.

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use tests::fixtures::{case_mutation, case_mutation_err, open_case, represented_case, world, CLIENT_NAME};
use tests::{on_both_backends, Backend, TestApp};

const SECRETS: [&str; 5] = [CLIENT_NAME, "Zarina", "+996 555 000 111", "Passport taken", "1986-01-15"];
const NOTE: &str = "Met the client at the shelter; she fears her recruiter in Osh";

/// Every log line of this test binary, at `trace`, in memory.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(writer.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(b);
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_no_identity(what: &str, text: &str) {
    for s in SECRETS.iter().chain([NOTE].iter()) {
        assert!(!text.contains(s), "plaintext identity {s:?} found in {what}");
    }
}

async fn erasure_leaves_no_trace(backend: Backend) {
    let logs = captured_logs();
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = represented_case(&t, &w).await;
    case_mutation(
        &t,
        &w.lawyer_a,
        "recordLegalAction",
        "RecordLegalActionInput",
        json!({"caseId": case, "kind": "CONSULTATION", "takenOn": "2020-03-05", "note": NOTE}),
    )
    .await;
    let c = case_mutation(
        &t,
        &w.lawyer_a,
        "filePoliceReport",
        "FilePoliceReportInput",
        json!({"caseId": case, "filedOn": "2020-04-01", "policeUnit": "Osh"}),
    )
    .await;
    assert_eq!(c["policeReports"].as_array().unwrap().len(), 1);

    // Identity is readable by the right people, and each read is on record.
    let iq =
        "query($id: ID!, $p: String) { case(id: $id) { identity(purpose: $p) { fullName contact narrative erased } } }";
    let d = t.ok(&w.intake, iq, json!({"id": case})).await;
    assert_eq!(d["case"]["identity"]["fullName"], CLIENT_NAME);
    assert_eq!(
        t.err(&w.coordinator, iq, json!({"id": case})).await,
        "BAD_USER_INPUT",
        "a coordinator states a purpose"
    );
    t.ok(&w.coordinator, iq, json!({"id": case, "p": "checking for a duplicate intake"})).await;
    let reads = t
        .ok(
            &w.auditor,
            "query($c: ID) { identityReads(caseId: $c) { role fields purpose accountName caseId } }",
            json!({"c": case}),
        )
        .await;
    let reads = reads["identityReads"].as_array().unwrap();
    assert_eq!(reads.len(), 2, "two reads, two records: {reads:?}");
    assert_eq!(reads[0]["role"], "COORDINATOR");
    assert_eq!(reads[0]["purpose"], "checking for a duplicate intake");
    assert_eq!(reads[1]["role"], "INTAKE_WORKER");
    assert_eq!(reads[1]["fields"], json!(["fullName", "contact", "narrative", "erased"]));
    assert_no_identity("the identity-read log", &serde_json::to_string(reads).unwrap());
    assert_eq!(t.err(&w.lawyer_a, "{ identityReads { role } }", json!({})).await, "FORBIDDEN");

    // Before erasure the database holds only ciphertext.
    let dump = tests::dump_database(&t.app.db).await;
    assert!(dump.contains(&case));
    assert_no_identity("the database before erasure", &dump);
    let events_before = projections::log::count(&t.app.db).await.unwrap();
    let wrapped = api::privacy::keys::get_data_key(&t.app.db, &case).await.unwrap().expect("a data key before erasure");

    // Erasure: only an ADMIN, with a reason.
    assert_eq!(
        case_mutation_err(
            &t,
            &w.coordinator,
            "eraseClientData",
            "CaseReasonInput",
            json!({"caseId": case, "reason": "client request"})
        )
        .await,
        "FORBIDDEN"
    );
    let erased = t
        .ok(&t.admin, "mutation($c: ID!) { eraseClientData(input: {caseId: $c, reason: \"client request under the data protection law\"}) { id erased status } }", json!({"c": case}))
        .await;
    assert_eq!(erased["eraseClientData"]["erased"], true);
    let d = t.ok(&w.intake, iq, json!({"id": case})).await;
    assert_eq!(d["case"]["identity"], json!({"fullName": null, "contact": null, "narrative": null, "erased": true}));
    assert_eq!(
        case_mutation_err(
            &t,
            &t.admin,
            "eraseClientData",
            "CaseReasonInput",
            json!({"caseId": case, "reason": "again"})
        )
        .await,
        "RULE_VIOLATION"
    );
    assert_eq!(
        t.err(&w.intake, "mutation($c: ID!) { updateClientIdentity(input: {caseId: $c, identity: {fullName: \"New Name\"}}) { id } }", json!({"c": case})).await,
        "RULE_VIOLATION"
    );
    assert_eq!(
        case_mutation_err(
            &t,
            &w.lawyer_a,
            "recordLegalAction",
            "RecordLegalActionInput",
            json!({"caseId": case, "kind": "CONSULTATION", "takenOn": "2020-05-05", "note": "more"})
        )
        .await,
        "RULE_VIOLATION"
    );
    // The events stay (one more: the erasure itself); the case, its report and its counts stay.
    assert_eq!(projections::log::count(&t.app.db).await.unwrap(), events_before + 1);
    let d = t.ok(&w.auditor, "query($id: ID!) { case(id: $id) { status policeReports { id } } outcomeStats { totals { casesOpened policeReportsFiled } } }", json!({"id": case})).await;
    assert_eq!(d["case"]["policeReports"].as_array().unwrap().len(), 1);
    assert_eq!(d["outcomeStats"]["totals"]["casesOpened"], 1);
    assert_eq!(d["outcomeStats"]["totals"]["policeReportsFiled"], 1);
    // The key is gone: nothing anywhere can open the ciphertext again.
    assert!(api::privacy::keys::get_data_key(&t.app.db, &case).await.unwrap().is_none());
    if backend == Backend::Sqlite {
        // Not even in the files: deleted rows are zeroed and the write-ahead log emptied.
        for f in ["probono.db", "probono.db-wal"] {
            let bytes = std::fs::read(t.db.path().join(f)).unwrap_or_default();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(&wrapped), "the destroyed data key is still in {f}");
        }
    }
    let dump = tests::dump_database(&t.app.db).await;
    assert_no_identity("the database after erasure", &dump);
    assert!(dump.contains("ClientDataErased"));

    // Logs (at trace) and metrics carry no identity either.
    let metrics = reqwest::get(t.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("probono_identity_reads_total"));
    assert_no_identity("/metrics", &metrics);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("identity read") && text.contains("request_id"), "logging was captured");
    assert_no_identity("the server logs", &text);
    t.stop().await;
}

on_both_backends!(erasure_leaves_no_trace);

async fn the_master_key_rotates_without_losing_identity(backend: Backend) {
    let mut t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    t.stop().await;
    let old_key = t.db.key_file.clone();
    let new_key = t.db.path().join("master-2.key");
    let out = tests::run_probono(&["keys", "generate", "--out", new_key.to_str().unwrap()]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let again = tests::run_probono(&["keys", "generate", "--out", new_key.to_str().unwrap()]).await;
    assert_ne!(again.code, Some(0), "generate never overwrites a key");
    let out = tests::run_probono(&[
        "keys",
        "rotate",
        "--database-url",
        &t.db.url,
        "--master-key-file",
        old_key.to_str().unwrap(),
        "--new-master-key-file",
        new_key.to_str().unwrap(),
    ])
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("re-wrapped"), "{}", out.stderr);

    // The old key opens nothing; the new one opens everything.
    let old = api::privacy::crypto::MasterKey::load(&old_key).unwrap();
    let new = api::privacy::crypto::MasterKey::load(&new_key).unwrap();
    let wrapped = api::privacy::keys::get_data_key(&t.app.db, &case).await.unwrap().unwrap();
    assert!(old.unwrap(&case, &wrapped).is_err());
    assert!(new.unwrap(&case, &wrapped).is_ok());
    let mut store = t.db.store_args();
    store.master_key_file = Some(new_key.clone());
    let app = api::App::open(&store).await.unwrap();
    app.projector.catch_up().await.unwrap();
    let dk = api::privacy::keys::data_key(&app.db, &app.master_key, &case).await.unwrap().expect("a data key");
    let view = app.case_view(case.parse().unwrap()).await.unwrap().unwrap();
    let plain = api::privacy::identity::open_identity(&dk, &case, view.identity.as_ref().unwrap()).unwrap();
    assert_eq!(plain.full_name, tests::fixtures::CLIENT_NAME);
    // Rotating with a key that is not the current one changes nothing.
    let out = tests::run_probono(&[
        "keys",
        "rotate",
        "--database-url",
        &t.db.url,
        "--master-key-file",
        old_key.to_str().unwrap(),
        "--new-master-key-file",
        new_key.to_str().unwrap(),
    ])
    .await;
    assert_ne!(out.code, Some(0));
    assert!(new.unwrap(&case, &api::privacy::keys::get_data_key(&t.app.db, &case).await.unwrap().unwrap()).is_ok());
}

on_both_backends!(the_master_key_rotates_without_losing_identity);
