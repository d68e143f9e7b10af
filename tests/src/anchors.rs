//! The command benchmark's anchors: what a user would compare the project's command path
//! with, run by `probono-bench` in the same process, on the same database server, with the
//! same number of clients, right before and after the project's own command load.
//!
//! - [`bare_db`]: the bare database doing what one command must do at minimum — one
//!   transaction that reads a stream of a fixed, realistic length ([`FIXED_STREAM_EVENTS`])
//!   and inserts one event. The stream read never grows during the run: each insert opens a
//!   stream of its own.
//! - [`bare_framework`]: cqrs-es's `CqrsFramework` over postgres-es or sqlite-es (their own
//!   repositories, unchanged) with one `GenericQuery` view, executing a command on a small
//!   aggregate; each client on its own aggregates in turn, as the project's command load.

use crate::bench::Errors;
use cqrs_es::persist::{GenericQuery, PersistedEventStore};
use cqrs_es::{Aggregate, CqrsFramework, DomainEvent, EventEnvelope, Query, View};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The length of the stream the bare-database anchor reads per transaction: the mean length
/// of the demo seed's case streams (`probono demo seed`: 180 cases, 7.3 events on average,
/// 19 at most), rounded up.
pub const FIXED_STREAM_EVENTS: usize = 8;

/// What one anchor did: committed operations, failures by kind, and how long it ran.
#[derive(Debug, Default)]
pub struct AnchorRun {
    pub ops: u64,
    pub errors: Errors,
    pub secs: f64,
    /// The mean length of the streams written, at the end of the run.
    pub stream_len: f64,
}

impl AnchorRun {
    pub fn per_s(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

fn sqlx_kind(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => format!("database error {}", d.code().unwrap_or_default()),
        sqlx::Error::PoolTimedOut => "pool timed out".into(),
        _ => "database access failed".into(),
    }
}

/// A payload of the size and shape of a case event (a recorded legal action).
fn payload(i: usize) -> Value {
    json!({"LegalActionRecorded": {"kind": "CONSULTATION", "taken_on": "2020-03-01",
        "note": format!("consultation {i}: documents reviewed with the client, next steps agreed")}})
}

fn metadata() -> Value {
    json!({"actor_id": "6f1c1e0e-8b8a-4f43-9d57-3f0a8f6d2b11", "actor_role": "LAWYER",
        "correlation_id": "b1d2c3e4-0000-4000-8000-000000000000", "recorded_at": "2020-03-01T00:00:00Z"})
}

const READ_STREAM: &str = "SELECT sequence, payload, metadata FROM events \
                           WHERE aggregate_type = 'AnchorCase' AND aggregate_id = $1 ORDER BY sequence";
const INSERT: &str =
    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata) \
                      VALUES ($1, $2, $3, 'LegalActionRecorded', '1.0', $4, $5)";

/// Runs `clients` tasks for `run`, each calling `op(client, n)` in a loop; counts successes
/// and failures.
async fn drive<F, Fut>(clients: usize, run: Duration, op: F) -> (u64, Errors, f64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), (String, String)>> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let op = Arc::new(op);
    let mut tasks = vec![];
    for c in 0..clients {
        let (stop, op) = (stop.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            let (mut done, mut errors, mut n) = (0u64, Errors::default(), 0u64);
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                match op(c, n).await {
                    Ok(()) => done += 1,
                    Err((kind, why)) => errors.add(kind, why),
                }
            }
            (done, errors)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    let (mut done, mut errors) = (0, Errors::default());
    for t in tasks {
        match t.await {
            Ok((d, e)) => {
                done += d;
                errors.merge("", e);
            }
            Err(e) => errors.add("anchor task failed", e),
        }
    }
    (done, errors, started.elapsed().as_secs_f64())
}

