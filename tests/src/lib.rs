//! Test support: starts the real router on a random port over a fresh database (a SQLite
//! file in a temporary folder, or a new PostgreSQL database that is dropped afterwards)
//! and talks to it over HTTP, as a client would.

use api::app::accounts::NewAccount;
use api::app::{App, Caller};
use api::config::StoreArgs;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;

pub mod anchors;
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

/// A GraphQL client of one server (in-process or `probono serve`), with its own connection
/// pool and a time-out no request may exceed.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    /// A client of the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> Client {
        // The server's own request time-out, plus the time an answer takes to travel here.
        let timeout = std::time::Duration::from_secs(api::http::REQUEST_TIMEOUT.as_secs() + 5);
        let http = reqwest::Client::builder().timeout(timeout).build().expect("HTTP client");
        Client { http, base: base.trim_end_matches('/').to_string() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Posts a GraphQL request: the status and body, or why no answer came.
    pub async fn post(&self, token: &str, query: &str, variables: Value) -> Result<(u16, Value), String> {
        let mut req = self.http.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.map_err(|e| format!("no JSON body (status {status}): {e}"))?;
        Ok((status, body))
    }

    /// Posts a GraphQL request and returns the whole response body.
    pub async fn gql(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(token, query, variables).await.unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(status, 500, "no request may end in a 500: {body}");
        body
    }

    /// The `data` of a request that must succeed.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(token, query, variables).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(status == 200 && body.get("errors").is_none(), "unexpected errors (status {status}): {body}");
        body["data"].clone()
    }

    /// The `extensions.code` of the first error of a request that must fail.
    pub async fn err(&self, token: &str, query: &str, variables: Value) -> String {
        let body = self.gql(token, query, variables).await;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        code.unwrap_or_else(|| panic!("expected an error with a code, got {body}")).to_string()
    }

    /// The HTTP status of `GET path`, or `None` when no answer came within 5 s.
    pub async fn status(&self, path: &str) -> Option<u16> {
        let r = self.http.get(self.url(path)).timeout(std::time::Duration::from_secs(5)).send().await;
        r.ok().map(|r| r.status().as_u16())
    }
}

/// A server the fixtures can talk to: a client of it and an ADMIN token.
pub trait Server {
    fn client(&self) -> &Client;
    fn admin(&self) -> &str;
}

/// A server known only by its address (`probono serve`, another instance), with an ADMIN
/// token made some other way (the CLI).
pub struct Remote {
    pub client: Client,
    pub admin: String,
}

impl Server for Remote {
    fn client(&self) -> &Client {
        &self.client
    }
    fn admin(&self) -> &str {
        &self.admin
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
    client: Client,
    server: tokio::task::JoinHandle<()>,
    projector: tokio::task::JoinHandle<()>,
    /// Whether the projector runs on a thread of its own ([`TestApp::spawn_as_served`]).
    own_thread: bool,
}

impl Server for TestApp {
    fn client(&self) -> &Client {
        &self.client
    }
    fn admin(&self) -> &str {
        &self.admin
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        let db = TestDb::new(backend).await;
        Self::spawn_on(db).await
    }

    pub async fn spawn_on(db: TestDb) -> TestApp {
        Self::spawn_with(db, false).await
    }

    /// A server whose projector loop runs on a thread of its own, as `probono serve` runs it
    /// (`Projector::spawn_on_own_thread`); [`TestApp::stop`] ends that thread.
    pub async fn spawn_as_served(backend: Backend) -> TestApp {
        Self::spawn_with(TestDb::new(backend).await, true).await
    }

    /// [`TestApp::spawn_as_served`] over the given database.
    pub async fn spawn_as_served_on(db: TestDb) -> TestApp {
        Self::spawn_with(db, true).await
    }

