//! One handle over the two supported databases. SQL that both accept is written once and
//! run through [`on_db!`] / [`on_tx!`], which expand the same code for each driver, so the
//! read side has one implementation and no runtime dispatch cost beyond a match.

use crate::{Error, Result};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Postgres, Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A connection pool to the event store and read store (one database holds both).
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A write transaction on either database.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// Runs `$body` with `$p` bound to the concrete pool.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $p:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Postgres($p) => $body,
            $crate::db::Db::Sqlite($p) => $body,
        }
    };
}

/// Runs `$body` with `$c` bound to the concrete connection of a transaction
/// (use `&mut **$c` as the executor).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Postgres($c) => $body,
            $crate::db::Tx::Sqlite($c) => $body,
        }
    };
}

/// A PostgreSQL connection idle at least this long is probed before the pool hands it out.
const PROBE_IDLE: Duration = Duration::from_secs(1);

/// Pool sizing and time-outs.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions { max_connections: 24, acquire_timeout: Duration::from_secs(5) }
    }
}

/// Sets a file's permission bits (Unix; elsewhere the platform's defaults stand).
fn restrict(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

impl Db {
    /// Connects to `url` (`sqlite://PATH` or `postgres://…`), creating a SQLite file and its
    /// folder when missing.
    pub async fn connect(url: &str, opts: &DbOptions) -> Result<Db> {
        check_url(url)?;
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pg = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let (host, port) = (pg.get_host().to_string(), pg.get_port());
            // One direct connection first: the pool would report any failure as a time-out,
            // while this names what went wrong (refused, unknown host, no such database).
            let probe =
                tokio::time::timeout(opts.acquire_timeout, <sqlx::PgConnection as sqlx::Connection>::connect_with(&pg))
                    .await;
            match probe {
                Err(_) => return Err(Error::Unreachable { host, port, reason: "no answer".into() }),
                Ok(Err(sqlx::Error::Database(e))) if e.code().as_deref() == Some("3D000") => {
                    let database = pg.get_database().unwrap_or("postgres").to_string();
                    return Err(Error::NoDatabase { host, port, database });
                }
                Ok(Err(e @ (sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut))) => {
                    return Err(Error::Unreachable { host, port, reason: e.to_string() })
                }
                Ok(Err(e)) => return Err(e.into()),
                Ok(Ok(conn)) => {
                    let _ = sqlx::Connection::close(conn).await;
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                // sqlx probes every connection on its way back to the pool; probing it again
                // on the way out cost each transaction one more round trip under load. Only
                // a connection that sat idle for a while (the server may have restarted
                // meanwhile) is probed before it is handed out.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PROBE_IDLE {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(pg)
                .await?;
            Ok(Db::Postgres(pool))
        } else if url.starts_with("sqlite:") {
            let o = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Deleted rows are overwritten with zeros instead of lingering in free
                // space: erasing a client deletes its data key, which must not stay
                // readable in the file (see `api::ledger::destroy_data_key`).
                .pragma("secure_delete", "ON");
            let file = o.get_filename().to_path_buf();
            if let Some(parent) = file.parent() {
                if !parent.as_os_str().is_empty() && !parent.exists() {
                    std::fs::create_dir_all(parent)?;
                    restrict(parent, 0o700)?;
                }
            }
            // The ledger is readable by its owner only, like the master key: SQLite gives
            // its -wal and -shm files the mode of the database file.
            if file.as_os_str() != ":memory:" && !file.exists() {
                std::fs::OpenOptions::new().write(true).create_new(true).open(&file)?;
                restrict(&file, 0o600)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.clamp(2, 8))
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(o)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(Error::UnsupportedUrl("?".into()))
        }
    }

    /// On PostgreSQL, a second pool of at most `max_connections` to the same server with the
    /// same options, opening its connections when first asked (on the runtime that asks):
    /// the projector's own, on its own thread (see `Projector::spawn_on_own_thread`). `None`
    /// on SQLite, whose one write lock and in-process gate the projector must share.
    pub fn sibling_pool(&self, max_connections: u32) -> Option<Db> {
        match self {
            Db::Postgres(pool) => Some(Db::Postgres(
                pool.options()
                    .clone()
                    .max_connections(max_connections)
                    .min_connections(0)
                    .connect_lazy_with((*pool.connect_options()).clone()),
            )),
            Db::Sqlite(_) => None,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Applies the versioned migrations of this backend.
    #[tracing::instrument(skip(self))]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await?,
            Db::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await?,
        }
        Ok(())
    }

    /// Starts a write transaction. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`), so a read-then-write never fails half-way with SQLITE_BUSY.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(match self {
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Starts a write transaction of derived data only (read models and their checkpoint,
    /// which commit together and can always be replayed from the event log). On PostgreSQL
    /// its commit does not wait for the WAL to reach the disk (`synchronous_commit = off`,
    /// for this transaction only): it is visible to every reader at once, and a crash can
    /// lose at most the last fraction of a second of projection, read models and checkpoint
    /// together, which the projector applies again from the log before the server is ready.
    /// The events themselves are always committed synchronously. See ADR 0015.
    pub async fn begin_derived(&self) -> Result<Tx> {
        Ok(match self {
            Db::Postgres(p) => Tx::Postgres(p.begin_with("BEGIN; SET LOCAL synchronous_commit = off").await?),
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// The in-process gate of this database's writers, on SQLite (`None` on PostgreSQL).
    ///
    /// SQLite admits one writer at a time; a connection that finds the write lock taken
    /// waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, … ms between attempts, so
    /// under a command load each command's append and each projector batch lost
    /// milliseconds asleep after the lock was already free. The event appends and the
    /// projector's batches take this gate (one per database file in the process) before
    /// they write: the next writer is woken the moment the previous one commits. Writers
    /// that do not take it (rare ones: keys, sessions) still meet the busy handler, as
    /// before. Taken before the database lock and never held while waiting for anything
    /// but that lock, so it cannot deadlock with it. See ADR 0018.
    pub fn write_gate(&self) -> Option<WriteGate> {
        match self {
            Db::Sqlite(p) => Some(WriteGate::of(p)),
            Db::Postgres(_) => None,
        }
    }

    /// Cheap liveness probe.
    pub async fn ping(&self) -> Result<()> {
        on_db!(self, p => { sqlx::query("SELECT 1").execute(p).await?; });
        Ok(())
    }

    pub async fn close(&self) {
        on_db!(self, p => p.close().await)
    }
}

/// See [`Db::write_gate`].
#[derive(Debug, Clone)]
pub struct WriteGate(std::sync::Arc<Gate>);

#[derive(Debug, Default)]
pub struct Gate {
    lock: tokio::sync::Mutex<()>,
    /// Tasks waiting for the gate or holding it.
    writers: std::sync::atomic::AtomicUsize,
}

/// Counts a task among a gate's writers until dropped (also when its wait is cancelled).
struct Counted(std::sync::Arc<Gate>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.writers.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Holds a [`WriteGate`] until dropped.
pub struct GateGuard<'a> {
    _lock: tokio::sync::MutexGuard<'a, ()>,
    _counted: Counted,
}

impl WriteGate {
    /// The gate of the database file `p` writes (one per file in this process).
    pub fn of(p: &SqlitePool) -> WriteGate {
        static GATES: std::sync::OnceLock<
            std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, std::sync::Weak<Gate>>>,
        > = std::sync::OnceLock::new();
        let key = p.connect_options().get_filename().to_path_buf();
        let mut gates = GATES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        gates.retain(|_, g| g.strong_count() > 0);
        if let Some(g) = gates.get(&key).and_then(std::sync::Weak::upgrade) {
            return WriteGate(g);
        }
        let g = std::sync::Arc::new(Gate::default());
        gates.insert(key, std::sync::Arc::downgrade(&g));
        WriteGate(g)
    }

    /// Waits for the gate; writing is this task's until the guard is dropped.
    pub async fn enter(&self) -> GateGuard<'_> {
        self.0.writers.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let counted = Counted(self.0.clone());
        GateGuard { _lock: self.0.lock.lock().await, _counted: counted }
    }

    /// How many tasks wait for the gate or hold it (for tests and diagnostics).
    pub fn writers(&self) -> usize {
        self.0.writers.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        on_tx!(self, t => t.commit().await?);
        Ok(())
    }
}

/// Refuses a URL of a database this ledger does not run on, before anything else (a key,
/// a connection) is asked for.
pub fn check_url(url: &str) -> Result<()> {
    if ["postgres://", "postgresql://", "sqlite:"].iter().any(|p| url.starts_with(p)) {
        Ok(())
    } else {
        // Only the scheme: the rest of a URL may hold a password.
        Err(Error::UnsupportedUrl(format!("{}:", url.split(':').next().unwrap_or(""))))
    }
}