/// The bare database: per transaction, read one of `clients` streams of
/// [`FIXED_STREAM_EVENTS`] events and insert one event (into a stream of its own, so the
/// streams read never grow). `db` is a migrated, otherwise unused database.
pub async fn bare_db(db: &projections::Db, clients: usize, run: Duration) -> Result<AnchorRun, String> {
    // The fixed streams.
    for c in 0..clients {
        for s in 1..=FIXED_STREAM_EVENTS {
            let id = format!("anchor-{c}");
            let r = match db {
                projections::Db::Postgres(p) => sqlx::query(INSERT)
                    .bind("AnchorCase")
                    .bind(&id)
                    .bind(s as i64)
                    .bind(payload(s))
                    .bind(metadata())
                    .execute(p)
                    .await
                    .map(|_| ()),
                projections::Db::Sqlite(p) => sqlx::query(INSERT)
                    .bind("AnchorCase")
                    .bind(&id)
                    .bind(s as i64)
                    .bind(payload(s).to_string())
                    .bind(metadata().to_string())
                    .execute(p)
                    .await
                    .map(|_| ()),
            };
            r.map_err(|e| format!("seeding the anchor's streams: {}", chain(&e)))?;
        }
    }
    let db = db.clone();
    let (ops, errors, secs) = drive(clients, run, move |c, n| {
        let db = db.clone();
        async move {
            let read = format!("anchor-{c}");
            let write = format!("anchor-{c}-w{n}");
            let (p, m) = (payload(n as usize), metadata());
            let r: Result<(), sqlx::Error> = async {
                match &db {
                    projections::Db::Postgres(pool) => {
                        let mut tx = pool.begin().await?;
                        let rows = sqlx::query(READ_STREAM).bind(&read).fetch_all(&mut *tx).await?;
                        if rows.len() != FIXED_STREAM_EVENTS {
                            return Err(sqlx::Error::RowNotFound);
                        }
                        sqlx::query(INSERT)
                            .bind("AnchorWrite")
                            .bind(&write)
                            .bind(1i64)
                            .bind(&p)
                            .bind(&m)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await
                    }
                    projections::Db::Sqlite(pool) => {
                        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                        let rows = sqlx::query(READ_STREAM).bind(&read).fetch_all(&mut *tx).await?;
                        if rows.len() != FIXED_STREAM_EVENTS {
                            return Err(sqlx::Error::RowNotFound);
                        }
                        sqlx::query(INSERT)
                            .bind("AnchorWrite")
                            .bind(&write)
                            .bind(1i64)
                            .bind(p.to_string())
                            .bind(m.to_string())
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await
                    }
                }
            }
            .await;
            r.map_err(|e| (sqlx_kind(&e), chain(&e)))
        }
    })
    .await;
    Ok(AnchorRun { ops, errors, secs, stream_len: FIXED_STREAM_EVENTS as f64 })
}

/// The bare framework's small aggregate: a matter that records actions.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Matter {
    actions: u64,
}

