//! Raw copies of the ledger's database, for `probono backup` and `probono restore` (the use
//! cases, with their checks, are in `app::backup`).
//!
//! - SQLite: `VACUUM INTO` a new file — one read transaction, so the copy is a consistent
//!   snapshot while the server keeps writing (WAL mode lets writers go on) — and, to
//!   restore, a copy of that file put into place with a rename.
//! - PostgreSQL: `pg_dump -Fc` on a snapshot this process exported (so the counts it reports
//!   are exactly what the dump holds), and `pg_restore` in one transaction.
//!
//! A backup file appears under its name only complete: it is written to a hidden
//! `.NAME.partial-…` beside it (mode 0600) and hard-linked to `NAME`, which fails rather
//! than replace a file that exists. Neither form contains the master key.

use projections::Db;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the procedure without the tools is written down.
pub const MANUAL: &str = "docs/operations.md#backups-and-restores";

/// Why a copy could not be made or put into place. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{path}: already exists; a backup is never written over a file: choose a new --out")]
    Exists { path: String },
    #[error("no ledger at {path}: check --database-url / DATABASE_URL")]
    NoLedger { path: String },
    #[error("{0} holds no ledger (no events table): check --database-url / DATABASE_URL")]
    NotALedger(String),
    #[error("an in-memory SQLite database has no file to back up or restore: use sqlite://PATH")]
    InMemory,
    #[error("{0}: not a sqlite:// or postgres:// URL")]
    UnsupportedUrl(String),
    #[error("{tool} is not on PATH (nor in /usr/lib/postgresql/*/bin): install the PostgreSQL client tools of the server's major version (Debian: apt-get install postgresql-client-NN), or follow the manual procedure in {MANUAL}")]
    ToolMissing { tool: &'static str },
    #[error("{tool} failed ({status}): {stderr}")]
    ToolFailed { tool: &'static str, status: String, stderr: String },
    #[error("the database {name} does not exist: create it (`createdb {name}` or CREATE DATABASE {name}) and run the restore again")]
    NoDatabase { name: String },
    #[error("{path} is not a usable ledger copy: {reason}")]
    Unusable { path: String, reason: String },
    #[error("{path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("{0}")]
    Database(#[from] projections::Error),
}

impl From<sqlx::Error> for CopyError {
    fn from(e: sqlx::Error) -> Self {
        CopyError::Database(e.into())
    }
}

fn file_error(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |error| CopyError::File { path: path.display().to_string(), error }
}

/// What a copy holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Contents {
    pub events: i64,
    /// Case streams (each opened by one intake).
    pub cases: i64,
    /// Wrapped data keys (one per case whose client was not erased).
    pub data_keys: i64,
    /// The key epoch they are wrapped under (none before key epochs): an erasure after the
    /// backup destroys it, and no identity in the copy opens again.
    pub key_epoch: Option<i64>,
}

const KEY_EPOCH_SQL: &str = "SELECT max(current) FROM key_epochs";

const CONTENTS_SQL: [&str; 3] = [
    "SELECT count(*) FROM events",
    "SELECT count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = 'Case'",
    "SELECT count(*) FROM data_keys",
];

/// The two kinds of backup file, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A SQLite database file (`VACUUM INTO`).
    Sqlite,
    /// A `pg_dump -Fc` archive.
    PgCustom,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Sqlite => "a SQLite database file",
            Format::PgCustom => "a PostgreSQL custom-format dump (pg_dump -Fc)",
        }
    }

    /// Reads the file's magic bytes.
    pub fn of(path: &Path) -> Result<Format, CopyError> {
        use std::io::Read;
        let mut head = [0u8; 16];
        let mut f = std::fs::File::open(path).map_err(file_error(path))?;
        let n = f.read(&mut head).map_err(file_error(path))?;
        if n >= 16 && &head == b"SQLite format 3\0" {
            Ok(Format::Sqlite)
        } else if n >= 5 && &head[..5] == b"PGDMP" {
            Ok(Format::PgCustom)
        } else {
            Err(CopyError::Unusable {
                path: path.display().to_string(),
                reason: "neither a SQLite database nor a pg_dump -Fc archive (was it made by `probono backup`?)".into(),
            })
        }
    }
}

