//! Victim privacy: crypto-shredding erasure, the identity-read log, and no identity in the
//! database, the logs or the metrics — before and after erasure, on both backends.

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tests::fixtures::{case_mutation, case_mutation_err, open_case, represented_case, world, CLIENT_NAME};
use tests::{on_both_backends, Backend, TestApp};

const SECRETS: [&str; 5] = [CLIENT_NAME, "Zarina", "+996 555 000 111", "Passport taken", "1986-01-15"];
const NOTE: &str = "Met the client at the shelter; she fears her recruiter in Osh";

/// Runs `body` on a runtime of its own whose every thread logs at `trace` into memory, and
/// hands it that memory: the log of this test's server alone (the other tests of the binary
/// run on other threads, with no subscriber), `log` records included.
fn with_captured_logs<F: std::future::Future<Output = ()>>(body: impl FnOnce(Arc<Mutex<Vec<u8>>>) -> F) {
    let _ = tracing_log::LogTracer::init();
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Capture(writer.clone()))
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);
    let for_workers = dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        // The thread keeps the subscriber for its whole life (it ends with the runtime).
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&for_workers)))
        .build()
        .expect("a runtime");
    let _main = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(body(buf));
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

async fn erasure_leaves_no_trace(backend: Backend, logs: Arc<Mutex<Vec<u8>>>) {
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
    if backend == Backend::Sqlite {
        // The file scan below can see the key: before erasure it is in the files.
        let files: Vec<u8> = ["probono.db", "probono.db-wal"]
            .iter()
            .flat_map(|f| std::fs::read(t.db.path().join(f)).expect("the database files exist"))
            .collect();
        assert!(String::from_utf8_lossy(&files).contains(&wrapped), "the data key is in the files before erasure");
    }

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
        // A file that is not there proves nothing: both must exist to be scanned (the
        // write-ahead log is truncated, not removed, while the server runs).
        for f in ["probono.db", "probono.db-wal"] {
            let path = t.db.path().join(f);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("{} must exist to be scanned: {e}", path.display()));
            let text = String::from_utf8_lossy(&bytes);
            if f == "probono.db" {
                assert!(text.contains(&case), "the scan reads the real database: the case's events are in {f}");
            }
            assert!(!text.contains(&wrapped), "the destroyed data key is still in {f}");
        }
    }
    let dump = tests::dump_database(&t.app.db).await;
    assert_no_identity("the database after erasure", &dump);
    assert!(dump.contains("ClientDataErased"));

    // Logs (at trace) and metrics carry no identity either.
    let metrics =
        reqwest::Client::new().get(t.url("/metrics")).bearer_auth(&t.admin).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("probono_identity_reads_total"));
    assert_no_identity("/metrics", &metrics);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("identity read") && text.contains("request_id"), "logging was captured");
    assert_no_identity("the server logs", &text);
    t.stop().await;
}

mod erasure_leaves_no_trace {
    use super::*;
    #[test]
    fn sqlite() {
        with_captured_logs(|logs| erasure_leaves_no_trace(Backend::Sqlite, logs))
    }
    #[test]
    fn postgres() {
        with_captured_logs(|logs| erasure_leaves_no_trace(Backend::Postgres, logs))
    }
}

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

    // The old key files open nothing; the new ones open everything.
    let opens = api::privacy::keys::opens_with_key_files;
    let row = api::privacy::keys::get_data_key_row(&t.app.db, &case).await.unwrap().unwrap();
    assert!(!opens(&old_key, &row));
    assert!(!api::privacy::epochs::path_for(&old_key).exists(), "the old key-epoch file is destroyed");
    assert!(opens(&new_key, &row));
    let mut store = t.db.store_args();
    store.master_key_file = Some(new_key.clone());
    let app = api::App::open(&store).await.unwrap();
    app.projector.catch_up().await.unwrap();
    let dk = app.keyring.data_key(&app.db, &case).await.unwrap().expect("a data key");
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
    assert!(opens(&new_key, &api::privacy::keys::get_data_key_row(&t.app.db, &case).await.unwrap().unwrap()));
}

on_both_backends!(the_master_key_rotates_without_losing_identity);

