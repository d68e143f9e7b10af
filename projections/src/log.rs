//! Reading the global event log in an order a catch-up reader can trust.
//!
//! PostgreSQL: events are ordered by `(transaction_id, position)` and read only below
//! `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running, so an
//! event whose transaction commits late is never skipped (it is simply not visible to the
//! reader yet). SQLite: one writer at a time, so `position` (the rowid) is commit order.

use crate::db::{Db, Tx};
use crate::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

/// Keys of the metadata written with every event.
pub mod meta {
    pub const ACTOR_ID: &str = "actor_id";
    pub const ACTOR_ROLE: &str = "actor_role";
    pub const ACTOR_ORGANIZATION: &str = "actor_organization_id";
    pub const CORRELATION_ID: &str = "correlation_id";
    /// The `x-request-id` the client sent, kept apart from the server's own correlation id.
    pub const CLIENT_REQUEST_ID: &str = "client_request_id";
    pub const RECORDED_AT: &str = "recorded_at";
}

/// A place in the global log. `tx` is the PostgreSQL transaction id (0 on SQLite).
/// Ordered by the pair, never by the position alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Position {
    pub tx: i64,
    pub pos: i64,
}

impl Position {
    pub const START: Position = Position { tx: 0, pos: 0 };
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.tx, self.pos)
    }
}

/// An event as stored, with its place in the log and its chain fields.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub position: Position,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub prev_hash: String,
    pub hash: String,
    pub recorded_at: String,
}

impl StoredEvent {
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).and_then(Value::as_str)
    }
}

pub(crate) const PG_COLUMNS: &str =
    "position, transaction_id::text::bigint AS tx, aggregate_type, aggregate_id, sequence, \
    event_type, event_version, payload, metadata, prev_hash, hash, \
    to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS recorded_at";
const SQLITE_COLUMNS: &str = "position, 0 AS tx, aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload, metadata, prev_hash, hash, recorded_at";

pub(crate) fn pg_event(r: &sqlx::postgres::PgRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        position: Position { tx: r.try_get("tx")?, pos: r.try_get("position")? },
        aggregate_type: r.try_get("aggregate_type")?,
        aggregate_id: r.try_get("aggregate_id")?,
        sequence: r.try_get("sequence")?,
        event_type: r.try_get("event_type")?,
        event_version: r.try_get("event_version")?,
        payload: r.try_get("payload")?,
        metadata: r.try_get("metadata")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

fn sqlite_event(r: &sqlx::sqlite::SqliteRow) -> Result<StoredEvent> {
    let position: i64 = r.try_get("position")?;
    let event_type: String = r.try_get("event_type")?;
    let parse = |col: &str| -> Result<Value> {
        let text: String = r.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| crate::Error::UnreadableEvent {
            position,
            event_type: event_type.clone(),
            reason: format!("{col} is not JSON: {e}"),
        })
    };
    Ok(StoredEvent {
        position: Position { tx: 0, pos: position },
        aggregate_type: r.try_get("aggregate_type")?,
        aggregate_id: r.try_get("aggregate_id")?,
        sequence: r.try_get("sequence")?,
        event_version: r.try_get("event_version")?,
        payload: parse("payload")?,
        metadata: parse("metadata")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
        recorded_at: r.try_get("recorded_at")?,
        event_type,
    })
}

/// Up to `limit` events after `after`, in log order, inside the caller's transaction.
pub async fn read_after(tx: &mut Tx, after: Position, limit: i64) -> Result<Vec<StoredEvent>> {
    match tx {
        Tx::Postgres(c) => {
            let sql = format!(
                "SELECT {PG_COLUMNS} FROM events \
                 WHERE (transaction_id, position) > ($1::text::xid8, $2) \
                   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY transaction_id, position LIMIT $3"
            );
            let rows =
                sqlx::query(&sql).bind(after.tx.to_string()).bind(after.pos).bind(limit).fetch_all(&mut **c).await?;
            rows.iter().map(pg_event).collect()
        }
        Tx::Sqlite(c) => {
            let sql = format!("SELECT {SQLITE_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2");
            let rows = sqlx::query(&sql).bind(after.pos).bind(limit).fetch_all(&mut **c).await?;
            rows.iter().map(sqlite_event).collect()
        }
    }
}

