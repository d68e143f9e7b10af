//! Hardening against what an attacker and a careless operator do: each test reproduces a
//! finding from outside, against the real router (or binary), on both stores where it
//! applies.

use serde_json::json;
use std::time::{Duration, Instant};
use tests::{on_both_backends, Backend, TestApp};

/// A few kilobytes of nested list literal (or input object) used to overflow a worker's
/// stack and end the process. Now: `BAD_USER_INPUT`, and the server stays up.
async fn deeply_nested_input_is_refused_and_the_server_stays_up(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let lists = format!("{{ me(x: {}1{}) {{ id }} }}", "[".repeat(2_500), "]".repeat(2_500));
    let objects = format!("{{ me(x: {}1{}) {{ id }} }}", "{a: ".repeat(2_500), "}".repeat(2_500));
    for q in [lists, objects] {
        let body = t.gql(&t.admin, &q, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("nests"), "{body}");
    }
    let health = reqwest::get(t.url("/healthz")).await.expect("the server is still up");
    assert!(health.status().is_success());
    t.ok(&t.admin, "{ me { id } }", json!({})).await;
}

/// 27 fragments that each spread the previous one twice (about 1 KB) took 34 s of CPU in
/// validation and stalled `/healthz`. Now refused at once.
async fn exponential_fragments_are_refused_at_once(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let mut q = String::from("query { ...F26 }\nfragment F0 on QueryRoot { me { id } }\n");
    for i in 1..27 {
        q.push_str(&format!("fragment F{i} on QueryRoot {{ ...F{p} ...F{p} }}\n", p = i - 1));
    }
    let started = Instant::now();
    let (a, b) = tokio::join!(t.gql(&t.admin, &q, json!({})), t.gql(&t.admin, &q, json!({})));
    for body in [a, b] {
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    }
    assert!(started.elapsed() < Duration::from_secs(2), "refused in {:?}", started.elapsed());
    let started = Instant::now();
    assert!(reqwest::get(t.url("/healthz")).await.unwrap().status().is_success());
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// Deleting `master.key` beside a seeded SQLite ledger made the server generate a new key
/// and start; every identity read then failed and new intakes were sealed under the new key.
/// Now it refuses to start, names the file, and writes no key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_master_key_is_noticed_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("probono.db").display());
    let out = tests::run_probono(&["demo", "seed", "--database-url", &url]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let key = dir.path().join("master.key");
    assert!(key.exists(), "the first run generated the key beside the database");
    std::fs::remove_file(&key).unwrap();
    let err = api::App::open(&api::config::StoreArgs::with_url(&url)).await.err().expect("refused to start");
    let msg = err.to_string();
    assert!(msg.contains("master.key") && msg.contains("missing") && msg.contains("restore"), "{msg}");
    assert!(!key.exists(), "no new key was generated");
    // The CLI says the same and exits non-zero.
    let out = tests::run_probono(&["migrate", "--database-url", &url]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("master key file"), "{}", out.stderr);
    assert!(!key.exists());
}

/// A key that does not open the stored data keys is refused at start-up, on both stores.
async fn a_wrong_master_key_is_refused_at_start_up(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    tests::fixtures::open_case(&t, &w, true).await;
    let other = t.db.key_file.with_file_name("other.key");
    api::privacy::crypto::MasterKey::generate(&other).unwrap();
    let mut store = t.db.store_args();
    store.master_key_file = Some(other.clone());
    let err = api::App::open(&store).await.err().expect("refused to start");
    assert!(err.to_string().contains("does not open the data keys"), "{err}");
    // The right key still opens.
    assert!(api::App::open(&t.db.store_args()).await.is_ok());
}

on_both_backends!(
    deeply_nested_input_is_refused_and_the_server_stays_up,
    exponential_fragments_are_refused_at_once,
    a_wrong_master_key_is_refused_at_start_up
);

/// A coordinator's purpose of "x" or a zero-width space used to read identity, and
/// right-to-left overrides were accepted in names, reasons and purposes.
async fn free_text_is_checked_for_meaning_and_invisible_characters(backend: Backend) {
    use tests::fixtures::{case_mutation_err, open_case, world};
    let t = TestApp::spawn(backend).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    let read =
        |p: &str| format!("query($id: ID!) {{ case(id: $id) {{ identity(purpose: {}) {{ fullName }} }} }}", json!(p));
    for bad in ["x", "\u{200B}", "ok\u{202E}", "1234567890", "see file"] {
        let code = t.err(&w.coordinator, &read(bad), json!({ "id": case })).await;
        assert_eq!(code, "BAD_USER_INPUT", "purpose {bad:?}");
    }
    for good in ["contact_client", "LEGAL_REPRESENTATION", "preparing the complaint to the prosecutor"] {
        let d = t.ok(&w.coordinator, &read(good), json!({ "id": case })).await;
        assert_eq!(d["case"]["identity"]["fullName"], tests::fixtures::CLIENT_NAME, "purpose {good:?}");
    }
    let log = t.ok(&t.admin, "query($id: ID!) { identityReads(caseId: $id) { purpose } }", json!({ "id": case })).await;
    let purposes: Vec<&str> =
        log["identityReads"].as_array().unwrap().iter().filter_map(|r| r["purpose"].as_str()).collect();
    assert!(purposes.contains(&"CONTACT_CLIENT"), "{purposes:?}");
    // Names, reasons and units with a right-to-left override are refused.
    let q = "mutation($i: RegisterLawyerInput!) { registerLawyer(input: $i) { id } }";
    let i =
        json!({ "i": { "fullName": "Aida\u{202E}avorab", "gender": "FEMALE", "status": "STUDENT", "region": "OSH" } });
    assert_eq!(t.err(&w.coordinator, q, i).await, "BAD_USER_INPUT");
    let close = json!({ "caseId": case, "reason": "duplicate\u{2066} record" });
    assert_eq!(case_mutation_err(&t, &w.coordinator, "closeCase", "CaseReasonInput", close).await, "BAD_USER_INPUT");
}

on_both_backends!(free_text_is_checked_for_meaning_and_invisible_characters);

/// The identity-read log is evidence: the database refuses to change or delete its rows.
async fn the_identity_read_log_is_append_only(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, true).await;
    let q = "query($id: ID!) { case(id: $id) { identity { fullName } } }";
    t.ok(&w.intake, q, json!({ "id": case })).await;
    let db = &t.app.db;
    let n = |db: &projections::Db| {
        let db = db.clone();
        async move {
            projections::on_db!(&db, p => sqlx::query_scalar::<_, i64>("SELECT count(*) FROM identity_reads").fetch_one(p).await.unwrap())
        }
    };
    assert_eq!(n(db).await, 1);
    for sql in ["UPDATE identity_reads SET purpose = 'forged'", "DELETE FROM identity_reads"] {
        let r = projections::on_db!(db, p => sqlx::query(sql).execute(p).await.map(|_| ()));
        let e = r.expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(n(db).await, 1, "the read is still on record");
}

/// With introspection off, a misspelt field gets no "Did you mean …?" that would reveal the
/// schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_suggestions_reveal_the_schema_when_introspection_is_off() {
    let on = api::graphql::build_schema(None, true);
    let off = api::graphql::build_schema(None, false);
    let q = "{ caes(id: \"x\") { id } }";
    let with = on.execute(q).await;
    assert!(with.errors[0].message.contains("Did you mean"), "{:?}", with.errors);
    let without = off.execute(q).await;
    assert!(!without.errors.is_empty());
    assert!(!without.errors[0].message.contains("Did you mean"), "{:?}", without.errors);
}

