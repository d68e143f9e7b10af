//! Logs and metrics carry no identity. This binary installs, once, a global tracing
//! subscriber at TRACE for every crate (ours, sqlx, hyper, …) writing into memory, runs a
//! whole case with identity reads, an erasure and errors, and searches what was logged and
//! what `/metrics` shows for the client's identity, the sealed note and the bearer tokens.

use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tests::fixtures::*;
use tests::{Backend, TestApp};

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_and_metrics_hold_no_identity_even_at_trace() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");

    let t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    represent_and_report(&t, &w, &case).await;
    let (_, body) = t
        .gql_full(
            &w.intake,
            "query($id: ID!) { case(id: $id) { identity { fullName dateOfBirth contact documentNumber narrative } } }",
            json!({"id": case}),
            Some("log-test-read-1"),
        )
        .await;
    assert_eq!(body["data"]["case"]["identity"]["documentNumber"], CLIENT_DOCUMENT, "{body}");
    let q = "query($id: ID!) { case(id: $id) { identity(purpose: \"reassignment\") { fullName narrative } } }";
    t.ok(&w.coordinator, q, json!({"id": case})).await;
    // Refusals and bad input, which are logged at debug/trace on their way out.
    assert_eq!(t.err(&w.auditor, q, json!({"id": case})).await, "FORBIDDEN");
    let bad = format!("{{ case(id: \"{CLIENT_NAME}\") {{ id }} }}");
    assert_eq!(t.err(&w.auditor, &bad, json!({})).await, "BAD_USER_INPUT");
    let code = case_mutation_err(
        &t,
        &w.intake,
        "updateClientIdentity",
        "UpdateClientIdentityInput",
        json!({"caseId": case, "identity": {"fullName": CLIENT_NAME, "dateOfBirth": "2999-01-01"}}),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT");
    t.ok(
        &t.admin,
        "mutation($i: CaseReasonInput!) { eraseClientData(input: $i) { id } }",
        json!({"i": {"caseId": case, "reason": "client request"}}),
    )
    .await;
    let metrics = t.client().get(t.url("/metrics")).send().await.unwrap().text().await.unwrap();
    t.stop().await;

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    // Logging worked, at every level, with the correlation id.
    assert!(logs.contains("log-test-read-1"), "the request id must be in the logs");
    assert!(logs.contains("identity read"), "the identity read is logged (without the identity)");
    assert!(logs.contains("INSERT INTO events"), "sqlx statements are logged at this level");
    assert!(logs.contains("TRACE"), "trace events are captured");
    assert!(metrics.contains("probono_identity_reads_total{role=\"INTAKE_WORKER\"} 1"), "{metrics}");
    assert!(metrics.contains("probono_http_requests_total"), "{metrics}");

    let tokens = [&t.admin, &w.intake, &w.coordinator, &w.auditor, &w.lawyer_a, &w.lawyer_b];
    for (what, text) in [("the logs", &logs), ("/metrics", &metrics)] {
        for secret in IDENTITY_SECRETS.iter().chain(&[LEGAL_NOTE, "Bolot", "Construction work", "construction work"]) {
            assert!(!text.contains(secret), "identity {secret:?} found in {what}");
        }
        for token in tokens {
            // The random part of a bearer token (after `pbl_`).
            assert!(!text.contains(&token[4..]), "a bearer token found in {what}");
        }
    }
}