/// The file of a `sqlite:` URL.
pub fn sqlite_file(url: &str) -> Result<PathBuf, CopyError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return Err(CopyError::InMemory);
    }
    Ok(PathBuf::from(path))
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Opens an existing SQLite file without creating it and without changing its journal mode.
async fn open_sqlite(path: &Path, read_only: bool) -> Result<Db, CopyError> {
    let o = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .read_only(read_only)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(o).await?;
    Ok(Db::Sqlite(pool))
}

/// What a ledger holds: events, case streams, data keys.
pub async fn contents(db: &Db) -> Result<Contents, CopyError> {
    let mut n = [0i64; 3];
    for (i, sql) in CONTENTS_SQL.iter().enumerate() {
        n[i] = projections::on_db!(db, p => sqlx::query_scalar(sql).fetch_one(p).await?);
    }
    let has_epochs: bool = match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE name = 'key_epochs'")
                .fetch_one(p)
                .await?
                > 0
        }
        Db::Postgres(p) => sqlx::query_scalar("SELECT to_regclass('key_epochs') IS NOT NULL").fetch_one(p).await?,
    };
    let key_epoch = if has_epochs {
        projections::on_db!(db, p => sqlx::query_scalar(KEY_EPOCH_SQL).fetch_one(p).await?)
    } else {
        None
    };
    Ok(Contents { events: n[0], cases: n[1], data_keys: n[2], key_epoch })
}

async fn has_events_table(db: &Db) -> Result<bool, CopyError> {
    Ok(match db {
        Db::Sqlite(p) => {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'")
                .fetch_one(p)
                .await?
                > 0
        }
        Db::Postgres(p) => {
            sqlx::query_scalar::<_, bool>("SELECT to_regclass('events') IS NOT NULL").fetch_one(p).await?
        }
    })
}

/// A new, empty file readable only by its owner, beside `path`; removed on drop unless kept.
struct Partial {
    path: PathBuf,
    keep: bool,
}

impl Partial {
    fn beside(target: &Path, what: &str) -> Result<(Partial, std::fs::File), CopyError> {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "ledger".into());
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let path = target.with_file_name(format!(".{name}.{what}-{suffix}"));
        // Said of the file asked for: the hidden name would only puzzle.
        let file = create_private(&path).map_err(|e| match e {
            CopyError::File { error, .. } => CopyError::File { path: target.display().to_string(), error },
            other => other,
        })?;
        Ok((Partial { path, keep: false }, file))
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> Result<std::fs::File, CopyError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(file_error(path))
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> Result<std::fs::File, CopyError> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(file_error(path))
}

fn sync_dir(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Refuses an `--out` that exists, before any work is done.
fn check_new(out: &Path) -> Result<(), CopyError> {
    if out.symlink_metadata().is_ok() {
        return Err(CopyError::Exists { path: out.display().to_string() });
    }
    Ok(())
}

/// Gives the finished partial file its name; fails rather than replace a file created
/// meanwhile.
fn publish(partial: &mut Partial, out: &Path) -> Result<(), CopyError> {
    std::fs::File::open(&partial.path).and_then(|f| f.sync_all()).map_err(file_error(&partial.path))?;
    std::fs::hard_link(&partial.path, out).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CopyError::Exists { path: out.display().to_string() },
        _ => CopyError::File { path: out.display().to_string(), error: e },
    })?;
    sync_dir(out);
    Ok(())
}

// ---------------------------------------------------------------- SQLite