on_both_backends!(the_identity_read_log_is_append_only);

/// SQLite ledgers were created 0644, readable by every user of the machine; now 0600 like
/// the master key (and their folder 0700 when the server creates it).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_sqlite_ledger_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = format!("sqlite://{}", data.join("probono.db").display());
    let app = api::App::open(&api::config::StoreArgs::with_url(&url)).await.unwrap();
    app.projector.catch_up().await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the folder");
    let mut seen = 0;
    for name in ["probono.db", "probono.db-wal", "probono.db-shm", "master.key"] {
        let p = data.join(name);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{name}");
            seen += 1;
        }
    }
    assert!(seen >= 3, "the database, its write-ahead log and the key exist");
    app.db.close().await;
}

/// A client's `x-request-id` used to become the event's correlation id and the identity
/// read's request id, so a client could file its actions under any id it liked. Now the
/// server names the request; the client's id is kept apart, labelled as the client's.
async fn a_client_cannot_choose_the_correlation_id(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, true).await;
    let forged = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
    let client = reqwest::Client::new();
    let send = |token: &str, query: &str, variables: serde_json::Value| {
        client
            .post(t.url("/graphql"))
            .bearer_auth(token)
            .header("x-request-id", forged)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let close = "mutation($i: CaseReasonInput!) { closeCase(input: $i) { id } }";
    let resp =
        send(&w.coordinator, close, json!({ "i": { "caseId": case, "reason": "client moved abroad" } })).await.unwrap();
    let server_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(server_id, forged);
    assert_eq!(resp.headers()["x-client-request-id"], forged);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let resp = send(&w.intake, "query($id: ID!) { case(id: $id) { identity { fullName } } }", json!({ "id": case }))
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let trail = t
        .ok(
            &w.coordinator,
            "query($id: ID!) { auditTrail(caseId: $id) { eventType correlationId } }",
            json!({ "id": case }),
        )
        .await;
    let closed = trail["auditTrail"].as_array().unwrap().iter().find(|e| e["eventType"] == "CaseClosed").unwrap();
    assert_eq!(closed["correlationId"], server_id.as_str(), "the event carries the server's id");
    let reads =
        t.ok(&t.admin, "query($id: ID!) { identityReads(caseId: $id) { correlationId } }", json!({ "id": case })).await;
    for r in reads["identityReads"].as_array().unwrap() {
        assert_ne!(r["correlationId"], forged, "{r}");
    }
    // The client's id is kept, apart, in the hashed metadata of the event.
    let rows = api::audit::stream_rows(&t.app.db, "Case", &case).await.unwrap();
    let meta: serde_json::Value = serde_json::from_str(&rows.last().unwrap().metadata).unwrap();
    assert_eq!(meta["client_request_id"], forged);
    assert_eq!(meta["correlation_id"], server_id.as_str());
}

