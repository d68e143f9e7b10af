//! Test support: starts the real router on a random port over a fresh database (a SQLite
//! file in a temporary folder, or a new PostgreSQL database that is dropped afterwards)
//! and talks to it over HTTP, as a client would.

use api::app::accounts::NewAccount;
use api::app::{App, Caller};
use api::config::StoreArgs;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub mod bench;
pub mod fixtures;

pub use api;
pub use projections;

pub mod synth;

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
    /// The administrative URL of the server and the database's name, to drop it.
    pg: Option<(String, String)>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let key_file = dir.path().join("master.key");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("probono.db").display());
                TestDb { url, key_file, dir, pg: None }
            }
            Backend::Postgres => Self::postgres_on(&pg_admin_url()).await,
        }
    }

    /// A new database on the PostgreSQL server reached by `admin` (a URL of a database the
    /// user may create databases from), dropped again with the `TestDb`.
    pub async fn postgres_on(admin: &str) -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder");
        let key_file = dir.path().join("master.key");
        let name = format!("probono_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(admin)
            .await
            .expect("PostgreSQL must be running for the PostgreSQL tests (see .ci/run)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin.to_string());
        TestDb { url: format!("{base}/{name}"), key_file, dir, pg: Some((admin.to_string(), name)) }
    }

    pub fn store_args(&self) -> StoreArgs {
        let mut s = StoreArgs::with_url(&self.url);
        s.master_key_file = Some(self.key_file.clone());
        // Tests run in parallel against one PostgreSQL server (max_connections 100).
        s.db_max_connections = 5;
        s
    }

    /// Writes a fresh master key file (PostgreSQL has no generated default).
    pub fn ensure_key(&self) {
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
        if let Some((admin, name)) = self.pg.take() {
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
    /// A second ADMIN and a COORDINATOR, made by the operator, who approve the accounts
    /// the first ADMIN creates (a second person, as the rules ask).
    pub approver: String,
    pub approver_coordinator: String,
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
        db.ensure_key();
        let app = App::open(&db.store_args()).await.expect("open app");
        app.projector.catch_up().await.expect("catch up");
        let projector = tokio::spawn(app.projector.clone().run());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = api::http::router(app.clone(), true);
        let server = tokio::spawn(async move {
            let _ = axum_serve(listener, router).await;
        });
        let root = NewAccount {
            account_id: None,
            name: "root".into(),
            role: domain::values::Role::Admin,
            organization_id: None,
            lawyer_id: None,
            expires_at: None,
        };
        let created = app.create_account(&Caller::system("test"), root.clone()).await.expect("admin account");
        let approver = NewAccount { name: "approver".into(), ..root.clone() };
        let approver = app.create_account(&Caller::system("test"), approver).await.expect("approver account");
        let coordinator =
            NewAccount { name: "approving coordinator".into(), role: domain::values::Role::Coordinator, ..root };
        let coordinator = app.create_account(&Caller::system("test"), coordinator).await.expect("coordinator account");
        TestApp {
            addr,
            app,
            admin: created.token,
            approver: approver.token,
            approver_coordinator: coordinator.token,
            db,
            client: reqwest::Client::new(),
            server,
            projector,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Approves the account `account_id` (of role `role`) as a second person: the
    /// COORDINATOR a lawyer's account, the second ADMIN the others.
    pub async fn approve(&self, account_id: &str, role: &str) {
        let approver = if role == "LAWYER" { &self.approver_coordinator } else { &self.approver };
        let d = self
            .ok(
                approver,
                "mutation($a: ID!) { approveAccount(accountId: $a) { approved } }",
                json!({ "a": account_id }),
            )
            .await;
        assert_eq!(d["approveAccount"]["approved"], true);
    }

    /// Posts a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let mut req = self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.expect("request");
        assert_ne!(resp.status().as_u16(), 500, "no request may end in a 500");
        resp.json().await.expect("JSON body")
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

    /// Stops the server and projector (the database stays until the `TestApp` is dropped).
    pub async fn stop(&mut self) {
        self.server.abort();
        self.app.projector.stop();
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.projector).await.is_err() {
            self.projector.abort();
        }
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

/// Every read-model row, table by table, sorted: what "rebuild equals live" compares.
pub async fn read_model_rows(db: &projections::Db) -> std::collections::BTreeMap<String, Vec<String>> {
    use sqlx::Row;
    let mut out = std::collections::BTreeMap::new();
    for t in projections::store::TABLES {
        // When the checkpoint was written differs by design; where it points does not.
        let sql = if *t == "rm_checkpoint" {
            "SELECT name || ':' || CAST(tx AS TEXT) || ':' || CAST(position AS TEXT) AS j FROM rm_checkpoint"
                .to_string()
        } else {
            match db {
                projections::Db::Postgres(_) => format!("SELECT row_to_json(x)::text AS j FROM {t} x"),
                projections::Db::Sqlite(_) => format!("SELECT * FROM {t}"),
            }
        };
        let mut rows: Vec<String> = match db {
            projections::Db::Postgres(p) => {
                sqlx::query(&sql).fetch_all(p).await.unwrap().iter().map(|r| r.get::<String, _>("j")).collect()
            }
            projections::Db::Sqlite(p) => sqlx::query(&sql)
                .fetch_all(p)
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    use sqlx::{Column, ValueRef};
                    r.columns()
                        .iter()
                        .map(|c| {
                            let raw = r.try_get_raw(c.ordinal()).unwrap();
                            if raw.is_null() {
                                "NULL".to_string()
                            } else {
                                r.try_get::<String, _>(c.ordinal())
                                    .or_else(|_| r.try_get::<i64, _>(c.ordinal()).map(|i| i.to_string()))
                                    .unwrap_or_else(|_| "?".into())
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect(),
        };
        rows.sort();
        out.insert(t.to_string(), rows);
    }
    out
}

/// The `probono` binary of this build. `cargo test --workspace` (what `scripts/test` runs)
/// builds it beside the test executables; `CARGO_BIN_EXE_probono` overrides the path.
pub fn probono_bin() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("CARGO_BIN_EXE_probono") {
        return p.into();
    }
    // target/<profile>/deps/<test> → target/<profile>/probono
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("deps folder");
    let bin = deps.parent().expect("profile folder").join(format!("probono{}", std::env::consts::EXE_SUFFIX));
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(bin_time) = modified(&bin) else {
        panic!("{} is missing: run `cargo build --bin probono` (scripts/test builds it)", bin.display());
    };
    // Testing an old binary would pass or fail for the wrong reasons: a source file newer
    // than the binary means only `-p tests` was built. (Compared with the sources, not with
    // the api library: `cargo test` may build a second variant of the library, with other
    // features unified, after the binary.)
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let newest_source = ["api/src", "domain/src", "projections/src", "migrations"]
        .iter()
        .filter_map(|dir| newest_file(&root.join(dir)))
        .max();
    if newest_source.is_some_and(|src| src > bin_time) {
        panic!("{} is older than the sources: run `cargo build --bin probono` first", bin.display());
    }
    bin
}

/// The latest modification time of any file under `dir`.
fn newest_file(dir: &std::path::Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() { newest_file(&path) } else { entry.metadata().and_then(|m| m.modified()).ok() };
        newest = newest.max(time);
    }
    newest
}

/// What a run of the binary printed, and how it ended.
#[derive(Debug)]
pub struct CliRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `probono` with `args` and waits for it.
pub async fn run_probono(args: &[&str]) -> CliRun {
    let out = tokio::process::Command::new(probono_bin())
        .args(args)
        .env_remove("DATABASE_URL")
        .env("PROBONO_LOG", "warn")
        .output()
        .await
        .expect("run probono");
    CliRun {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits until the server's projector has applied every committed event. On PostgreSQL a
/// transaction open anywhere in the cluster (another test's) hides later commits from
/// readers for a while, so "visible" alone is not "everything".
pub async fn wait_projected(app: &App) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let head = projections::log::committed_head(&app.db).await.expect("head");
        let visible = projections::log::visible_head(&app.db).await.expect("visible head");
        if visible >= head && app.projector.wait_for(head, std::time::Duration::from_secs(5)).await {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the projector did not apply every event in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- the real binary

/// The `probono` binary that `cargo test --workspace` built beside the test executables
/// (they live in `target/<profile>/deps/`, the binary in `target/<profile>/`).
pub fn probono_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("the test executable is in target/<profile>/deps");
    let bin = dir.join(format!("probono{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run the whole workspace (`cargo test --workspace`, which builds it for api/tests/cli.rs) \
         or `cargo build --bin probono` first",
        bin.display()
    );
    bin
}

/// A free loopback port (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// Runs `probono <args>` against `db` and returns its standard output; panics with its
/// standard error when it fails.
pub async fn probono(db: &TestDb, args: &[&str]) -> String {
    let out = tokio::process::Command::new(probono_binary())
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("PROBONO_MASTER_KEY_FILE", &db.key_file)
        .env("PROBONO_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run probono");
    assert!(out.status.success(), "probono {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("probono prints UTF-8")
}

/// `probono serve` running as a child process on a free loopback port. Killed (SIGKILL)
/// when dropped, so no test leaves one behind.
pub struct ServerProcess {
    pub addr: SocketAddr,
    child: Option<std::process::Child>,
    log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts the server on `db` and waits (up to 30 s) until `/readyz` answers 200.
    pub async fn start(db: &TestDb) -> ServerProcess {
        Self::start_with(db, &[], &[]).await
    }

    /// [`ServerProcess::start`] with more arguments after `serve` and environment variables
    /// set after the defaults (so `PROBONO_LOG` may be raised from `warn`).
    pub async fn start_with(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("loopback address");
        let log = db.path().join(format!("serve-{}.log", addr.port()));
        let stderr = std::fs::File::create(&log).expect("server log file");
        let stdout = stderr.try_clone().expect("server log file");
        let child = std::process::Command::new(probono_binary())
            .arg("serve")
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("PROBONO_MASTER_KEY_FILE", &db.key_file)
            .env("PROBONO_BIND", addr.to_string())
            .env("PROBONO_LOG", "warn")
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start probono serve");
        let mut server = ServerProcess { addr, child: Some(child), log };
        server.wait_ready(std::time::Duration::from_secs(30)).await;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// What the server wrote to its standard error and standard output.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_ready(&mut self, within: std::time::Duration) {
        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(2)).build().expect("client");
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("probono serve exited with {status} before it was ready:\n{}", self.log());
            }
            if let Ok(r) = client.get(self.url("/readyz")).send().await {
                if r.status().as_u16() == 200 {
                    return;
                }
            }
            assert!(std::time::Instant::now() < deadline, "probono serve not ready within {within:?}:\n{}", self.log());
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `kill -9`: the process gets no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
