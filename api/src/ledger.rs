//! The event store: cqrs-es's `PersistedEventStore` over our `LedgerRepository`.
//!
//! Reads are delegated to postgres-es / sqlite-es unchanged. Writes are ours, because every
//! event must carry its hash-chain link (`prev_hash`, `hash`), computed in the same
//! transaction that inserts it, and the command path needs the global position of what it
//! wrote (for read-your-writes). Optimistic concurrency is the stream's primary key, as in
//! those crates: two writers of the same next sequence → one insert fails → `CONFLICT`.

use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{Aggregate, CqrsFramework};
use domain::chain::{event_hash, ChainedEvent, GENESIS};
use postgres_es::PostgresEventRepository;
use projections::{Db, Position};
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use sqlx::Row;
use std::cell::Cell;

tokio::task_local! {
    /// Set by `persist` to the position of the last event it wrote, for the command that
    /// runs inside [`capture_position`].
    static LAST_WRITE: Cell<Option<Position>>;
}

/// Runs `f` and returns its result with the log position of the events it wrote.
pub async fn capture_position<F: std::future::Future>(f: F) -> (F::Output, Option<Position>) {
    LAST_WRITE
        .scope(Cell::new(None), async move {
            let out = f.await;
            (out, LAST_WRITE.with(|c| c.get()))
        })
        .await
}

pub enum LedgerRepository {
    Postgres { pool: sqlx::PgPool, inner: PostgresEventRepository },
    Sqlite { pool: sqlx::SqlitePool, inner: SqliteEventRepository },
}

impl LedgerRepository {
    pub fn new(db: &Db) -> Self {
        match db {
            Db::Postgres(p) => {
                LedgerRepository::Postgres { pool: p.clone(), inner: PostgresEventRepository::new(p.clone()) }
            }
            Db::Sqlite(p) => LedgerRepository::Sqlite { pool: p.clone(), inner: SqliteEventRepository::new(p.clone()) },
        }
    }
}

fn persistence_error(e: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &e {
        // 23505: PostgreSQL unique violation; 1555/2067: SQLite primary key / unique.
        if matches!(db.code().as_deref(), Some("23505" | "1555" | "2067")) {
            return PersistenceError::OptimisticLockError;
        }
    }
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            PersistenceError::ConnectionError(Box::new(e))
        }
        other => PersistenceError::UnknownError(Box::new(other)),
    }
}

struct Link {
    hash: String,
    prev: String,
}

/// Computes the chain links of `events`, which follow `prev` in their stream.
fn links(prev: String, events: &[SerializedEvent]) -> Vec<Link> {
    let mut prev = prev;
    events
        .iter()
        .map(|e| {
            let hash = event_hash(
                &prev,
                &ChainedEvent {
                    aggregate_type: &e.aggregate_type,
                    aggregate_id: &e.aggregate_id,
                    sequence: e.sequence as i64,
                    event_type: &e.event_type,
                    event_version: &e.event_version,
                    payload: &e.payload,
                    metadata: &e.metadata,
                },
            );
            Link { prev: std::mem::replace(&mut prev, hash.clone()), hash }
        })
        .collect()
}

const PREV_HASH: &str = "SELECT hash FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3";

impl LedgerRepository {
    async fn insert_chained(&self, events: &[SerializedEvent]) -> Result<Option<Position>, PersistenceError> {
        let Some(first) = events.first() else { return Ok(None) };
        let prev_seq = first.sequence as i64 - 1;
        match self {
            LedgerRepository::Postgres { pool, .. } => {
                let mut tx = pool.begin().await.map_err(persistence_error)?;
                let prev = if prev_seq < 1 {
                    GENESIS.to_string()
                } else {
                    let row = sqlx::query(PREV_HASH)
                        .bind(&first.aggregate_type)
                        .bind(&first.aggregate_id)
                        .bind(prev_seq)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(persistence_error)?;
                    // No predecessor: the stream changed under us (or was tampered with).
                    let Some(row) = row else { return Err(PersistenceError::OptimisticLockError) };
                    row.try_get::<String, _>("hash").map_err(persistence_error)?
                };
                let mut last = None;
                for (e, link) in events.iter().zip(links(prev, events)) {
                    let row = sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING transaction_id::text::bigint AS tx, position",
                    )
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence as i64)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(&e.payload)
                    .bind(&e.metadata)
                    .bind(&link.prev)
                    .bind(&link.hash)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(persistence_error)?;
                    last = Some(Position {
                        tx: row.try_get("tx").map_err(persistence_error)?,
                        pos: row.try_get("position").map_err(persistence_error)?,
                    });
                }
                tx.commit().await.map_err(persistence_error)?;
                Ok(last)
            }
            LedgerRepository::Sqlite { pool, .. } => {
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(persistence_error)?;
                let prev = if prev_seq < 1 {
                    GENESIS.to_string()
                } else {
                    let row = sqlx::query(PREV_HASH)
                        .bind(&first.aggregate_type)
                        .bind(&first.aggregate_id)
                        .bind(prev_seq)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(persistence_error)?;
                    let Some(row) = row else { return Err(PersistenceError::OptimisticLockError) };
                    row.try_get::<String, _>("hash").map_err(persistence_error)?
                };
                let mut last = None;
                for (e, link) in events.iter().zip(links(prev, events)) {
                    let row = sqlx::query(
                        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING position",
                    )
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence as i64)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(e.payload.to_string())
                    .bind(e.metadata.to_string())
                    .bind(&link.prev)
                    .bind(&link.hash)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(persistence_error)?;
                    last = Some(Position { tx: 0, pos: row.try_get("position").map_err(persistence_error)? });
                }
                tx.commit().await.map_err(persistence_error)?;
                Ok(last)
            }
        }
    }
}