on_both_backends!(a_client_cannot_choose_the_correlation_id);

/// The introspection query GraphiQL and client libraries send (graphql-js
/// `getIntrospectionQuery`, Python gql's `fetch_schema_from_transport`) was refused as
/// "nested too deep"; it works now, while the depth limit still holds for data.
async fn the_standard_introspection_query_works_and_data_stays_depth_limited(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let body = t.gql(&t.admin, STANDARD_INTROSPECTION, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    let types = body["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|ty| ty["name"] == "Case"), "the schema is described");
    // Data keeps the depth limit (12), also inside a request that asks for the schema too.
    let deep_type = format!(
        "__type(name: \"Case\") {{ fields {{ type {{ {}name{} }} }} }}",
        "ofType { ".repeat(10),
        " }".repeat(10)
    );
    let alone = t.gql(&t.admin, &format!("{{ {deep_type} }}"), json!({})).await;
    assert!(alone.get("errors").is_none(), "{alone}");
    let mixed = t.gql(&t.admin, &format!("{{ me {{ id }} {deep_type} }}"), json!({})).await;
    assert_eq!(mixed["errors"][0]["message"], "Query is nested too deep.", "{mixed}");
    let data = "{ cases { edges { node { policeReports { reclassifications { from { title } } } } } } }";
    assert!(t.gql(&t.admin, data, json!({})).await.get("errors").is_none());
}

const STANDARD_INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

on_both_backends!(the_standard_introspection_query_works_and_data_stays_depth_limited);

/// A lawyer read a client's whole identity before accepting the case and after it was
/// closed. Now: before accepting, the name only (for a conflict-of-interest check); after
/// closing, nothing; the client's organisation keeps its record.
async fn a_lawyers_identity_access_follows_their_part_in_the_case(backend: Backend) {
    use tests::fixtures::{case_mutation, open_case, world};
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
    let q = "query($id: ID!) { case(id: $id) { identity { fullName contact dateOfBirth narrative } } }";
    let offered = t.ok(&w.lawyer_a, q, json!({ "id": case })).await;
    let id = &offered["case"]["identity"];
    assert_eq!(id["fullName"], tests::fixtures::CLIENT_NAME);
    assert!(id["contact"].is_null() && id["dateOfBirth"].is_null() && id["narrative"].is_null(), "{id}");
    let log =
        t.ok(&t.admin, "query($id: ID!) { identityReads(caseId: $id) { role fields } }", json!({ "id": case })).await;
    assert_eq!(log["identityReads"][0]["fields"], json!(["fullName"]), "the log says what was shown");
    case_mutation(&t, &w.lawyer_a, "acceptAssignment", "CaseIdInput", json!({"caseId": case})).await;
    let represented = t.ok(&w.lawyer_a, q, json!({ "id": case })).await;
    assert!(represented["case"]["identity"]["contact"].is_string(), "{represented}");
    case_mutation(
        &t,
        &w.lawyer_a,
        "closeCase",
        "CaseReasonInput",
        json!({"caseId": case, "reason": "proceedings completed"}),
    )
    .await;
    assert_eq!(t.err(&w.lawyer_a, q, json!({ "id": case })).await, "FORBIDDEN");
    let kept = t.ok(&w.intake, q, json!({ "id": case })).await;
    assert_eq!(kept["case"]["identity"]["fullName"], tests::fixtures::CLIENT_NAME);
}

on_both_backends!(a_lawyers_identity_access_follows_their_part_in_the_case);

/// GraphQL over HTTP (the GraphQL Foundation's specification): the media type the client
/// accepts, 400 for a request that does not parse or validate under
/// `application/graphql-response+json`, 415 for a body that is not JSON, and a
/// `WWW-Authenticate` challenge on 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_over_http_is_spoken_as_the_specification_says() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let client = reqwest::Client::new();
    let post = |accept: Option<&'static str>, body: serde_json::Value| {
        let mut r = client.post(t.url("/graphql")).bearer_auth(&t.admin).json(&body);
        if let Some(a) = accept {
            r = r.header("accept", a);
        }
        r.send()
    };
    let media = |r: &reqwest::Response| r.headers()["content-type"].to_str().unwrap().to_string();
    let gql = "application/graphql-response+json";
    // Parse and validation errors: 400 and no `data` with the GraphQL media type.
    for q in ["{ me { id ", "{ noSuchField }"] {
        let r = post(Some(gql), json!({ "query": q })).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert!(media(&r).starts_with(gql));
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body.get("data").is_none(), "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        // A client that accepts only application/json gets that, with 200.
        let r = post(Some("application/json"), json!({ "query": q })).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(media(&r).starts_with("application/json"), "{}", media(&r));
    }
    let r = post(Some(gql), json!({ "query": "{ me { id } }" })).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(media(&r).starts_with(gql));
    let r = post(None, json!({ "query": "{ me { id } }" })).await.unwrap();
    assert!(media(&r).starts_with("application/json"));
    // A body that is not JSON.
    let r = client
        .post(t.url("/graphql"))
        .bearer_auth(&t.admin)
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    // No token: a challenge that names the scheme.
    let r = client.post(t.url("/graphql")).json(&json!({ "query": "{ me { id } }" })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
}

/// A mobile client that lost the answer to an intake and sent it again recorded the client
/// twice. Now a mutation sent with the same `Idempotency-Key` and body is answered with the
/// first answer and records nothing more; the same key with another body is refused (422);
/// an answer that held the client's identity is not kept, and its replay says so.
async fn a_retried_change_with_the_same_idempotency_key_is_recorded_once(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let client = reqwest::Client::new();
    let send = |key: &'static str, query: String, variables: serde_json::Value| {
        client
            .post(t.url("/graphql"))
            .bearer_auth(&w.intake)
            .header("idempotency-key", key)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let intake = |name: &str| {
        json!({ "i": {
            "identifiedOn": "2021-05-04", "referralSource": "HOTLINE", "exploitationTypes": ["FORCED_LABOR"],
            "countryOfExploitation": "ru",
            "client": { "fullName": name, "gender": "FEMALE", "ageAtIdentification": 29, "citizenship": "KG", "region": "OSH_CITY" },
            "consent": { "legalAid": true, "reportToPolice": true, "dataSharing": false } } })
    };
    let count = || async {
        t.ok(&t.admin, "{ cases { totalCount } }", json!({})).await["cases"]["totalCount"].as_i64().unwrap()
    };
    let open = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id status } }".to_string();
    let first = send("intake-7f3a", open.clone(), intake("Ainura Test")).await.unwrap();
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap_or_default());
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: serde_json::Value = first.json().await.unwrap();
    let id = first["data"]["openIntake"]["id"].as_str().expect("opened").to_string();
    assert_eq!(count().await, 1);
    let first_events = api::audit::stream_rows(&t.app.db, "Case", &id).await.unwrap().len();
    let again = send("intake-7f3a", open.clone(), intake("Ainura Test")).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again, first, "the first answer, word for word");
    assert_eq!(count().await, 1, "nothing recorded twice");
    let rows = api::audit::stream_rows(&t.app.db, "Case", &id).await.unwrap();
    assert_eq!(rows.len(), first_events, "no event more");
    // The same key for another change: refused, nothing recorded.
    let other = send("intake-7f3a", open.clone(), intake("Another Person")).await.unwrap();
    assert_eq!(other.status(), 422);
    let other: serde_json::Value = other.json().await.unwrap();
    assert_eq!(other["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{other}");
    assert_eq!(count().await, 1);
    // An answer holding the client's identity is not stored in the key table.
    let secret = "mutation($i: OpenIntakeInput!) { openIntake(input: $i) { id identity { fullName } } }".to_string();
    let r: serde_json::Value =
        send("intake-9c01", secret.clone(), intake("Secret Person")).await.unwrap().json().await.unwrap();
    assert_eq!(r["data"]["openIntake"]["identity"]["fullName"], "Secret Person", "{r}");
    let replay = send("intake-9c01", secret, intake("Secret Person")).await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(replay["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{replay}");
    assert_eq!(count().await, 2);
    let dump = tests::dump_database(&t.app.db).await;
    assert!(!dump.contains("Secret Person"), "no identity in any stored answer");
    // A key that is not a key.
    let bad = send("has space", open, intake("X Y")).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(count().await, 2);
}

on_both_backends!(a_retried_change_with_the_same_idempotency_key_is_recorded_once);

/// `/metrics` was public: anyone who reached the port learned how the service is used (how
/// many intakes, identity reads, errors). Now the main address answers it only to an ADMIN's
/// or AUDITOR's token; `--metrics-bind` serves it without a token on a second address alone.
async fn metrics_need_an_oversight_token_or_their_own_address(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let client = reqwest::Client::new();
    let get = |token: Option<&str>| {
        let mut r = client.get(t.url("/metrics"));
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        r.send()
    };
    let anonymous = get(None).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let body = anonymous.text().await.unwrap();
    assert!(!body.contains("probono_"), "{body}");
    for token in [&w.intake, &w.coordinator, &w.lawyer_a] {
        let r = get(Some(token)).await.unwrap();
        assert_eq!(r.status(), 403);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("--metrics-bind"), "{body}");
    }
    for token in [&t.admin, &w.auditor] {
        let r = get(Some(token)).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("probono_http_requests_total"));
    }
}