/// Writes a consistent copy of the SQLite ledger at `url` to the new file `out` (0600).
pub async fn sqlite_backup(url: &str, out: &Path) -> Result<Contents, CopyError> {
    let source = sqlite_file(url)?;
    if !source.is_file() {
        return Err(CopyError::NoLedger { path: source.display().to_string() });
    }
    check_new(out)?;
    let (mut partial, file) = Partial::beside(out, "partial")?;
    drop(file);
    let db = open_sqlite(&source, false).await?;
    if !has_events_table(&db).await? {
        db.close().await;
        return Err(CopyError::NotALedger(source.display().to_string()));
    }
    // The partial file exists and is empty, which VACUUM INTO accepts (and keeps its mode).
    let Db::Sqlite(pool) = &db else { unreachable!("opened as SQLite") };
    let copied = sqlx::query("VACUUM INTO $1").bind(partial.path.to_string_lossy().into_owned()).execute(pool).await;
    db.close().await;
    copied?;
    let contents = check_sqlite_copy(&partial.path).await?;
    publish(&mut partial, out)?;
    Ok(contents)
}

/// Opens a SQLite copy read-only: the integrity check must pass and it must be a ledger.
pub async fn check_sqlite_copy(path: &Path) -> Result<Contents, CopyError> {
    let unusable = |reason: String| CopyError::Unusable { path: path.display().to_string(), reason };
    let db = open_sqlite(path, true).await.map_err(|e| unusable(e.to_string()))?;
    let result = async {
        let Db::Sqlite(p) = &db else { unreachable!("opened as SQLite") };
        let check: String =
            sqlx::query_scalar("PRAGMA quick_check").fetch_one(p).await.map_err(|e| unusable(e.to_string()))?;
        if check != "ok" {
            return Err(unusable(format!("the integrity check failed: {check}")));
        }
        if !has_events_table(&db).await? {
            return Err(unusable("it holds no events table".into()));
        }
        contents(&db).await
    }
    .await;
    db.close().await;
    result
}

/// A SQLite backup copied next to the target (mode 0600), checked, not yet in place.
pub struct Staged {
    partial: Partial,
    pub contents: Contents,
}

impl Staged {
    /// The staged copy, to check more (e.g. its data keys) before it is put in place.
    pub async fn open(&self) -> Result<Db, CopyError> {
        open_sqlite(&self.partial.path, true).await
    }
}

/// Copies the backup `from` beside `target` and checks that the copy opens as a ledger.
pub async fn sqlite_stage(from: &Path, target: &Path) -> Result<Staged, CopyError> {
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(file_error(dir))?;
    }
    let (partial, mut file) = Partial::beside(target, "restore")?;
    let mut src = std::fs::File::open(from).map_err(file_error(from))?;
    std::io::copy(&mut src, &mut file).map_err(file_error(&partial.path))?;
    file.sync_all().map_err(file_error(&partial.path))?;
    drop(file);
    let contents = check_sqlite_copy(&partial.path).await?;
    Ok(Staged { partial, contents })
}

/// The files SQLite keeps beside a database.
fn sidecars(path: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        PathBuf::from(side)
    })
}

/// Puts a staged copy in place of `target`. With `keep_aside`, a database already there is
/// moved (with its write-ahead log, which may hold committed transactions) to
/// `TARGET.replaced-TIMESTAMP`, whose path is returned; otherwise its write-ahead log and
/// shared-memory files are removed — either way nothing of it is applied to the new file.
pub fn sqlite_put_in_place(mut staged: Staged, target: &Path, keep_aside: bool) -> Result<Option<PathBuf>, CopyError> {
    let mut aside = None;
    if keep_aside && target.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let mut name = target.as_os_str().to_owned();
        name.push(format!(".replaced-{stamp}"));
        let moved = PathBuf::from(name);
        if moved.exists() {
            return Err(CopyError::Exists { path: moved.display().to_string() });
        }
        for (from, to) in sidecars(target).iter().zip(sidecars(&moved).iter()) {
            if from.exists() {
                std::fs::rename(from, to).map_err(file_error(from))?;
            }
        }
        std::fs::rename(target, &moved).map_err(file_error(target))?;
        aside = Some(moved);
    }
    for side in sidecars(target) {
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(CopyError::File { path: side.display().to_string(), error: e }),
        }
    }
    std::fs::rename(&staged.partial.path, target).map_err(file_error(target))?;
    staged.partial.keep = true;
    sync_dir(target);
    Ok(aside)
}