impl PersistedEventRepository for LedgerRepository {
    async fn get_events<A: Aggregate>(&self, aggregate_id: &str) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            LedgerRepository::Postgres { inner, .. } => inner.get_events::<A>(aggregate_id).await,
            LedgerRepository::Sqlite { inner, .. } => inner.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match self {
            LedgerRepository::Postgres { inner, .. } => inner.get_last_events::<A>(aggregate_id, last_sequence).await,
            LedgerRepository::Sqlite { inner, .. } => inner.get_last_events::<A>(aggregate_id, last_sequence).await,
        }
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        // Streams are short (tens of events); we configure no snapshots.
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError("snapshots are not configured for this store".into()));
        }
        let pos = self.insert_chained(events).await?;
        let _ = LAST_WRITE.try_with(|c| c.set(pos));
        Ok(())
    }

    async fn stream_events<A: Aggregate>(&self, aggregate_id: &str) -> Result<ReplayStream, PersistenceError> {
        match self {
            LedgerRepository::Postgres { inner, .. } => inner.stream_events::<A>(aggregate_id).await,
            LedgerRepository::Sqlite { inner, .. } => inner.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match self {
            LedgerRepository::Postgres { inner, .. } => inner.stream_all_events::<A>().await,
            LedgerRepository::Sqlite { inner, .. } => inner.stream_all_events::<A>().await,
        }
    }
}

pub type Framework<A> = CqrsFramework<A, PersistedEventStore<LedgerRepository, A>>;

/// One framework per aggregate, all on the same database.
pub struct Frameworks {
    pub cases: Framework<domain::case::Case>,
    pub lawyers: Framework<domain::lawyer::Lawyer>,
    pub organizations: Framework<domain::organization::Organization>,
    pub accounts: Framework<domain::account::Account>,
    pub catalogue: Framework<domain::offense::OffenseCatalogue>,
}

impl Frameworks {
    pub fn new(db: &Db, clock: std::sync::Arc<dyn domain::Clock>) -> Frameworks {
        fn fw<A: Aggregate>(db: &Db, services: A::Services) -> Framework<A> {
            CqrsFramework::new(PersistedEventStore::new_event_store(LedgerRepository::new(db)), vec![], services)
        }
        Frameworks {
            cases: fw(db, domain::case::CaseServices::new(clock.clone())),
            lawyers: fw(db, domain::lawyer::LawyerServices { clock }),
            organizations: fw(db, ()),
            accounts: fw(db, ()),
            catalogue: fw(db, ()),
        }
    }
}

// ---------------------------------------------------------------- data keys

/// Stores a case's wrapped data key.
pub async fn put_data_key(db: &Db, case_id: &str, wrapped: &str, master_key_id: &str) -> Result<(), sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("INSERT INTO data_keys (case_id, wrapped_key, master_key_id) VALUES ($1, $2, $3)")
        .bind(case_id).bind(wrapped).bind(master_key_id).execute(p).await.map(|_| ()))
}

/// A case's wrapped data key, or `None` once destroyed.
pub async fn get_data_key(db: &Db, case_id: &str) -> Result<Option<String>, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query_scalar("SELECT wrapped_key FROM data_keys WHERE case_id = $1")
        .bind(case_id).fetch_optional(p).await)
}

/// Destroys a case's data key (crypto-shredding). Returns whether one existed.
///
/// On SQLite the row is zeroed in its page (`secure_delete`, set on every connection), but
/// older images of the page stay in the write-ahead log until [`scrub_deleted_keys`].
/// PostgreSQL keeps a deleted row until vacuum and in its WAL and backups; there the wrapped
/// key is useless without the master key, and rotating the master key (then destroying the
/// old one) shreds those copies as well (docs/operations.md, "Keys").
pub async fn destroy_data_key(db: &Db, case_id: &str) -> Result<bool, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM data_keys WHERE case_id = $1")
        .bind(case_id).execute(p).await.map(|r| r.rows_affected() > 0))
}

/// After data keys were deleted or rewritten: on SQLite, copies every page of the
/// write-ahead log into the database and empties the log, so no old image of a key page
/// survives in the files. (Nothing to do on PostgreSQL; see [`destroy_data_key`].)
pub async fn scrub_deleted_keys(db: &Db) {
    if let Db::Sqlite(p) = db {
        truncate_sqlite_wal(p).await;
    }
}

/// `PRAGMA wal_checkpoint(TRUNCATE)`. It waits (up to the busy timeout) for readers of older
/// snapshots; if they still hold it back we try once more, then leave it to SQLite's next
/// checkpoint rather than hold the request longer.
async fn truncate_sqlite_wal(pool: &sqlx::SqlitePool) {
    for _ in 0..2 {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await {
            Ok((0, _, _)) => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(e) => {
                tracing::warn!(error = %e, "write-ahead log checkpoint after a key change failed");
                return;
            }
        }
    }
    tracing::warn!("write-ahead log still busy after a key change; it is truncated at the next checkpoint");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(seq: usize, payload: Value) -> SerializedEvent {
        SerializedEvent::new("c".into(), seq, "Case".into(), "X".into(), "1.0".into(), payload, json!({}))
    }

    #[test]
    fn links_chain_each_event_to_the_one_before() {
        let events = vec![ev(1, json!({"a": 1})), ev(2, json!({"b": 2}))];
        let l = links(GENESIS.to_string(), &events);
        assert_eq!(l[0].prev, GENESIS);
        assert_eq!(l[1].prev, l[0].hash);
        assert_ne!(l[0].hash, l[1].hash);
    }
}
