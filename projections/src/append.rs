//! Appends that commit in the projector's own transaction: the group commit of the command
//! path (ADR 0019).
//!
//! A command whose single event follows a stream head this process knows hands the event,
//! with its hash-chain link already computed, to the leading projector instead of writing it
//! itself. The projector's next batch inserts every event handed to it — each guarded by
//! the stored row it follows, as the command's own single-statement append is — then folds
//! them with whatever else the log holds after its checkpoint, and commits events, read
//! models and checkpoint together: one transaction answers every command that arrived
//! meanwhile, and each of them finds its events already projected.

use crate::db::Tx;
use crate::log::Position;
use crate::Result;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::Row;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// One event to append after a known head of its stream. `prev_hash` and `hash` are its
/// chain link; the insert happens only if the stream's row `sequence − 1` has the hash
/// `prev_hash` and `sequence` is free.
#[derive(Debug, Clone)]
pub struct Append {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// What became of an append handed to the projector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// Committed at this position.
    Written(Position),
    /// Not inserted: the stored head is not the one the link was computed from, or another
    /// writer took the sequence. Nothing was written; the caller's careful path (which reads
    /// the head) tells a conflict from a stale head.
    Refused,
    /// Not attempted, or rolled back with a batch that failed before its commit (no leading
    /// projector loop here, or the database failed): the caller appends by itself.
    NotQueued,
    /// The batch's commit failed: whether the event was written is not known.
    Unknown,
}

/// An append waiting for the projector's next batch.
pub(crate) struct Queued {
    pub ev: Append,
    pub reply: oneshot::Sender<Appended>,
}

/// The appends handed to the projector. Open only while a projector loop leads here;
/// closing it answers everything queued with [`Appended::NotQueued`].
#[derive(Default)]
pub(crate) struct Queue {
    inner: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    open: bool,
    items: Vec<Queued>,
}

impl Queue {
    /// Queues `ev`; `None` when the queue is closed.
    pub fn push(&self, ev: Append) -> Option<oneshot::Receiver<Appended>> {
        let mut q = self.inner.lock().ok()?;
        if !q.open {
            return None;
        }
        let (reply, rx) = oneshot::channel();
        q.items.push(Queued { ev, reply });
        Some(rx)
    }

    /// Takes up to `max` queued appends, oldest first.
    pub fn take(&self, max: usize) -> Vec<Queued> {
        let Ok(mut q) = self.inner.lock() else { return vec![] };
        let n = q.items.len().min(max);
        q.items.drain(..n).collect()
    }

    pub fn set_open(&self, open: bool) {
        let drained = match self.inner.lock() {
            Ok(mut q) => {
                q.open = open;
                if open {
                    vec![]
                } else {
                    std::mem::take(&mut q.items)
                }
            }
            Err(_) => vec![],
        };
        for q in drained {
            let _ = q.reply.send(Appended::NotQueued);
        }
    }
}

/// The answers owed to a batch's appends. Dropped before [`Replies::answer`] (an error
/// or a lost checkpoint race before the commit, which rolls the appends back) it answers
/// [`Appended::NotQueued`]; during the commit, [`Appended::Unknown`].
pub(crate) struct Replies {
    pending: Vec<oneshot::Sender<Appended>>,
    pub committing: bool,
}

impl Replies {
    pub fn new(pending: Vec<oneshot::Sender<Appended>>) -> Replies {
        Replies { pending, committing: false }
    }

    /// Answers each append with its outcome, in the order they were queued.
    pub fn answer(mut self, outcomes: Vec<Appended>) {
        for (reply, outcome) in self.pending.drain(..).zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

impl Drop for Replies {
    fn drop(&mut self) {
        let outcome = if self.committing { Appended::Unknown } else { Appended::NotQueued };
        for reply in self.pending.drain(..) {
            let _ = reply.send(outcome);
        }
    }
}

/// PostgreSQL: every append in one statement of fixed text (one array per column), each row
/// guarded by the row it follows; rows that fail their guard or find their sequence taken
/// are skipped, not errors, so one command's conflict never fails the others'.
const PG_INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
     SELECT u.t, u.i, u.s, u.et, u.ev, u.p, u.m, u.ph, u.h \
     FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[], $9::text[]) \
          WITH ORDINALITY AS u(t, i, s, et, ev, p, m, ph, h, n) \
     WHERE EXISTS (SELECT 1 FROM events e WHERE e.aggregate_type = u.t AND e.aggregate_id = u.i \
                   AND e.sequence = u.s - 1 AND e.hash = u.ph) \
     ORDER BY u.n \
     ON CONFLICT DO NOTHING \
     RETURNING aggregate_type, aggregate_id, sequence, transaction_id::text::bigint AS tx, position";

/// SQLite: one guarded statement per append (statements run in process).
const SQLITE_INSERT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, prev_hash, hash) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 \
     WHERE EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3 - 1 AND hash = $8) \
     ON CONFLICT DO NOTHING RETURNING position";

/// Inserts `evs` inside the batch's transaction; one outcome per append, in order.
pub(crate) async fn insert(tx: &mut Tx, evs: &[&Append]) -> Result<Vec<Appended>> {
    let mut out = vec![Appended::Refused; evs.len()];
    match tx {
        Tx::Postgres(c) => {
            let rows = sqlx::query(PG_INSERT)
                .bind(evs.iter().map(|e| e.aggregate_type.as_str()).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.aggregate_id.as_str()).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.sequence).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.event_version.as_str()).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| Json(&e.payload)).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| Json(&e.metadata)).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.prev_hash.as_str()).collect::<Vec<_>>())
                .bind(evs.iter().map(|e| e.hash.as_str()).collect::<Vec<_>>())
                .fetch_all(&mut **c)
                .await?;
            for r in rows {
                let (t, i, s): (String, String, i64) =
                    (r.try_get("aggregate_type")?, r.try_get("aggregate_id")?, r.try_get("sequence")?);
                let pos = Position { tx: r.try_get("tx")?, pos: r.try_get("position")? };
                // At most one row per stream and sequence was inserted: the first that asked.
                if let Some(k) = evs.iter().zip(&out).position(|(e, o)| {
                    *o == Appended::Refused && e.sequence == s && e.aggregate_id == i && e.aggregate_type == t
                }) {
                    out[k] = Appended::Written(pos);
                }
            }
        }
        Tx::Sqlite(c) => {
            for (k, e) in evs.iter().enumerate() {
                let row = sqlx::query(SQLITE_INSERT)
                    .bind(&e.aggregate_type)
                    .bind(&e.aggregate_id)
                    .bind(e.sequence)
                    .bind(&e.event_type)
                    .bind(&e.event_version)
                    .bind(e.payload.to_string())
                    .bind(e.metadata.to_string())
                    .bind(&e.prev_hash)
                    .bind(&e.hash)
                    .fetch_optional(&mut **c)
                    .await?;
                if let Some(r) = row {
                    out[k] = Appended::Written(Position { tx: 0, pos: r.try_get("position")? });
                }
            }
        }
    }
    Ok(out)
}