// ---------------------------------------------------------------- the target

/// What is already at a restore target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Target {
    /// There is a database (SQLite: the file exists).
    pub exists: bool,
    /// It holds tables (a restore into PostgreSQL then drops the dump's objects first).
    pub has_tables: bool,
    /// Events other than those every start-up writes (`probono migrate` imports the
    /// shipped offence catalogue into a new ledger): what a restore would replace.
    pub events: i64,
}

/// Looks at a restore target without creating anything. `startup_stream` is the stream
/// type that start-up writes on its own (the offence catalogue).
pub async fn target_state(url: &str, startup_stream: &str) -> Result<Target, CopyError> {
    let db = if is_postgres(url) {
        let opts = projections::db::DbOptions { max_connections: 1, ..Default::default() };
        match Db::connect(url, &opts).await {
            Ok(db) => db,
            Err(projections::Error::Database(sqlx::Error::Database(e))) if e.code().as_deref() == Some("3D000") => {
                return Err(CopyError::NoDatabase { name: pg_database(url) })
            }
            Err(e) => return Err(e.into()),
        }
    } else if url.starts_with("sqlite:") {
        let path = sqlite_file(url)?;
        if !path.exists() {
            return Ok(Target::default());
        }
        open_sqlite(&path, false).await?
    } else {
        return Err(CopyError::UnsupportedUrl(url.to_string()));
    };
    let state = async {
        let tables: i64 = match &db {
            Db::Postgres(p) => {
                sqlx::query_scalar(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'S')",
                )
                .fetch_one(p)
                .await?
            }
            Db::Sqlite(p) => sqlx::query_scalar("SELECT count(*) FROM sqlite_master").fetch_one(p).await?,
        };
        let events: i64 = if has_events_table(&db).await? {
            projections::on_db!(&db, p => sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type <> $1")
                .bind(startup_stream).fetch_one(p).await?)
        } else {
            0
        };
        Ok::<_, CopyError>(Target { exists: true, has_tables: tables > 0, events })
    }
    .await;
    db.close().await;
    state
}

// ---------------------------------------------------------------- PostgreSQL

/// A database URL as it may be printed: without a password.
pub fn display_url(url: &str) -> String {
    libpq_url(url).0
}

/// The database name in a PostgreSQL URL.
fn pg_database(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or("");
    let name = path.split('?').next().unwrap_or("");
    if name.is_empty() {
        "(the default database)".into()
    } else {
        name.to_string()
    }
}

/// The URL for libpq without its password (which would show in the process list), and
/// the password, percent-decoded, for `PGPASSWORD`.
fn libpq_url(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return (url.to_string(), None) };
    let Some((user, password)) = userinfo.split_once(':') else { return (url.to_string(), None) };
    (format!("{scheme}://{user}@{host}{tail}"), Some(percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A PostgreSQL client tool: on `PATH`, else the newest in `/usr/lib/postgresql/*/bin`.
pub fn pg_tool(tool: &'static str) -> Result<PathBuf, CopyError> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(tool)).find(|p| p.is_file()))
        .unwrap_or_default();
    if let Some(p) = on_path {
        return Ok(p);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin").join(tool);
            bin.is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).ok_or(CopyError::ToolMissing { tool })
}

fn pg_command(tool: &Path, url: &str) -> (tokio::process::Command, String) {
    let (url, password) = libpq_url(url);
    let mut cmd = tokio::process::Command::new(tool);
    cmd.env("PGCONNECT_TIMEOUT", "10").kill_on_drop(true);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    (cmd, url)
}

async fn run_tool(
    tool: &'static str,
    mut cmd: tokio::process::Command,
    stdout: std::process::Stdio,
) -> Result<(), CopyError> {
    // `output()` would capture standard output whatever it was set to: spawn and wait.
    let out = cmd
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| CopyError::ToolFailed { tool, status: "did not start".into(), stderr: e.to_string() })?
        .wait_with_output()
        .await
        .map_err(|e| CopyError::ToolFailed { tool, status: "did not finish".into(), stderr: e.to_string() })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr: String = stderr.trim().chars().take(2000).collect();
        return Err(CopyError::ToolFailed { tool, status: out.status.to_string(), stderr });
    }
    Ok(())
}