/// [`read_after`] for the live projector's batch, which may have appended events itself
/// (ADR 0019). On PostgreSQL its own events are read too when no older transaction is still
/// open (its own transaction id is the snapshot's xmin): every event before them is then
/// committed and visible, so the checkpoint can pass them. Otherwise they wait for a later
/// batch, like anyone else's. On SQLite the transaction sees its own inserts.
pub async fn read_after_in_batch(tx: &mut Tx, after: Position, limit: i64) -> Result<Vec<StoredEvent>> {
    match tx {
        Tx::Postgres(c) => {
            let sql = format!(
                "SELECT {PG_COLUMNS} FROM events \
                 WHERE (transaction_id, position) > ($1::text::xid8, $2) \
                   AND (transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                        OR (transaction_id = pg_current_xact_id_if_assigned() \
                            AND pg_current_xact_id_if_assigned() = pg_snapshot_xmin(pg_current_snapshot()))) \
                 ORDER BY transaction_id, position LIMIT $3"
            );
            let rows =
                sqlx::query(&sql).bind(after.tx.to_string()).bind(after.pos).bind(limit).fetch_all(&mut **c).await?;
            rows.iter().map(pg_event).collect()
        }
        Tx::Sqlite(_) => read_after(tx, after, limit).await,
    }
}

/// Every event of one stream, in sequence order.
pub async fn read_stream(db: &Db, aggregate_type: &str, aggregate_id: &str) -> Result<Vec<StoredEvent>> {
    match db {
        Db::Postgres(p) => {
            let sql = format!(
                "SELECT {PG_COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
            );
            let rows = sqlx::query(&sql).bind(aggregate_type).bind(aggregate_id).fetch_all(p).await?;
            rows.iter().map(pg_event).collect()
        }
        Db::Sqlite(p) => {
            let sql = format!(
                "SELECT {SQLITE_COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence"
            );
            let rows = sqlx::query(&sql).bind(aggregate_type).bind(aggregate_id).fetch_all(p).await?;
            rows.iter().map(sqlite_event).collect()
        }
    }
}

/// The position of the newest event a reader may see now (`START` when the log is empty).
pub async fn visible_head(db: &Db) -> Result<Position> {
    let p = match db {
        Db::Postgres(p) => {
            let row = sqlx::query(
                "SELECT transaction_id::text::bigint AS tx, position FROM events \
                 WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY transaction_id DESC, position DESC LIMIT 1",
            )
            .fetch_optional(p)
            .await?;
            row.map(|r| Ok::<_, crate::Error>(Position { tx: r.try_get("tx")?, pos: r.try_get("position")? }))
                .transpose()?
        }
        Db::Sqlite(p) => {
            let row = sqlx::query("SELECT max(position) AS position FROM events").fetch_one(p).await?;
            row.try_get::<Option<i64>, _>("position")?.map(|pos| Position { tx: 0, pos })
        }
    };
    Ok(p.unwrap_or(Position::START))
}

/// Counts events (for status pages and tests).
pub async fn count(db: &Db) -> Result<i64> {
    let n: i64 = crate::on_db!(db, p => sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(p).await?);
    Ok(n)
}

/// Events in the log after `after`: the projection lag in events.
pub async fn count_after(db: &Db, after: Position) -> Result<i64> {
    let n: i64 = match db {
        Db::Postgres(p) => {
            sqlx::query_scalar("SELECT count(*) FROM events WHERE (transaction_id, position) > ($1::text::xid8, $2)")
                .bind(after.tx.to_string())
                .bind(after.pos)
                .fetch_one(p)
                .await?
        }
        Db::Sqlite(p) => {
            sqlx::query_scalar("SELECT count(*) FROM events WHERE position > $1").bind(after.pos).fetch_one(p).await?
        }
    };
    Ok(n)
}

/// An event row exactly as stored, for checking the hash chain. The JSON columns stay
/// text (PostgreSQL renders its jsonb) so that a row whose JSON was damaged is reported as
/// a broken link by the verifier instead of failing the read.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainRow {
    /// The `position` column: unique, but not the log order on PostgreSQL (see [`Position`]).
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
    pub metadata: String,
    pub prev_hash: String,
    pub hash: String,
    pub recorded_at: String,
}

/// Where a walk over the streams stopped: the last row read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCursor {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
}

impl ChainRow {
    pub fn cursor(&self) -> StreamCursor {
        StreamCursor {
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
        }
    }
}

const PG_CHAIN_COLUMNS: &str = "position, aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload::text AS payload, metadata::text AS metadata, prev_hash, hash, \
    to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS recorded_at";
const SQLITE_CHAIN_COLUMNS: &str = "position, aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload, metadata, prev_hash, hash, recorded_at";

fn chain_columns(db: &Db) -> &'static str {
    match db {
        Db::Postgres(_) => PG_CHAIN_COLUMNS,
        Db::Sqlite(_) => SQLITE_CHAIN_COLUMNS,
    }
}

/// Decodes a [`ChainRow`] from a row of either driver (the same column names on both).
macro_rules! chain_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<_, crate::Error>(ChainRow {
            position: r.try_get("position")?,
            aggregate_type: r.try_get("aggregate_type")?,
            aggregate_id: r.try_get("aggregate_id")?,
            sequence: r.try_get("sequence")?,
            event_type: r.try_get("event_type")?,
            event_version: r.try_get("event_version")?,
            payload: r.try_get("payload")?,
            metadata: r.try_get("metadata")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
            recorded_at: r.try_get("recorded_at")?,
        })
    }};
}