on_both_backends!(metrics_need_an_oversight_token_or_their_own_address);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_address_serves_metrics_and_nothing_else() {
    let db = tests::TestDb::new(Backend::Sqlite).await;
    db.ensure_key();
    let port = tests::free_port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let mut server = tests::ServerProcess::start_with(&db, &["--metrics-bind", &metrics_addr], &[]).await;
    let open = reqwest::get(format!("http://{metrics_addr}/metrics")).await.unwrap();
    assert_eq!(open.status(), 200);
    assert!(open.text().await.unwrap().contains("probono_http_requests_total"));
    let other = reqwest::Client::new()
        .post(format!("http://{metrics_addr}/graphql"))
        .json(&json!({ "query": "{ me { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "the metrics address serves nothing else");
    assert_eq!(reqwest::get(server.url("/metrics")).await.unwrap().status(), 401, "the main address still asks");
    server.kill();
}

/// One request ran 2,400 aliased mutations past a limit that counted requests; 200 aliased
/// case lists with timelines took seconds and megabytes. Now each mutation field is charged,
/// a request makes at most 25 changes and asks at most 30 top-level fields, and no answer is
/// larger than 4 MB.
async fn aliases_are_counted_one_by_one(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let orgs = || async {
        t.ok(&t.admin, "{ organizations { id } }", json!({})).await["organizations"].as_array().unwrap().len()
    };
    let before = orgs().await;
    let aliased = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("o{i}: registerOrganization(input: {{name: \"Alias NGO {i}\", kind: NGO}}) {{ id }} "))
            .collect();
        format!("mutation {{ {fields} }}")
    };
    // Over the cap: refused before anything runs.
    let body = t.gql(&t.admin, &aliased(26), json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("at most 25 changes"), "{body}");
    assert_eq!(orgs().await, before, "nothing recorded");
    // The rate limit charges each alias: a burst of 5 holds one request of 5, not of 6.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let router = api::http::router_with(
        t.app.clone(),
        api::http::EdgeOptions { introspection: true, mutation_rate: Some((0.01, 5.0)) },
    );
    tokio::spawn(async move { axum::serve(listener, router).await.ok() });
    let post = |q: String| {
        let url = url.clone();
        let token = t.admin.clone();
        async move { reqwest::Client::new().post(url).bearer_auth(token).json(&json!({ "query": q })).send().await.unwrap() }
    };
    let r = post(aliased(6)).await;
    assert_eq!(r.status(), 429, "six changes do not fit a burst of five");
    assert_eq!(orgs().await, before);
    let r = post(aliased(5)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(orgs().await, before + 5);
    let r = post(aliased(1)).await;
    assert_eq!(r.status(), 429, "the allowance is spent");
    // Queries: a budget of top-level fields.
    let many: String = (0..31).map(|i| format!("c{i}: cases {{ totalCount }} ")).collect();
    let body = t.gql(&t.admin, &format!("{{ {many} }}"), json!({})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let fewer: String = (0..30).map(|i| format!("c{i}: cases {{ totalCount }} ")).collect();
    t.ok(&t.admin, &format!("{{ {fewer} }}"), json!({})).await;
}

on_both_backends!(aliases_are_counted_one_by_one);

/// An ADMIN minted a token for an intake worker of the victim's organisation, read the
/// identity with it, and the log credited the read to the new account; nobody could see who
/// had created it. Now an account that can read identity reaches it only once a second
/// person approved it, and auditors see who created and who approved every reading account.
async fn an_account_reads_identity_only_after_a_second_person_approves_it(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, true).await;
    let me = |token: String| {
        let t = &t;
        async move { t.ok(&token, "{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string() }
    };
    let (admin_id, approver_id) = (me(t.admin.clone()).await, me(t.approver.clone()).await);
    let mint = "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { token account { id approved createdBy approvedBy } } }";
    let d = t
        .ok(
            &t.admin,
            mint,
            json!({ "i": { "name": "Nurgul (new worker)", "role": "INTAKE_WORKER", "organizationId": w.org } }),
        )
        .await;
    let account = d["createAccessToken"]["account"].clone();
    let (id, token) =
        (account["id"].as_str().unwrap().to_string(), d["createAccessToken"]["token"].as_str().unwrap().to_string());
    assert_eq!(account["approved"], false);
    assert_eq!(account["createdBy"], admin_id.as_str());
    assert!(account["approvedBy"].is_null());
    // Unapproved: the case, yes; its identity, no — and nothing is logged as read.
    let iq = "query($id: ID!) { case(id: $id) { id identity { fullName } } }";
    let body = t.gql(&token, iq, json!({ "id": case })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("not been approved"), "{body}");
    let reads = "query($a: ID) { identityReads(accountId: $a) { accountId accountCreatedBy accountApprovedBy } }";
    assert_eq!(t.ok(&w.auditor, reads, json!({ "a": id })).await["identityReads"].as_array().unwrap().len(), 0);
    // Its creator cannot approve it, nor can a coordinator (not a lawyer's account).
    let approve = "mutation($a: ID!) { approveAccount(accountId: $a) { approved approvedBy } }";
    assert_eq!(t.err(&t.admin, approve, json!({ "a": id })).await, "RULE_VIOLATION");
    assert_eq!(t.err(&w.coordinator, approve, json!({ "a": id })).await, "FORBIDDEN");
    assert_eq!(t.err(&w.intake, approve, json!({ "a": id })).await, "FORBIDDEN");
    let d = t.ok(&t.approver, approve, json!({ "a": id })).await;
    assert_eq!(d["approveAccount"]["approvedBy"], approver_id.as_str());
    assert_eq!(t.err(&t.approver, approve, json!({ "a": id })).await, "RULE_VIOLATION", "approved once");
    // Approved: the read works and the log names creator and approver.
    let d = t.ok(&token, iq, json!({ "id": case })).await;
    assert_eq!(d["case"]["identity"]["fullName"], tests::fixtures::CLIENT_NAME);
    let log = t.ok(&w.auditor, reads, json!({ "a": id })).await;
    assert_eq!(log["identityReads"][0]["accountCreatedBy"], admin_id.as_str());
    assert_eq!(log["identityReads"][0]["accountApprovedBy"], approver_id.as_str());
    // The account's own audit trail: who created it, its token, who approved it.
    let trail = t
        .ok(
            &w.auditor,
            "query($a: ID!) { accountAuditTrail(accountId: $a) { eventType actor { id } summary } }",
            json!({ "a": id }),
        )
        .await;
    let trail = trail["accountAuditTrail"].as_array().unwrap();
    let types: Vec<&str> = trail.iter().map(|e| e["eventType"].as_str().unwrap()).collect();
    assert_eq!(types, ["AccountCreated", "TokenIssued", "AccountApproved"]);
    assert_eq!(trail[0]["actor"]["id"], admin_id.as_str());
    assert_eq!(trail[2]["actor"]["id"], approver_id.as_str());
    let listed = t.ok(&w.auditor, "{ accounts { id approved createdBy } }", json!({})).await;
    assert!(listed["accounts"].as_array().unwrap().iter().any(|a| a["id"] == id.as_str() && a["approved"] == true));
    assert_eq!(t.err(&w.intake, "{ accounts { id } }", json!({})).await, "FORBIDDEN");
    // A lawyer's account: the COORDINATOR approves it, not an ADMIN.
    let d = t
        .ok(&t.admin, mint, json!({ "i": { "name": "Second login", "role": "LAWYER", "lawyerId": w.lawyer_a_id } }))
        .await;
    let lawyer_account = d["createAccessToken"]["account"]["id"].as_str().unwrap().to_string();
    assert_eq!(t.err(&t.approver, approve, json!({ "a": lawyer_account })).await, "FORBIDDEN");
    t.ok(&w.coordinator, approve, json!({ "a": lawyer_account })).await;
    // Roles that read no identity need no approval.
    let d = t.ok(&t.admin, mint, json!({ "i": { "name": "Auditor two", "role": "AUDITOR" } })).await;
    assert_eq!(d["createAccessToken"]["account"]["approved"], true);
}

on_both_backends!(an_account_reads_identity_only_after_a_second_person_approves_it);

/// Messages that say what to do: an unsupported URL was answered by a demand for a master
/// key; an unreachable PostgreSQL by "pool timed out"; a refusal by "your role or scope does
/// not allow this". Now each names what is wrong and what to do, and a URL's password is
/// never echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn startup_and_refusal_messages_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("master.key");
    let key = key.to_str().unwrap();
    let out = tests::run_probono(&["keys", "generate", "--out", key]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // An unsupported URL is named before any key is asked for, without its password.
    let out = tests::run_probono(&["migrate", "--database-url", "mysql://root:s3cr3t-pw@db.example/ledger"]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("unsupported database URL") && out.stderr.contains("sqlite://"), "{}", out.stderr);
    assert!(!out.stderr.contains("MASTER_KEY") && !out.stderr.contains("s3cr3t-pw"), "{}", out.stderr);
    // Nothing listens on this port: host and port are named.
    let port = tests::free_port().to_string();
    let url = format!("postgres://postgres@127.0.0.1:{port}/ledger");
    let out = tests::run_probono(&["migrate", "--database-url", &url, "--master-key-file", key]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}")), "{}", out.stderr);
    // A database that does not exist: how to create it.
    let admin = tests::pg_admin_url();
    let base = admin.rsplit_once('/').unwrap().0;
    let url = format!("{base}/no_such_ledger_db");
    let out = tests::run_probono(&["migrate", "--database-url", &url, "--master-key-file", key]).await;
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains("no database \"no_such_ledger_db\"") && out.stderr.contains("createdb"),
        "{}",
        out.stderr
    );
    // An enum on the command line lists its values.
    let sqlite = format!("sqlite://{}", dir.path().join("probono.db").display());
    let out =
        tests::run_probono(&["token", "create", "--role", "BOSS", "--name", "x", "--database-url", &sqlite]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("INTAKE_WORKER") && out.stderr.contains("AUDITOR"), "{}", out.stderr);
    // A port in use: the address, and what to do.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let out = tests::run_probono(&["serve", "--database-url", &sqlite, "--bind", &address]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains(&address) && out.stderr.contains("--bind"), "{}", out.stderr);

    // Refusals name who may do it, and a withheld consent says it is what blocks.
    let t = TestApp::spawn(Backend::Sqlite).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, false).await;
    let assign = "mutation($c: ID!, $l: ID!) { assignLawyer(input: {caseId: $c, lawyerId: $l}) { id } }";
    let body = t.gql(&w.intake, assign, json!({ "c": case, "l": w.lawyer_a_id })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("the COORDINATOR") && msg.contains("INTAKE_WORKER"), "{msg}");
    t.ok(&w.coordinator, assign, json!({ "c": case, "l": w.lawyer_a_id })).await;
    t.ok(&w.lawyer_a, "mutation($c: ID!) { acceptAssignment(input: {caseId: $c}) { id } }", json!({ "c": case })).await;
    let file = "mutation($c: ID!) { filePoliceReport(input: {caseId: $c, filedOn: \"2020-04-02\", policeUnit: \"Osh\"}) { id } }";
    let body = t.gql(&w.lawyer_a, file, json!({ "c": case })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "RULE_VIOLATION", "{body}");
    let msg = body["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("reporting to the police") && msg.contains("giveConsent"), "{msg}");
}

/// `case(id)` was null for an unknown id but FORBIDDEN for another organisation's case, so
/// any account could learn which case ids exist. Now both read as none, and a change aimed at
/// either gets the same NOT_FOUND, word for word but the id.
async fn another_organisations_case_reads_as_one_that_does_not_exist(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, true).await;
    let org = t
        .ok(&t.admin, "mutation { registerOrganization(input: {name: \"Other NGO\", kind: NGO}) { id } }", json!({}))
        .await;
    let other = tests::fixtures::token(&t, "INTAKE_WORKER", org["registerOrganization"]["id"].as_str(), None).await;
    let unknown = "7d4c2f1e-0000-4000-8000-00000000beef";
    let read = "query($id: ID!) { case(id: $id) { id } }";
    for id in [case.as_str(), unknown] {
        let body = t.gql(&other, read, json!({ "id": id })).await;
        assert_eq!(body, json!({ "data": { "case": null } }), "{id}");
    }
    let refer = "mutation($c: ID!) { referToService(input: {caseId: $c, service: SHELTER}) { id } }";
    let answers: Vec<(String, String)> = answers_for(&t, &other, refer, [case.as_str(), unknown]).await;
    for (id, (code, message)) in [case.as_str(), unknown].iter().zip(&answers) {
        assert_eq!(code, "NOT_FOUND");
        assert_eq!(message, &format!("no case {id}"));
    }
    // The organisation's own worker still reads it.
    t.ok(&w.intake, read, json!({ "id": case })).await;
}

async fn answers_for<const N: usize>(t: &TestApp, token: &str, q: &str, ids: [&str; N]) -> Vec<(String, String)> {
    let mut out = vec![];
    for id in ids {
        let body = t.gql(token, q, json!({ "c": id })).await;
        let e = &body["errors"][0];
        out.push((e["extensions"]["code"].as_str().unwrap_or("").into(), e["message"].as_str().unwrap_or("").into()));
    }
    out
}

on_both_backends!(another_organisations_case_reads_as_one_that_does_not_exist);

/// No answer is larger than 4 MB: the schema's types asked for again and again under
/// aliases (each copy well under the cap) are refused with a sentence that says to ask for
/// less, and one copy is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_larger_than_four_megabytes_is_refused() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let types = "types { name description fields { name description args { name description defaultValue type { name kind ofType { name kind ofType { name kind } } } } type { name kind ofType { name kind ofType { name kind } } } } inputFields { name description type { name kind ofType { name kind } } } enumValues { name description } }";
    let single = t.gql(&t.admin, &format!("{{ __schema {{ {types} }} }}"), json!({})).await;
    assert!(single.get("errors").is_none(), "{single}");
    let size = single.to_string().len();
    let copies = (4 << 20) / size + 2;
    assert!(copies < 200, "{size} bytes a copy");
    let many: String = (0..copies).map(|i| format!("t{i}: {types} ")).collect();
    let body = t.gql(&t.admin, &format!("{{ __schema {{ {many} }} }}"), json!({})).await;
    let text = body.to_string();
    assert!(text.len() < 10_000, "the refusal is short, not the answer: {} bytes", text.len());
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{text}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("larger than 4 MB"), "{text}");
    assert!(body["data"].is_null());
}