/// `pg_dump -Fc` of the ledger at `url` into the new file `out` (0600), on a snapshot this
/// process exported, so the counts returned are those of the dump.
pub async fn pg_backup(url: &str, out: &Path) -> Result<Contents, CopyError> {
    let pg_dump = pg_tool("pg_dump")?;
    check_new(out)?;
    let (mut partial, file) = Partial::beside(out, "partial")?;
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| match e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("3D000") => {
            CopyError::NoLedger { path: display_url(url) }
        }
        other => other.into(),
    })?;
    let mut tx = conn.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
    if !sqlx::query_scalar::<_, bool>("SELECT to_regclass('events') IS NOT NULL").fetch_one(&mut *tx).await? {
        return Err(CopyError::NotALedger(pg_database(url)));
    }
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *tx).await?;
    let mut n = [0i64; 3];
    for (i, sql) in CONTENTS_SQL.iter().enumerate() {
        n[i] = sqlx::query_scalar(sql).fetch_one(&mut *tx).await?;
    }
    let key_epoch: Option<i64> =
        if sqlx::query_scalar::<_, bool>("SELECT to_regclass('key_epochs') IS NOT NULL").fetch_one(&mut *tx).await? {
            sqlx::query_scalar(KEY_EPOCH_SQL).fetch_one(&mut *tx).await?
        } else {
            None
        };
    let (mut cmd, libpq) = pg_command(&pg_dump, url);
    cmd.arg("--format=custom")
        .arg(format!("--snapshot={snapshot}"))
        .arg("--no-password")
        .arg(format!("--dbname={libpq}"));
    let dumped = run_tool("pg_dump", cmd, file.into()).await;
    // The snapshot must stay exported until pg_dump has taken it; it only reads.
    tx.commit().await?;
    let _ = conn.close().await;
    dumped?;
    publish(&mut partial, out)?;
    Ok(Contents { events: n[0], cases: n[1], data_keys: n[2], key_epoch })
}

/// The wrapped data keys in a `pg_dump -Fc` archive as `(case_id, wrapped_key, kek_epoch)`
/// (`pg_restore` prints the table's data; nothing is restored), to check the key files
/// before the target is touched.
pub async fn pg_dump_data_keys(from: &Path) -> Result<Vec<(String, String, Option<i64>)>, CopyError> {
    let pg_restore = pg_tool("pg_restore")?;
    let out = tokio::process::Command::new(pg_restore)
        .args(["--data-only", "--table=data_keys", "--file=-"])
        .arg(from)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| CopyError::ToolFailed {
            tool: "pg_restore",
            status: "did not start".into(),
            stderr: e.to_string(),
        })?;
    if !out.status.success() {
        let stderr: String = String::from_utf8_lossy(&out.stderr).trim().chars().take(2000).collect();
        return Err(CopyError::ToolFailed { tool: "pg_restore", status: out.status.to_string(), stderr });
    }
    let unusable = |reason: &str| CopyError::Unusable { path: from.display().to_string(), reason: reason.into() };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines
        .by_ref()
        .find(|l| l.starts_with("COPY ") && l.contains("data_keys"))
        .ok_or_else(|| unusable("it holds no data_keys table"))?;
    let columns: Vec<&str> = header
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(cols, _)| cols.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let at = |name: &str| columns.iter().position(|c| *c == name);
    let (Some(case_col), Some(key_col)) = (at("case_id"), at("wrapped_key")) else {
        return Err(unusable("its data_keys table has no case_id and wrapped_key"));
    };
    // A dump from before key epochs has no kek_epoch column: its keys are under the master key.
    let epoch_col = at("kek_epoch");
    Ok(lines
        .take_while(|l| *l != "\\.")
        .filter_map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            let epoch = epoch_col.and_then(|i| fields.get(i)).and_then(|f| f.parse::<i64>().ok());
            Some((fields.get(case_col)?.to_string(), fields.get(key_col)?.to_string(), epoch))
        })
        .collect())
}