#[derive(Debug)]
pub enum MatterCommand {
    RecordAction { kind: String, taken_on: String, note: Option<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MatterEvent {
    ActionRecorded { kind: String, taken_on: String, note: Option<String> },
}

impl DomainEvent for MatterEvent {
    fn event_type(&self) -> String {
        "ActionRecorded".into()
    }
    fn event_version(&self) -> String {
        "1.0".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MatterError(String);

impl Aggregate for Matter {
    const TYPE: &'static str = "AnchorMatter";
    type Command = MatterCommand;
    type Event = MatterEvent;
    type Error = MatterError;
    type Services = ();

    async fn handle(
        &mut self,
        command: MatterCommand,
        _: &(),
        sink: &cqrs_es::event_sink::EventSink<Self>,
    ) -> Result<(), MatterError> {
        match command {
            MatterCommand::RecordAction { kind, taken_on, note } => {
                if kind.is_empty() {
                    return Err(MatterError("an action needs a kind".into()));
                }
                sink.write(MatterEvent::ActionRecorded { kind, taken_on, note }, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: MatterEvent) {
        match event {
            MatterEvent::ActionRecorded { .. } => self.actions += 1,
        }
    }
}

/// The one view: actions per matter and the last one's date.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct MatterView {
    actions: u64,
    last_taken_on: Option<String>,
}

impl View<Matter> for MatterView {
    fn update(&mut self, event: &EventEnvelope<Matter>) {
        match &event.payload {
            MatterEvent::ActionRecorded { taken_on, .. } => {
                self.actions += 1;
                self.last_taken_on = Some(taken_on.clone());
            }
        }
    }
}

const VIEW_TABLE: &str = "anchor_matter_view";

/// The bare framework: `CqrsFramework` over postgres-es or sqlite-es with one `GenericQuery`
/// view, `clients` tasks each executing commands on its own `per_client` aggregates in turn
/// (as the project's command load does with its cases). `db` is a migrated,
/// otherwise unused database (the framework writes the project's `events` table, which is
/// postgres-es's own with extra defaulted columns).
pub async fn bare_framework(
    db: &projections::Db,
    clients: usize,
    per_client: usize,
    run: Duration,
) -> Result<AnchorRun, String> {
    let per_client = per_client.max(1);
    // A view update that fails must not pass for a fast one.
    let view_errors = Arc::new(std::sync::Mutex::new(Errors::default()));
    let cqrs: Arc<Framework> = match db {
        projections::Db::Postgres(p) => {
            sqlx::query(&format!(
                "CREATE TABLE {VIEW_TABLE} (view_id text NOT NULL, version bigint CHECK (version >= 0) NOT NULL, \
                 payload json NOT NULL, PRIMARY KEY (view_id))"
            ))
            .execute(p)
            .await
            .map_err(|e| format!("the anchor's view table: {}", chain(&e)))?;
            let view = Arc::new(postgres_es::PostgresViewRepository::<MatterView, Matter>::new(VIEW_TABLE, p.clone()));
            let query: Box<dyn Query<Matter>> = Box::new(counted(GenericQuery::new(view), &view_errors));
            let store = PersistedEventStore::new_event_store(postgres_es::PostgresEventRepository::new(p.clone()));
            Arc::new(Framework::Postgres(CqrsFramework::new(store, vec![query], ())))
        }
        projections::Db::Sqlite(p) => {
            sqlx::query(&format!(
                "CREATE TABLE {VIEW_TABLE} (view_id text NOT NULL, version integer CHECK (version >= 0) NOT NULL, \
                 payload text NOT NULL, PRIMARY KEY (view_id)) STRICT"
            ))
            .execute(p)
            .await
            .map_err(|e| format!("the anchor's view table: {}", chain(&e)))?;
            let view = Arc::new(sqlite_es::SqliteViewRepository::<MatterView, Matter>::new(VIEW_TABLE, p.clone()));
            let query: Box<dyn Query<Matter>> = Box::new(counted(GenericQuery::new(view), &view_errors));
            let store = PersistedEventStore::new_event_store(sqlite_es::SqliteEventRepository::new(p.clone()));
            Arc::new(Framework::Sqlite(CqrsFramework::new(store, vec![query], ())))
        }
    };
    let exec = cqrs.clone();
    let (ops, errors, secs) = drive(clients, run, move |c, n| {
        let cqrs = exec.clone();
        async move {
            let metadata: HashMap<String, String> = [
                ("actor_id", "6f1c1e0e-8b8a-4f43-9d57-3f0a8f6d2b11"),
                ("actor_role", "LAWYER"),
                ("correlation_id", "b1d2c3e4-0000-4000-8000-000000000000"),
                ("recorded_at", "2020-03-01T00:00:00Z"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let command = MatterCommand::RecordAction {
                kind: "CONSULTATION".into(),
                taken_on: "2020-03-01".into(),
                note: Some(format!("consultation {n}: documents reviewed with the client, next steps agreed")),
            };
            cqrs.execute(&format!("matter-{c}-{}", n as usize % per_client), command, metadata).await
        }
    })
    .await;
    let mut errors = errors;
    if let Ok(mut v) = view_errors.lock() {
        errors.merge("view", std::mem::take(&mut *v));
    }
    let stream_len = ops as f64 / (clients * per_client).max(1) as f64;
    Ok(AnchorRun { ops, errors, secs, stream_len })
}

/// `query` with an error handler that counts each failed view update.
fn counted<R: cqrs_es::persist::ViewRepository<MatterView, Matter> + 'static>(
    mut query: GenericQuery<R, MatterView, Matter>,
    errors: &Arc<std::sync::Mutex<Errors>>,
) -> GenericQuery<R, MatterView, Matter> {
    let errors = errors.clone();
    query.use_error_handler(Box::new(move |e| {
        if let Ok(mut v) = errors.lock() {
            v.add("update failed", chain(&e));
        }
    }));
    query
}

/// The framework over either repository.
enum Framework {
    Postgres(postgres_es::PostgresCqrs<Matter>),
    Sqlite(sqlite_es::SqliteCqrs<Matter>),
}

impl Framework {
    /// `CqrsFramework::execute_with_metadata`, errors as `(kind, why)`.
    async fn execute(
        &self,
        id: &str,
        command: MatterCommand,
        metadata: HashMap<String, String>,
    ) -> Result<(), (String, String)> {
        let r = match self {
            Framework::Postgres(f) => f.execute_with_metadata(id, command, metadata).await,
            Framework::Sqlite(f) => f.execute_with_metadata(id, command, metadata).await,
        };
        r.map_err(|e| {
            let kind = match &e {
                cqrs_es::AggregateError::AggregateConflict => "framework conflict",
                cqrs_es::AggregateError::UserError(_) => "framework rejected",
                _ => "framework error",
            };
            (kind.to_string(), e.to_string())
        })
    }
}