/// Up to `limit` rows of every stream, ordered by `(aggregate_type, aggregate_id,
/// sequence)`, after `after` (from the start when `None`). Keyset paging on the stream
/// key (the primary key on PostgreSQL, a unique index on SQLite), so a walk over millions
/// of events holds one page in memory and each page is an index range scan.
pub async fn read_streams_page(db: &Db, after: Option<&StreamCursor>, limit: i64) -> Result<Vec<ChainRow>> {
    let cols = chain_columns(db);
    const ORDER: &str = "ORDER BY aggregate_type, aggregate_id, sequence";
    match after {
        None => {
            let sql = format!("SELECT {cols} FROM events {ORDER} LIMIT $1");
            crate::on_db!(db, p => sqlx::query(&sql).bind(limit).fetch_all(p).await?.iter().map(|r| chain_row!(r)).collect())
        }
        Some(c) => {
            let sql = format!(
                "SELECT {cols} FROM events WHERE (aggregate_type, aggregate_id, sequence) > ($1, $2, $3) {ORDER} LIMIT $4"
            );
            crate::on_db!(db, p => sqlx::query(&sql)
                .bind(&c.aggregate_type)
                .bind(&c.aggregate_id)
                .bind(c.sequence)
                .bind(limit)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| chain_row!(r))
                .collect())
        }
    }
}

/// Up to `limit` rows of one stream with a sequence above `after_sequence`, in sequence order.
pub async fn read_stream_page(
    db: &Db,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<ChainRow>> {
    let sql = format!(
        "SELECT {} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 \
         ORDER BY sequence LIMIT $4",
        chain_columns(db)
    );
    crate::on_db!(db, p => sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .bind(limit)
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| chain_row!(r))
        .collect())
}

/// The newest `limit` events whose metadata names `actor_id` as the account that recorded
/// them, newest first: an account's activity, for oversight. Scans the log (no index on
/// the metadata); the oversight screens ask for a page at a time.
pub async fn read_actor_rows(db: &Db, actor_id: &str, limit: i64) -> Result<Vec<ChainRow>> {
    let actor = match db {
        Db::Postgres(_) => "metadata->>'actor_id'",
        Db::Sqlite(_) => "json_extract(metadata, '$.actor_id')",
    };
    let sql = format!("SELECT {} FROM events WHERE {actor} = $1 ORDER BY position DESC LIMIT $2", chain_columns(db));
    crate::on_db!(db, p => sqlx::query(&sql)
        .bind(actor_id)
        .bind(limit)
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| chain_row!(r))
        .collect())
}

/// The newest event in the log, visible to readers or not (no snapshot filter).
pub async fn committed_head(db: &Db) -> Result<Position> {
    let p = match db {
        Db::Postgres(p) => {
            let row = sqlx::query(
                "SELECT transaction_id::text::bigint AS tx, position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
            )
            .fetch_optional(p)
            .await?;
            row.map(|r| Ok::<_, crate::Error>(Position { tx: r.try_get("tx")?, pos: r.try_get("position")? }))
                .transpose()?
        }
        Db::Sqlite(_) => Some(visible_head(db).await?),
    };
    Ok(p.unwrap_or(Position::START))
}

// ---------------------------------------------------------------- replay (the rebuild)

/// What the rebuild reads of each event: its place, stream, type and version, the payload
/// as stored (JSON text, decoded once, straight into the event type) and, for every
/// aggregate but cases (whose read models never show it), when it was recorded. Neither the
/// metadata nor the chain fields: folding never reads them (`audit verify` checks the chain).
fn replay_columns(db: &Db) -> String {
    let case = <domain::case::Case as cqrs_es::Aggregate>::TYPE;
    match db {
        Db::Postgres(_) => format!(
            "position, transaction_id::text::bigint AS tx, aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, CASE WHEN aggregate_type = '{case}' THEN NULL \
             ELSE to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') END AS recorded_at"
        ),
        Db::Sqlite(_) => format!(
            "position, 0 AS tx, aggregate_type, aggregate_id, sequence, event_type, event_version, payload, \
             CASE WHEN aggregate_type = '{case}' THEN NULL ELSE recorded_at END AS recorded_at"
        ),
    }
}

/// A page of the log as the driver returned it, for the rebuild: decoded on another thread
/// ([`ReplayPage::events`]) while the next page is read.
pub enum ReplayPage {
    Postgres(Vec<sqlx::postgres::PgRow>),
    Sqlite(Vec<sqlx::sqlite::SqliteRow>),
}

