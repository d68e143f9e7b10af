//! The event store: cqrs-es's `PersistedEventStore` over our `LedgerRepository`.
//! Appends made under [`super::guard::guarded`] also apply their guarded rows in the same
//! transaction.
//!
//! Reads are delegated to postgres-es / sqlite-es unchanged. Writes are ours, because every
//! event must carry its hash-chain link (`prev_hash`, `hash`), computed in the same
//! transaction that inserts it, and the command path needs the global position of what it
//! wrote (for read-your-writes). Optimistic concurrency is the stream's primary key, as in
//! those crates: two writers of the same next sequence → one insert fails → `CONFLICT`.

use super::guard::{self, SlotChange};
use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventStore};
use domain::chain::{event_hash, ChainedEvent, GENESIS};
use postgres_es::PostgresEventRepository;
use projections::append::{Append, Appended};
use projections::db::WriteGate;
use projections::{Db, Position, Projector};
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

pub enum Store {
    Postgres {
        pool: sqlx::PgPool,
        inner: PostgresEventRepository,
    },
    /// `gate`: the in-process writer gate every append takes (`projections::Db::write_gate`).
    Sqlite {
        pool: sqlx::SqlitePool,
        inner: SqliteEventRepository,
        gate: WriteGate,
    },
}

/// The last link this process wrote per stream: `(sequence, hash)`.
type Heads = std::sync::Mutex<std::collections::HashMap<String, (i64, String)>>;

pub struct LedgerRepository {
    store: Store,
    /// Lets the next append skip reading the previous hash. Only a hint: the append is
    /// guarded by the stored row, and falls back to reading it when the hint is stale
    /// (another instance wrote the stream).
    heads: Heads,
    /// The projector whose batches append a command's single event after a known head and
    /// project it in the same transaction (ADR 0019); `None` for loads and tools.
    projector: Option<std::sync::Arc<Projector>>,
}

/// Beyond this many streams the hint map starts over.
const MAX_HEADS: usize = 100_000;

impl LedgerRepository {
    pub fn new(db: &Db) -> Self {
        let store = match db {
            Db::Postgres(p) => Store::Postgres { pool: p.clone(), inner: PostgresEventRepository::new(p.clone()) },
            Db::Sqlite(p) => {
                Store::Sqlite { pool: p.clone(), inner: SqliteEventRepository::new(p.clone()), gate: WriteGate::of(p) }
            }
        };
        LedgerRepository { store, heads: Default::default(), projector: None }
    }

    /// A repository whose single-event appends after a known head go through `projector`'s
    /// batches when its loop leads in this process (ADR 0019).
    pub fn with_projector(db: &Db, projector: std::sync::Arc<Projector>) -> Self {
        LedgerRepository { projector: Some(projector), ..Self::new(db) }
    }

    fn head_hint(&self, stream: &str, prev_seq: i64) -> Option<String> {
        let heads = self.heads.lock().ok()?;
        heads.get(stream).filter(|(seq, _)| *seq == prev_seq).map(|(_, h)| h.clone())
    }

    fn remember(&self, stream: String, seq: i64, hash: String) {
        if let Ok(mut heads) = self.heads.lock() {
            if heads.len() >= MAX_HEADS {
                heads.clear();
            }
            heads.insert(stream, (seq, hash));
        }
    }

    fn forget(&self, stream: &str) {
        if let Ok(mut heads) = self.heads.lock() {
            heads.remove(stream);
        }
    }

    /// The common case, one event after a known head: a single guarded statement, no
    /// explicit transaction. `Ok(None)` when the guard did not hold (stale hint).
    async fn append_one(&self, e: &SerializedEvent, prev: &str) -> Result<Option<Position>, PersistenceError> {
        let link = links(prev.to_string(), std::slice::from_ref(e)).remove(0);
        const GUARD: &str = "WHERE EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
                             AND sequence = $3 - 1 AND hash = $8)";
        let pos = match &self.store {
            Store::Postgres { pool, .. } => {
                let sql = format!(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
                     SELECT $1, $2, $3::bigint, $4, $5, $6::jsonb, $7::jsonb, $8, $9 {GUARD} \
                     RETURNING transaction_id::text::bigint AS tx, position"
                );
                let row = sqlx::query(&sql)
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence as i64)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(&e.payload)
                    .bind(&e.metadata)
                    .bind(&link.prev)
                    .bind(&link.hash)
                    .fetch_optional(pool)
                    .await
                    .map_err(persistence_error)?;
                match row {
                    Some(r) => Some(Position {
                        tx: r.try_get("tx").map_err(persistence_error)?,
                        pos: r.try_get("position").map_err(persistence_error)?,
                    }),
                    None => None,
                }
            }
            Store::Sqlite { pool, gate, .. } => {
                let sql = format!(
                    "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 {GUARD} RETURNING position"
                );
                let _gate = gate.enter().await;
                let row = sqlx::query(&sql)
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence as i64)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(e.payload.to_string())
                    .bind(e.metadata.to_string())
                    .bind(&link.prev)
                    .bind(&link.hash)
                    .fetch_optional(pool)
                    .await
                    .map_err(persistence_error)?;
                match row {
                    Some(r) => Some(Position { tx: 0, pos: r.try_get("position").map_err(persistence_error)? }),
                    None => None,
                }
            }
        };
        if pos.is_some() {
            self.remember(format!("{}/{}", e.aggregate_type, e.aggregate_id), e.sequence as i64, link.hash);
        }
        Ok(pos)
    }
}