/// `pg_restore` of the dump `from` into the database at `url`, in one transaction (a
/// failure leaves the target as it was). `clean` first drops the dump's objects that the
/// target already has. Objects are owned by the restoring user; grants are not restored.
pub async fn pg_restore(from: &Path, url: &str, clean: bool) -> Result<(), CopyError> {
    let pg_restore = pg_tool("pg_restore")?;
    let (mut cmd, libpq) = pg_command(&pg_restore, url);
    cmd.args(["--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password"]);
    if clean {
        cmd.args(["--clean", "--if-exists"]);
    }
    cmd.arg(format!("--dbname={libpq}")).arg(from);
    run_tool("pg_restore", cmd, std::process::Stdio::null()).await
}

/// Gives the restored events transaction ids that order them as before and lie below
/// every transaction of this server, and returns how many transactions there were.
///
/// Readers order the log by `(transaction_id, position)` and read only below the oldest
/// running transaction (`projections::log`). A logical restore keeps the source server's
/// ids, which mean nothing here: restored into a younger cluster they would be larger than
/// every new transaction, so the readers would not see them (nor, later, new events after
/// them). The ids become their rank, 1…N — the same order — or, on a cluster that has run
/// fewer than N transactions, are scaled into 0…current-1 (ties then fall back to the
/// position, which also follows every event's causes: a command's position is drawn after
/// it read what it depends on). The hash chain does not cover the column.
pub async fn renumber_restored_transactions(db: &Db) -> Result<i64, CopyError> {
    let Db::Postgres(pool) = db else { return Ok(0) };
    let mut tx = pool.begin().await?;
    let current: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint").fetch_one(&mut *tx).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(DISTINCT transaction_id) FROM events").fetch_one(&mut *tx).await?;
    if n > 0 {
        sqlx::query(
            "WITH ranked AS (SELECT transaction_id AS old, dense_rank() OVER (ORDER BY transaction_id) AS r \
                             FROM (SELECT DISTINCT transaction_id FROM events) d) \
             UPDATE events e SET transaction_id = ((ranked.r * least($1, $2 - 1)) / $1)::text::xid8 \
             FROM ranked WHERE e.transaction_id = ranked.old",
        )
        .bind(n)
        .bind(current)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_the_libpq_url() {
        assert_eq!(
            libpq_url("postgres://probono:s%40cret:x@db.example:5432/ledger?sslmode=require"),
            ("postgres://probono@db.example:5432/ledger?sslmode=require".to_string(), Some("s@cret:x".to_string()))
        );
        assert_eq!(libpq_url("postgres://postgres@127.0.0.1/x"), ("postgres://postgres@127.0.0.1/x".into(), None));
        assert_eq!(pg_database("postgres://u@h:5432/ledger?sslmode=disable"), "ledger");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(sqlite_file("sqlite://data/probono.db?mode=rwc").unwrap(), PathBuf::from("data/probono.db"));
        assert!(matches!(sqlite_file("sqlite::memory:"), Err(CopyError::InMemory)));
    }
}