/// One replay row of either driver as a [`StoredEvent`] and its payload's JSON text.
macro_rules! replay_row {
    ($r:expr, $payload:expr) => {{
        let r = $r;
        let position: i64 = r.try_get(0)?;
        let event_type: &str = r.try_get(5)?;
        let recorded_at: Option<&str> = r.try_get(8)?;
        let ev = StoredEvent {
            position: Position { tx: r.try_get(1)?, pos: position },
            aggregate_type: r.try_get::<&str, _>(2)?.to_owned(),
            aggregate_id: r.try_get::<&str, _>(3)?.to_owned(),
            sequence: r.try_get(4)?,
            event_type: event_type.to_owned(),
            event_version: r.try_get::<&str, _>(6)?.to_owned(),
            payload: Value::Null,
            metadata: Value::Null,
            prev_hash: String::new(),
            hash: String::new(),
            recorded_at: recorded_at.unwrap_or_default().to_owned(),
        };
        let payload: &[u8] = $payload(r, &ev)?;
        (ev, payload)
    }};
}

impl ReplayPage {
    pub fn len(&self) -> usize {
        match self {
            ReplayPage::Postgres(r) => r.len(),
            ReplayPage::Sqlite(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The place of the page's last event: where the next page starts.
    pub fn last(&self) -> Result<Option<Position>> {
        Ok(match self {
            ReplayPage::Postgres(rows) => rows
                .last()
                .map(|r| Ok::<_, sqlx::Error>(Position { tx: r.try_get(1)?, pos: r.try_get(0)? }))
                .transpose()?,
            ReplayPage::Sqlite(rows) => {
                rows.last().map(|r| Ok::<_, sqlx::Error>(Position { tx: 0, pos: r.try_get(0)? })).transpose()?
            }
        })
    }

    /// Calls `f` with each event, in log order, and its payload's JSON text. The event
    /// carries no payload, metadata or chain fields (see [`replay_page`]); `recorded_at`
    /// is empty for case events.
    pub fn events(&self, mut f: impl FnMut(StoredEvent, &[u8]) -> Result<()>) -> Result<()> {
        match self {
            ReplayPage::Postgres(rows) => {
                for r in rows {
                    let (ev, payload) = replay_row!(r, pg_payload);
                    f(ev, payload)?;
                }
            }
            ReplayPage::Sqlite(rows) => {
                for r in rows {
                    let (ev, payload) = replay_row!(r, sqlite_payload);
                    f(ev, payload)?;
                }
            }
        }
        Ok(())
    }
}

/// The JSON text of a `jsonb` payload: PostgreSQL sends `jsonb` in binary as a format
/// version byte (1) followed by the text.
fn pg_payload<'r>(r: &'r sqlx::postgres::PgRow, ev: &StoredEvent) -> Result<&'r [u8]> {
    use sqlx::postgres::PgValueFormat;
    let v = r.try_get_raw(7)?;
    let bytes = v.as_bytes().map_err(|e| unreadable_payload(ev, e.to_string()))?;
    match (v.format(), bytes.split_first()) {
        (PgValueFormat::Text, _) => Ok(bytes),
        (PgValueFormat::Binary, Some((1, text))) => Ok(text),
        _ => Err(unreadable_payload(ev, "unknown jsonb format version".into())),
    }
}

fn sqlite_payload<'r>(r: &'r sqlx::sqlite::SqliteRow, _: &StoredEvent) -> Result<&'r [u8]> {
    Ok(r.try_get::<&str, _>(7)?.as_bytes())
}

fn unreadable_payload(ev: &StoredEvent, reason: String) -> crate::Error {
    crate::Error::UnreadableEvent {
        position: ev.position.pos,
        event_type: ev.event_type.clone(),
        reason: format!("payload: {reason}"),
    }
}

/// Up to `limit` events after `after`, in log order, for the rebuild (see [`ReplayPage`]);
/// the same order and visibility as [`read_after`]. Any connection of the pool will do:
/// the events it reads are committed.
pub async fn replay_page(db: &Db, after: Position, limit: i64) -> Result<ReplayPage> {
    Ok(match db {
        Db::Postgres(p) => {
            let sql = format!(
                "SELECT {} FROM events \
                 WHERE (transaction_id, position) > ($1::text::xid8, $2) \
                   AND transaction_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY transaction_id, position LIMIT $3",
                replay_columns(db)
            );
            ReplayPage::Postgres(
                sqlx::query(&sql).bind(after.tx.to_string()).bind(after.pos).bind(limit).fetch_all(p).await?,
            )
        }
        Db::Sqlite(p) => {
            let sql =
                format!("SELECT {} FROM events WHERE position > $1 ORDER BY position LIMIT $2", replay_columns(db));
            ReplayPage::Sqlite(sqlx::query(&sql).bind(after.pos).bind(limit).fetch_all(p).await?)
        }
    })
}
