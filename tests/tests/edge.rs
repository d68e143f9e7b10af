//! The hardened HTTP edge (SQLite; nothing here depends on the store): query depth and
//! complexity limits, the body limit, the request time limit, the per-token mutation rate
//! limit, introspection off, and internal errors that reveal nothing.

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tests::api::http::EdgeConfig;
use tests::fixtures::{open_case, world, CASE_FIELDS};
use tests::{Backend, TestApp, TestDb};

async fn spawn(edge: EdgeConfig) -> TestApp {
    TestApp::spawn_with(TestDb::new(Backend::Sqlite).await, edge).await
}

fn first_error(body: &Value) -> (&str, &str) {
    let e = &body["errors"][0];
    (
        e["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}")),
        e["message"].as_str().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_deep_or_too_complex_queries_are_refused_as_bad_input() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    // Introspection's `ofType` nests as deep as a client likes.
    let deep = format!("{{ __schema {{ types {{ {} name {} }} }} }}", "ofType {".repeat(12), "}".repeat(12));
    let (status, body) = t.gql_full(&t.admin, &deep, json!({}), None).await;
    assert_eq!(status, 200);
    assert_eq!(first_error(&body), ("BAD_USER_INPUT", "Query is nested too deep."));
    assert!(body["data"].is_null());
    let ok = format!("{{ __schema {{ types {{ {} name {} }} }} }}", "ofType {".repeat(5), "}".repeat(5));
    t.ok(&t.admin, &ok, json!({})).await;

    // A page of cases costs its page size times its selection: a full page of 100 cases
    // with every usual field is fine, a hundred aliased pages are not.
    let page = format!("{{ cases(first: 100) {{ totalCount edges {{ cursor node {{ {CASE_FIELDS} }} }} }} }}");
    t.ok(&t.admin, &page, json!({})).await;
    let aliases: String = (0..101).map(|i| format!("p{i}: cases(first: 100) {{ totalCount }} ")).collect();
    let body = t.gql(&t.admin, &format!("{{ {aliases} }}"), json!({})).await;
    assert_eq!(first_error(&body), ("BAD_USER_INPUT", "Query is too complex."));
    let flood: String = (0..10_001).map(|i| format!("m{i}: me {{ id }} ")).collect();
    let body = t.gql(&t.admin, &format!("{{ {flood} }}"), json!({})).await;
    assert_eq!(first_error(&body).0, "BAD_USER_INPUT");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_refused_with_413_and_the_server_carries_on() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let padding = " ".repeat(1024 * 1024);
    let body = format!(r#"{{"query": "{{ me {{ id }} }}{padding}"}}"#);
    for token in [t.admin.as_str(), ""] {
        let mut req = t.client().post(t.url("/graphql")).header("content-type", "application/json").body(body.clone());
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 413);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(first_error(&v).0, "BAD_USER_INPUT");
    }
    // Just under the limit is fine.
    let padding = " ".repeat(200 * 1024);
    let resp = t
        .client()
        .post(t.url("/graphql"))
        .bearer_auth(&t.admin)
        .header("content-type", "application/json")
        .body(format!(r#"{{"query": "{{ me {{ role }} }}{padding}"}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["data"]["me"]["role"], "ADMIN");
    // Not JSON at all: a typed error, not a crash.
    let resp = t.client().post(t.url("/graphql")).bearer_auth(&t.admin).body("{{{").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(first_error(&resp.json::<Value>().await.unwrap()).0, "BAD_USER_INPUT");
    t.stop().await;
}

async fn orgs(t: &TestApp) -> usize {
    t.ok(&t.admin, "{ organizations { id } }", json!({})).await["organizations"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutations_beyond_a_tokens_rate_get_429_and_change_nothing() {
    let t = spawn(EdgeConfig { mutation_rate: 2.0, mutation_burst: 2, ..EdgeConfig::default() }).await;
    let register = "mutation($n: String!) { registerOrganization(input: {name: $n, kind: NGO}) { id } }";
    t.ok(&t.admin, register, json!({"n": "One"})).await;
    t.ok(&t.admin, register, json!({"n": "Two"})).await;
    let (status, body) = t.gql_full(&t.admin, register, json!({"n": "Three"}), None).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(first_error(&body).0, "CONFLICT");
    let retry = body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64().expect("retryAfterSeconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(orgs(&t).await, 2, "the refused mutation changed nothing; queries are not limited");
    // Each token has its own bucket.
    let other = t
        .app
        .create_account(
            &tests::api::app::CommandMeta::system("test"),
            domain::values::Text::parse("name", "second admin").unwrap(),
            domain::values::Role::Admin,
            None,
            None,
            None,
        )
        .await
        .unwrap()
        .token;
    t.ok(&other, register, json!({"n": "Other"})).await;
    // A document with more mutations than a full bucket holds can never run.
    let three = "mutation { a: registerOrganization(input: {name: \"A\", kind: NGO}) { id }
        b: registerOrganization(input: {name: \"B\", kind: NGO}) { id }
        c: registerOrganization(input: {name: \"C\", kind: NGO}) { id } }";
    let (status, body) = t.gql_full(&other, three, json!({}), None).await;
    assert_eq!((status, first_error(&body).0), (400, "BAD_USER_INPUT"));
    // After the advertised wait the token may write again.
    tokio::time::sleep(Duration::from_secs(retry)).await;
    t.ok(&t.admin, register, json!({"n": "Three"})).await;
    assert_eq!(orgs(&t).await, 4);
    let metrics = t.client().get(t.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("probono_rate_limited_total"), "{metrics}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_introspection_off_the_schema_and_graphiql_are_not_served() {
    let t = spawn(EdgeConfig { introspection: false, ..EdgeConfig::default() }).await;
    for q in [
        "{ __schema { types { name } } }",
        "{ __type(name: \"Case\") { fields { name } } }",
        "query { ...F } fragment F on QueryRoot { ... on QueryRoot { __schema { queryType { name } } } }",
    ] {
        let body = t.gql(&t.admin, q, json!({})).await;
        assert_eq!(first_error(&body).0, "BAD_USER_INPUT", "{body}");
        assert!(body["data"].is_null() || body["data"]["__schema"].is_null(), "{body}");
    }
    assert_ne!(t.client().get(t.url("/graphql")).send().await.unwrap().status().as_u16(), 200);
    assert_eq!(t.ok(&t.admin, "{ me { role } }", json!({})).await["me"]["role"], "ADMIN");
    t.stop().await;

    // On (the default): both served.
    let t = TestApp::spawn(Backend::Sqlite).await;
    let d = t.ok(&t.admin, "{ __schema { queryType { name } } }", json!({})).await;
    assert_eq!(d["__schema"]["queryType"]["name"], "QueryRoot");
    assert_eq!(t.client().get(t.url("/graphql")).send().await.unwrap().status().as_u16(), 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_errors_say_internal_error_and_nothing_else() {
    let t = TestApp::spawn(Backend::Sqlite).await;
    let w = world(&t).await;
    let case = open_case(&t, &w, true).await;
    let tests::projections::Db::Sqlite(pool) = &t.app.db else { unreachable!() };

    // A wrapped data key that no longer opens (as after a botched key restore).
    sqlx::query("UPDATE data_keys SET wrapped_key = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE case_id = $1")
        .bind(&case)
        .execute(pool)
        .await
        .unwrap();
    let q = "query($id: ID!) { case(id: $id) { identity { fullName } } }";
    let body = t.gql(&w.intake, q, json!({"id": case})).await;
    assert_eq!(first_error(&body), ("INTERNAL", "internal error"));
    let reads = tests::api::privacy::list(&t.app.db, &Default::default(), 10, None).await.unwrap();
    assert_eq!(reads.total, 0, "nothing was decrypted, so nothing is logged");

    // A read-model row that no longer parses.
    sqlx::query("UPDATE rm_case SET doc = '{\"not\": \"a case\"}' WHERE id = $1")
        .bind(&case)
        .execute(pool)
        .await
        .unwrap();
    let (status, body) =
        t.gql_full(&w.auditor, "query($id: ID!) { case(id: $id) { id } }", json!({"id": case}), None).await;
    assert_eq!(status, 200);
    assert_eq!(first_error(&body), ("INTERNAL", "internal error"));
    let text = body.to_string();
    for leak in ["rm_case", "SELECT", "sqlx", "missing field", "panicked", "src/", ".rs:"] {
        assert!(!text.contains(leak), "{leak:?} leaked in {text}");
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_the_time_limit_is_ended_with_408() {
    let t = spawn(EdgeConfig { request_timeout: Duration::from_millis(300), ..EdgeConfig::default() }).await;
    // Another writer holds SQLite's write lock, so the mutation waits for it.
    let url = t.db.url.clone();
    let mut blocker = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
    let started = Instant::now();
    let (status, body) = t
        .gql_full(
            &t.admin,
            "mutation { registerOrganization(input: {name: \"Slow\", kind: NGO}) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(status, 408, "{body}");
    assert_eq!(first_error(&body).0, "INTERNAL");
    assert!(started.elapsed() < Duration::from_secs(3), "ended at the limit, not when the lock was released");
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    assert_eq!(t.ok(&t.admin, "{ me { role } }", json!({})).await["me"]["role"], "ADMIN");
    t.stop().await;
}