    async fn spawn_with(db: TestDb, own_thread: bool) -> TestApp {
        db.ensure_key();
        let app = App::open(&db.store_args()).await.expect("open app");
        app.projector.catch_up().await.expect("catch up");
        let projector = if own_thread {
            app.projector.clone().spawn_on_own_thread().expect("start the projector's thread")
        } else {
            tokio::spawn(app.projector.clone().run())
        };
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
        let client = Client::new(&format!("http://{addr}"));
        TestApp {
            addr,
            app,
            admin: created.token,
            approver: approver.token,
            approver_coordinator: coordinator.token,
            db,
            client,
            server,
            projector,
            own_thread,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.client.url(path)
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
        self.client.gql(token, query, variables).await
    }

    /// The `data` of a request that must succeed.
    pub async fn ok(&self, token: &str, query: &str, variables: Value) -> Value {
        self.client.ok(token, query, variables).await
    }

    /// The `extensions.code` of the first error of a request that must fail.
    pub async fn err(&self, token: &str, query: &str, variables: Value) -> String {
        self.client.err(token, query, variables).await
    }

    /// Stops the server and projector (the database stays until the `TestApp` is dropped).
    pub async fn stop(&mut self) {
        self.server.abort();
        self.app.projector.stop();
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.projector).await.is_err() {
            // A projector on its own thread cannot be aborted from here: it must end by itself.
            assert!(!self.own_thread, "the projector's own thread did not end within 5 s of stop()");
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

/// The `probono` binary of this build, the one locator of every test that runs it.
/// `CARGO_BIN_EXE_probono` overrides the path. Otherwise it is `target/<profile>/probono`
/// beside this test executable (in `target/<profile>/deps/`); when it is missing or older
/// than a source it is built from (`cargo test -p tests` rebuilds the libraries but not the
/// binary), it is built first, once per test process, as `scripts/test` builds it (the whole
/// workspace's features, this run's cargo, profile and target folder): testing a stale
/// binary would pass or fail for the wrong reasons.
pub fn probono_bin() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(locate_probono).clone()
}

/// Where the `probono` of this build is (whether or not it exists yet): `target/<profile>/`,
/// beside this executable, or its parent for a test executable (in `target/<profile>/deps/`).
pub fn probono_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the path of this executable");
    let mut dir = exe.parent().expect("the folder of this executable");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().expect("target/<profile>");
    }
    dir.join(format!("probono{}", std::env::consts::EXE_SUFFIX))
}

fn locate_probono() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("CARGO_BIN_EXE_probono") {
        return p.into();
    }
    let bin = probono_path();
    let profile_dir = bin.parent().expect("target/<profile>");
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace folder");
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let newest_source =
        newest_modification(workspace, &["Cargo.toml", "Cargo.lock", "api", "domain", "projections", "migrations"]);
    let current = match (built, newest_source) {
        (None, _) => false,
        (Some(built), Some(source)) => source <= built,
        (Some(_), None) => true,
    };
    if current {
        return bin;
    }
    let target_dir = profile_dir.parent().filter(|t| t.join("CACHEDIR.TAG").is_file()).unwrap_or_else(|| {
        panic!(
            "{} is missing or stale, and {} is not in a cargo target folder: run `cargo build --bin probono`",
            bin.display(),
            profile_dir.display()
        )
    });
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => panic!("no profile in {}", profile_dir.display()),
    };
    eprintln!("{} is missing or older than its sources: building it", bin.display());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--quiet", "--workspace", "--bin", "probono", "--profile", &profile, "--target-dir"])
        .arg(target_dir)
        .current_dir(workspace)
        .status()
        .expect("run cargo to build the probono binary");
    assert!(status.success(), "`cargo build --bin probono` failed ({status}): build it to run these tests");
    assert!(bin.is_file(), "{} is still missing after `cargo build --bin probono`", bin.display());
    bin
}

/// When the newest file under `roots` (relative to `base`; folders walked) was modified.
fn newest_modification(base: &std::path::Path, roots: &[&str]) -> Option<std::time::SystemTime> {
    fn walk(p: &std::path::Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(meta) = std::fs::metadata(p) else { return };
        if meta.is_dir() {
            for entry in std::fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(m) = meta.modified() {
            *newest = Some(newest.map_or(m, |n| n.max(m)));
        }
    }
    let mut newest = None;
    for root in roots {
        walk(&base.join(root), &mut newest);
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

/// Waits until the read models of `db` include everything its log shows now, for a
/// database no [`App`] of this process serves (a `probono serve` child's).
pub async fn wait_read_models(db: &projections::Db, within: std::time::Duration) {
    let head = projections::log::visible_head(db).await.expect("log head");
    let deadline = std::time::Instant::now() + within;
    loop {
        let cp = projections::store::read_checkpoint(db).await.expect("checkpoint");
        if cp >= head {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the read models did not reach {head} within {within:?} (at {cp})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

// ---------------------------------------------------------------- the real binary

/// A free loopback port (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free loopback port").port()
}

/// Runs `probono <args>` against `db` and returns its standard output; panics with its
/// standard error when it fails.
pub async fn probono(db: &TestDb, args: &[&str]) -> String {
    let out = tokio::process::Command::new(probono_bin())
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
        let child = std::process::Command::new(probono_bin())
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