/// The real `probono serve`, logging JSON at `trace`: what it writes (standard error and
/// output) names no client, document, sealed note or bearer token, while it does log the
/// requests (so a silent logger cannot pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_binary_logs_no_identity() {
    const DOCUMENT: &str = "AN 4815162";
    let db = tests::TestDb::new(Backend::Sqlite).await;
    db.ensure_key();
    let admin = tests::probono(&db, &["token", "create", "--role", "ADMIN", "--name", "root"]).await.trim().to_string();
    let mut server =
        tests::ServerProcess::start_with(&db, &["--log-format", "json"], &[("PROBONO_LOG", "trace")]).await;
    let client = reqwest::Client::new();
    let url = server.url("/graphql");
    let request_id = "privacy-log-test-7f3a";
    let gql = |token: String, query: &'static str, variables: serde_json::Value| {
        let req = client.post(&url).bearer_auth(token).header("x-request-id", request_id);
        async move {
            let body: serde_json::Value =
                req.json(&json!({"query": query, "variables": variables})).send().await.unwrap().json().await.unwrap();
            assert!(body.get("errors").is_none(), "unexpected errors: {body}");
            body["data"].clone()
        }
    };
    let token = |d: serde_json::Value| d["createAccessToken"]["token"].as_str().unwrap().to_string();
    let new_token = "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token } }";

    let org =
        gql(admin.clone(), "mutation { registerOrganization(input: {name: \"Oasis\", kind: NGO}) { id } }", json!({}))
            .await["registerOrganization"]["id"]
            .clone();
    let intake = token(
        gql(admin.clone(), new_token, json!({"i": {"name": "intake", "role": "INTAKE_WORKER", "organizationId": org}}))
            .await,
    );
    let coordinator =
        token(gql(admin.clone(), new_token, json!({"i": {"name": "coordinator", "role": "COORDINATOR"}})).await);
    let lawyer_id = gql(
        coordinator.clone(),
        "mutation($i: RegisterLawyerInput!) { registerLawyer(input: $i) { id } }",
        json!({"i": {"fullName": "Aida Lawyer", "gender": "FEMALE", "status": "PROFESSIONAL", "region": "OSH", "languages": ["ky"]}}),
    )
    .await["registerLawyer"]["id"]
        .clone();
    let lawyer = token(
        gql(admin.clone(), new_token, json!({"i": {"name": "lawyer", "role": "LAWYER", "lawyerId": lawyer_id}})).await,
    );

    // A second administrator approves the intake worker's account, the coordinator the
    // lawyer's (accounts that read identity need a second person).
    let approver =
        tests::probono(&db, &["token", "create", "--role", "ADMIN", "--name", "approver"]).await.trim().to_string();
    let approve = "mutation($a: ID!) { approveAccount(accountId: $a) { approved } }";
    for (who, by) in [(&intake, &approver), (&lawyer, &coordinator)] {
        let id = gql(who.clone(), "{ me { id } }", json!({})).await["me"]["id"].clone();
        gql(by.clone(), approve, json!({ "a": id })).await;
    }

    // Intake with a known name and document number, a lawyer, a sealed note.
    let case = gql(
        intake.clone(),
        "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id } }",
        json!({"i": {
            "identifiedOn": "2020-03-02", "referralSource": "NGO_OUTREACH", "exploitationTypes": ["FORCED_LABOR"],
            "client": {"fullName": CLIENT_NAME, "gender": "MALE", "documentNumber": DOCUMENT, "contact": "+996 555 000 111"},
            "consent": {"legalAid": true, "reportToPolice": true, "dataSharing": true}}}),
    )
    .await["openIntake"]["id"]
        .clone();
    gql(
        coordinator.clone(),
        "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }",
        json!({"c": case, "l": lawyer_id}),
    )
    .await;
    gql(lawyer.clone(), "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({"c": case})).await;
    let d = gql(
        lawyer.clone(),
        "mutation($c: ID!, $n: String) { recordLegalAction(input: {caseId: $c, kind: CONSULTATION, takenOn: \"2020-03-05\", note: $n}) { legalActions { hasNote } } }",
        json!({"c": case, "n": NOTE}),
    )
    .await;
    assert_eq!(d["recordLegalAction"]["legalActions"][0]["hasNote"], true);
    // The identity is read back (and that read is logged).
    let d = gql(
        intake.clone(),
        "query($c: ID!) { case(id: $c) { identity { fullName documentNumber } } }",
        json!({"c": case}),
    )
    .await;
    assert_eq!(d["case"]["identity"], json!({"fullName": CLIENT_NAME, "documentNumber": DOCUMENT}));
    server.kill();

    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() > 20, "the server logged at trace: {} lines", lines.len());
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(v.is_object(), "a JSON object per line: {line}");
    }
    assert!(lines.iter().any(|l| l.contains("\"level\":\"DEBUG\"")), "the filter let verbose lines through");
    assert!(
        lines.iter().any(|l| l.contains(request_id) && l.contains("identity read")),
        "the identity read is logged with the request id"
    );
    for token in [&admin, &intake, &coordinator, &lawyer] {
        assert!(!log.contains(token.as_str()), "a bearer token is in the server log");
        let secret = token.trim_start_matches("pbl_");
        assert!(!log.contains(secret), "a bearer token's secret is in the server log");
    }
    for (what, s) in [("client name", CLIENT_NAME), ("document number", DOCUMENT), ("sealed note", NOTE)] {
        assert!(!log.contains(s), "the {what} {s:?} is in the server log");
    }
    assert_no_identity("the server binary's log", &log);
}