fn persistence_error(e: sqlx::Error) -> PersistenceError {
    if let sqlx::Error::Database(db) = &e {
        // 23505: PostgreSQL unique violation; 1555/2067: SQLite primary key / unique.
        if matches!(db.code().as_deref(), Some("23505" | "1555" | "2067")) {
            return PersistenceError::OptimisticLockError;
        }
    }
    if projections::error::is_unavailable(&e) {
        PersistenceError::ConnectionError(Box::new(e))
    } else {
        PersistenceError::UnknownError(Box::new(e))
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
    async fn insert_chained(
        &self,
        events: &[SerializedEvent],
        guards: &[SlotChange],
    ) -> Result<Option<Position>, PersistenceError> {
        let Some(first) = events.first() else { return Ok(None) };
        let prev_seq = first.sequence as i64 - 1;
        let stream = format!("{}/{}", first.aggregate_type, first.aggregate_id);
        let hint = if guards.is_empty() { self.head_hint(&stream, prev_seq) } else { None };
        if let (1, Some(prev)) = (events.len(), hint) {
            match self.hand_over(first, &prev).await? {
                Appended::Written(pos) => return Ok(Some(pos)),
                // Stale hint, or another writer took the sequence: the careful path tells which.
                Appended::Refused => self.forget(&stream),
                Appended::NotQueued => match self.append_one(first, &prev).await? {
                    Some(pos) => return Ok(Some(pos)),
                    // The hint was stale: take the careful path.
                    None => self.forget(&stream),
                },
                Appended::Unknown => {
                    self.forget(&stream);
                    return Err(PersistenceError::ConnectionError(
                        "the transaction holding the event failed while committing; whether it was written is unknown"
                            .into(),
                    ));
                }
            }
        }
        let written = self.insert_in_transaction(events, prev_seq, guards).await?;
        if let (Some(e), Some((_, hash))) = (events.last(), &written) {
            self.remember(stream, e.sequence as i64, hash.clone());
        }
        Ok(written.map(|(p, _)| p))
    }

    /// Hands one event that follows the known head `prev` to the projector's next batch
    /// (the group commit of ADR 0019); [`Appended::NotQueued`] when there is none to take it.
    async fn hand_over(&self, e: &SerializedEvent, prev: &str) -> Result<Appended, PersistenceError> {
        let Some(projector) = &self.projector else { return Ok(Appended::NotQueued) };
        let link = links(prev.to_string(), std::slice::from_ref(e)).remove(0);
        let ev = Append {
            aggregate_type: e.aggregate_type.clone(),
            aggregate_id: e.aggregate_id.clone(),
            sequence: e.sequence as i64,
            event_type: e.event_type.clone(),
            event_version: e.event_version.clone(),
            payload: e.payload.clone(),
            metadata: e.metadata.clone(),
            prev_hash: link.prev,
            hash: link.hash.clone(),
        };
        let outcome = projector.append(ev).await;
        if let Appended::Written(_) = outcome {
            self.remember(format!("{}/{}", e.aggregate_type, e.aggregate_id), e.sequence as i64, link.hash);
        }
        Ok(outcome)
    }

    /// Reads the previous hash, appends `events` and applies `guards`, in one transaction.
    /// Returns the last event's position and hash.
    #[tracing::instrument(skip_all, fields(events = events.len(), guards = guards.len()))]
    async fn insert_in_transaction(
        &self,
        events: &[SerializedEvent],
        prev_seq: i64,
        guards: &[SlotChange],
    ) -> Result<Option<(Position, String)>, PersistenceError> {
        let Some(first) = events.first() else { return Ok(None) };
        match &self.store {
            Store::Postgres { pool, .. } => {
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
                let mut last_hash = String::new();
                for (e, link) in events.iter().zip(links(prev, events)) {
                    last_hash.clone_from(&link.hash);
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
                guard::apply_postgres(&mut tx, guards, persistence_error).await?;
                tx.commit().await.map_err(persistence_error)?;
                Ok(last.map(|p| (p, last_hash)))
            }
            Store::Sqlite { pool, gate, .. } => {
                let _gate = gate.enter().await;
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
                let mut last_hash = String::new();
                for (e, link) in events.iter().zip(links(prev, events)) {
                    last_hash.clone_from(&link.hash);
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
                guard::apply_sqlite(&mut tx, guards, persistence_error).await?;
                tx.commit().await.map_err(persistence_error)?;
                Ok(last.map(|p| (p, last_hash)))
            }
        }
    }
}

impl PersistedEventRepository for LedgerRepository {
    async fn get_events<A: Aggregate>(&self, aggregate_id: &str) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match &self.store {
            Store::Postgres { inner, .. } => inner.get_events::<A>(aggregate_id).await,
            Store::Sqlite { inner, .. } => inner.get_events::<A>(aggregate_id).await,
        }
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        match &self.store {
            Store::Postgres { inner, .. } => inner.get_last_events::<A>(aggregate_id, last_sequence).await,
            Store::Sqlite { inner, .. } => inner.get_last_events::<A>(aggregate_id, last_sequence).await,
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
        let pos = self.insert_chained(events, &guard::take_pending()).await?;
        let _ = LAST_WRITE.try_with(|c| c.set(pos));
        Ok(())
    }

    async fn stream_events<A: Aggregate>(&self, aggregate_id: &str) -> Result<ReplayStream, PersistenceError> {
        match &self.store {
            Store::Postgres { inner, .. } => inner.stream_events::<A>(aggregate_id).await,
            Store::Sqlite { inner, .. } => inner.stream_events::<A>(aggregate_id).await,
        }
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        match &self.store {
            Store::Postgres { inner, .. } => inner.stream_all_events::<A>().await,
            Store::Sqlite { inner, .. } => inner.stream_all_events::<A>().await,
        }
    }
}

/// The event store of one aggregate. Case streams read through the case upcasters (ADR 0016):
/// a stored 1.0 `IntakeOpened` loads as 2.0; what is stored (and hashed) is never changed.
pub fn store<A: Aggregate>(db: &Db) -> PersistedEventStore<LedgerRepository, A> {
    with_upcasters(PersistedEventStore::new_event_store(LedgerRepository::new(db)))
}

/// [`store`], appending through `projector`'s batches when it leads (ADR 0019).
pub fn store_with<A: Aggregate>(
    db: &Db,
    projector: &std::sync::Arc<Projector>,
) -> PersistedEventStore<LedgerRepository, A> {
    with_upcasters(PersistedEventStore::new_event_store(LedgerRepository::with_projector(db, projector.clone())))
}

fn with_upcasters<A: Aggregate>(
    s: PersistedEventStore<LedgerRepository, A>,
) -> PersistedEventStore<LedgerRepository, A> {
    if A::TYPE == domain::case::Case::TYPE {
        s.with_upcasters(domain::case::case_upcasters())
    } else {
        s
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
    pub erasures: Framework<domain::erasure::ErasureRequests>,
    pub figures: Framework<domain::figure::PublishedFigure>,
    pub deadline_rules: Framework<domain::deadline::DeadlineRules>,
    db: Db,
}

/// An aggregate as its own stream leaves it, and the stream's length.
pub struct Loaded<A> {
    pub aggregate: A,
    pub version: usize,
}

impl Frameworks {
    pub fn new(db: &Db, clock: std::sync::Arc<dyn domain::Clock>) -> Frameworks {
        Self::build(db, clock, None)
    }

    /// [`Frameworks::new`], whose commands hand their single events to `projector`'s batches
    /// when it leads in this process (ADR 0019).
    pub fn with_projector(
        db: &Db,
        clock: std::sync::Arc<dyn domain::Clock>,
        projector: &std::sync::Arc<Projector>,
    ) -> Frameworks {
        Self::build(db, clock, Some(projector))
    }

    fn build(
        db: &Db,
        clock: std::sync::Arc<dyn domain::Clock>,
        projector: Option<&std::sync::Arc<Projector>>,
    ) -> Frameworks {
        fn fw<A: Aggregate>(db: &Db, p: Option<&std::sync::Arc<Projector>>, services: A::Services) -> Framework<A> {
            let s = match p {
                Some(p) => store_with::<A>(db, p),
                None => store::<A>(db),
            };
            CqrsFramework::new(s, vec![], services)
        }
        let p = projector;
        Frameworks {
            cases: fw(db, p, domain::case::CaseServices::new(clock.clone())),
            lawyers: fw(db, p, domain::lawyer::LawyerServices { clock }),
            organizations: fw(db, p, ()),
            accounts: fw(db, p, ()),
            catalogue: fw(db, p, ()),
            erasures: fw(db, p, ()),
            figures: fw(db, p, ()),
            deadline_rules: fw(db, p, ()),
            db: db.clone(),
        }
    }

    /// Replays one stream from the event store itself, never from a read model: for rules
    /// that need another aggregate's current state (is the lawyer active, what is their
    /// capacity, does the organisation exist).
    #[tracing::instrument(skip(self), fields(aggregate = A::TYPE))]
    pub async fn load<A: Aggregate>(&self, aggregate_id: &str) -> Result<Loaded<A>, AggregateError<A::Error>> {
        let ctx = store::<A>(&self.db).load_aggregate(aggregate_id).await?;
        Ok(Loaded { aggregate: ctx.aggregate, version: ctx.current_sequence })
    }
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