/// A query whose exact text was answered once runs without the validation rules that
/// depend on the text alone (ADR 0021). What those rules would have refused in the
/// variables is still refused on every repeat, with a typed error; a change, and a text
/// that never passed, are always validated in full.
async fn a_repeated_query_is_refused_what_its_first_run_refused(backend: Backend) {
    let t = TestApp::spawn(backend).await;
    let w = tests::fixtures::world(&t).await;
    let case = tests::fixtures::open_case(&t, &w, true).await;
    let reused = || async {
        let resp = reqwest::Client::new().get(t.url("/metrics")).bearer_auth(&t.admin).send().await.unwrap();
        let body = resp.text().await.unwrap();
        let line = body.lines().find(|l| l.starts_with("probono_graphql_validation_reused_total ")).unwrap_or("");
        line.rsplit(' ').next().and_then(|n| n.parse::<f64>().ok()).unwrap_or_else(|| panic!("no counter in\n{body}"))
    };
    let refused = |body: &serde_json::Value, field: &str| {
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert!(body["data"].is_null() || body["data"][field].is_null(), "{body}");
    };

    let read = "query($id: ID!) { case(id: $id) { id status } }";
    let first = t.ok(&w.intake, read, json!({ "id": case })).await;
    assert_eq!(first["case"]["id"], case.as_str());
    let before = reused().await;
    assert_eq!(t.ok(&w.intake, read, json!({ "id": case })).await, first, "the same answer");
    assert_eq!(reused().await, before + 1.0, "the repeat ran without the text's rules");
    // A value of the wrong type: refused with a typed error, the first time and every time.
    for bad in [json!({ "id": true }), json!({ "id": [1.5] }), json!({ "id": null }), json!({})] {
        refused(&t.gql(&w.intake, read, bad.clone()).await, "case");
    }
    // An enum value that does not exist.
    let region = "query($r: Region) { cases(filter: {region: $r}) { totalCount } }";
    t.ok(&w.intake, region, json!({ "r": "BISHKEK" })).await;
    for _ in 0..2 {
        refused(&t.gql(&w.intake, region, json!({ "r": "ATLANTIS" })).await, "cases");
    }
    // An input object is always validated in full: a misspelt filter field is refused every
    // time, never read as no filter at all.
    let filtered = "query($f: CaseFilter) { cases(filter: $f) { totalCount } }";
    t.ok(&w.intake, filtered, json!({ "f": { "region": "BISHKEK" } })).await;
    let n = reused().await;
    for _ in 0..2 {
        refused(&t.gql(&w.intake, filtered, json!({ "f": { "regoin": "BISHKEK" } })).await, "cases");
    }
    assert_eq!(reused().await, n, "input objects take the full validation");
    // A text that failed validation is never run without it.
    let misspelt = "query($id: ID!) { case(id: $id) { id staus } }";
    for _ in 0..2 {
        refused(&t.gql(&w.intake, misspelt, json!({ "id": case })).await, "case");
    }
    // A change is validated in full every time.
    let n = reused().await;
    let refer = "mutation($c: ID!) { referToService(input: {caseId: $c, service: SHELTER}) { id } }";
    for _ in 0..2 {
        t.ok(&w.intake, refer, json!({ "c": case })).await;
    }
    assert_eq!(reused().await, n, "changes take the full validation");
}

on_both_backends!(a_repeated_query_is_refused_what_its_first_run_refused);
