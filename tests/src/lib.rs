//! Test support: starts the real router on a random port over a fresh database (a SQLite
//! file in a temporary folder, or a new PostgreSQL database that is dropped afterwards)
//! and talks to it over HTTP, as a client would.

use api::app::{App, CommandMeta};
use api::config::StoreArgs;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub mod fixtures;

pub use api;
pub use projections;

/// Which event store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The administrative connection used to create and drop per-test databases.
pub fn pg_admin_url() -> String {
    std::env::var("PROBONO_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub url: String,
    pub key_file: std::path::PathBuf,
    dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let key_file = dir.path().join("master.key");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("probono.db").display());
                TestDb { url, key_file, dir, pg_name: None }
            }
            Backend::Postgres => {
                let name = format!("probono_t_{}", uuid::Uuid::new_v4().simple());
                let admin = pg_admin_url();
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .expect("PostgreSQL must be running for the PostgreSQL tests (see .ci/run)");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.clone());
                TestDb { url: format!("{base}/{name}"), key_file, dir, pg_name: Some(name) }
            }
        }
    }

    pub fn store_args(&self) -> StoreArgs {
        let mut s = StoreArgs::with_url(&self.url);
        s.master_key_file = Some(self.key_file.clone());
        s.db_max_connections = 8;
        s
    }

    /// Writes a fresh master key file (PostgreSQL has no generated default).
    fn ensure_key(&self) {
        if !self.key_file.exists() {
            let k: [u8; 32] = rand_bytes();
            std::fs::write(&self.key_file, hex(&k)).expect("write key file");
        }
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

fn rand_bytes() -> [u8; 32] {
    let u = uuid::Uuid::new_v4().into_bytes();
    let v = uuid::Uuid::new_v4().into_bytes();
    let mut k = [0u8; 32];
    k[..16].copy_from_slice(&u);
    k[16..].copy_from_slice(&v);
    k
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let admin = pg_admin_url();
            // Drop runs outside any runtime we may use: do it on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.ok()
                })
            })
            .join();
        }
    }
}

/// A running server over a fresh database, with an ADMIN token.
pub struct TestApp {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub admin: String,
    pub db: TestDb,
    client: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    projector: tokio::task::JoinHandle<()>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await;
        Self::spawn_on(db).await
    }

    pub async fn spawn_on(db: TestDb) -> TestApp {
        Self::spawn_with(db, api::http::EdgeConfig::default()).await
    }

    /// A server with the given edge limits (a tiny rate limit, introspection off, …).
    pub async fn spawn_with(db: TestDb, edge: api::http::EdgeConfig) -> TestApp {
        db.ensure_key();
        let app = App::open(&db.store_args()).await.expect("open app");
        app.projector.catch_up().await.expect("catch up");
        let projector = tokio::spawn(app.projector.clone().run());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = api::http::router_with(app.clone(), edge);
        let server = tokio::spawn(async move {
            let _ = axum_serve(listener, router).await;
        });
        let created = app
            .create_account(
                &CommandMeta::system("test"),
                domain::values::Text::parse("name", "root").unwrap(),
                domain::values::Role::Admin,
                None,
                None,
                None,
            )
            .await
            .expect("admin account");
        TestApp { addr, app, admin: created.token, db, client: reqwest::Client::new(), server, projector }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Posts a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        self.gql_full(token, query, variables, None).await.1
    }

    /// Posts a GraphQL request with an optional `x-request-id`; returns the HTTP status and
    /// the whole response body.
    pub async fn gql_full(&self, token: &str, query: &str, variables: Value, request_id: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(id) = request_id {
            req = req.header("x-request-id", id);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        assert_ne!(status, 500, "no request may end in a 500");
        (status, resp.json().await.expect("JSON body"))
    }

    /// The HTTP client the helpers use (for requests they do not cover).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The `data` of a request that must succeed.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error of a request that must fail.
    pub async fn err(&self, token: &str, query: &str, variables: Value) -> String {
        let body = self.gql(token, query, variables).await;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        code.unwrap_or_else(|| panic!("expected an error with a code, got {body}")).to_string()
    }

    /// Shuts the server down as an exiting process would — projector leadership given up,
    /// connections closed — and hands back its database, to start another server on it.
    pub async fn shut_down(self) -> TestDb {
        self.stop().await;
        let TestApp { app, db, server, projector, .. } = self;
        let _ = server.await;
        let _ = projector.await;
        app.projector.resign().await;
        app.db.close().await;
        db
    }

    /// Stops the server and projector (the database stays until the `TestApp` is dropped).
    pub async fn stop(&self) {
        self.server.abort();
        self.app.projector.stop();
        self.projector.abort();
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, router).await
}

/// Everything stored in the database, as text: every row of every table. For searching a
/// "dump" for plaintext that must not be there.
pub async fn dump_database(db: &projections::Db) -> String {
    use sqlx::Row;
    let mut out = String::new();
    match db {
        projections::Db::Postgres(p) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                    .fetch_all(p)
                    .await
                    .unwrap();
            for t in tables {
                let rows =
                    sqlx::query(&format!("SELECT row_to_json(x)::text AS j FROM {t} x")).fetch_all(p).await.unwrap();
                for r in rows {
                    out.push_str(&r.get::<String, _>("j"));
                    out.push('\n');
                }
            }
        }
        projections::Db::Sqlite(p) => {
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(p).await.unwrap();
            for t in tables {
                let cols: Vec<String> = sqlx::query(&format!("PRAGMA table_info({t})"))
                    .fetch_all(p)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<String, _>("name"))
                    .collect();
                if cols.is_empty() {
                    continue;
                }
                let expr = cols
                    .iter()
                    .map(|c| format!("coalesce(CAST({c} AS TEXT), '')"))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let rows =
                    sqlx::query(&format!("SELECT CAST({expr} AS BLOB) AS j FROM {t}")).fetch_all(p).await.unwrap();
                for r in rows {
                    out.push_str(&String::from_utf8_lossy(&r.get::<Vec<u8>, _>("j")));
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Runs an async test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )+
    };
}
