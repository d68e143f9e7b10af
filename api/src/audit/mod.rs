//! Tamper evidence: recomputing the hash chains, and signed checkpoints of their heads.
//!
//! Every stream is a chain: `hash = SHA-256(prev_hash ‖ canonical event)` from
//! [`GENESIS`] (see `domain::chain`). [`verify`] walks the stored rows in stream order, one
//! page at a time, and names each link that does not hold. The chain alone cannot show an
//! event removed from the *end* of a stream, nor a stream rewritten by someone who also
//! recomputed every hash; a [`SignedCheckpoint`] — the heads of all streams at one moment,
//! signed with an Ed25519 key kept away from the database — catches both. GraphQL
//! (`verifyAuditTrail`) and the CLI (`probono audit …`) share this module.

use domain::chain::{event_hash, ChainedEvent, GENESIS};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use projections::log::{self, ChainRow, StreamCursor};
use projections::Db;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// Rows read per query: large enough to amortise the round trip, small enough that a
/// walk over millions of events holds only one page in memory.
const PAGE: i64 = 1_000;

/// What a verification covers.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every stream of every aggregate type.
    All,
    /// One stream.
    Stream { aggregate_type: String, aggregate_id: String },
}

/// Why a link of a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The first stored event of the stream is not sequence 1.
    MissingStart { found: i64 },
    /// The first event does not start from the genesis hash.
    NotGenesis,
    /// Sequence numbers jump: events in between are missing.
    Gap { expected: i64, found: i64 },
    /// `prev_hash` is not the stored hash of the event before.
    PrevMismatch,
    /// The stored hash is not the hash of the stored content.
    HashMismatch,
    /// A JSON column cannot be parsed (only possible by editing the row by hand).
    Unreadable { column: &'static str },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingStart { found } if *found < 1 => {
                write!(f, "the stream starts at sequence {found}: sequences start at 1, the row was forged")
            }
            Problem::MissingStart { found } => {
                write!(f, "the stream starts at sequence {found}: events 1 to {} are missing", found - 1)
            }
            Problem::NotGenesis => f.write_str("the first event of the stream does not start from the genesis hash"),
            Problem::Gap { expected, found } if found - expected == 1 => {
                write!(f, "event {expected} of the stream is missing (found {found} after {})", expected - 1)
            }
            Problem::Gap { expected, found } => write!(
                f,
                "events {expected} to {} of the stream are missing (found {found} after {})",
                found - 1,
                expected - 1
            ),
            Problem::PrevMismatch => f.write_str(
                "prev_hash does not match the hash of the event before it: that event was replaced, or this link was forged",
            ),
            Problem::HashMismatch => {
                f.write_str("the stored hash does not match the event's content: the event was altered after it was written")
            }
            Problem::Unreadable { column } => write!(f, "the {column} column is not valid JSON: the row was edited by hand"),
        }
    }
}

/// The first link that does not hold, with the row as stored.
#[derive(Debug, Clone)]
pub struct BrokenLink {
    pub row: ChainRow,
    pub problem: Problem,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stream {}/{}, sequence {} (position {}, {}): {}",
            self.row.aggregate_type,
            self.row.aggregate_id,
            self.row.sequence,
            self.row.position,
            self.row.event_type,
            self.problem
        )
    }
}

/// The last event of a stream: what a checkpoint records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub hash: String,
}

/// How the ledger compared with a checkpoint.
#[derive(Debug, Clone, Default)]
pub struct CheckpointOutcome {
    /// Streams the checkpoint records.
    pub streams: usize,
    /// What does not match, first ones first (at most [`CheckpointOutcome::KEPT`]).
    pub problems: Vec<String>,
    pub problem_count: u64,
}

impl CheckpointOutcome {
    const KEPT: usize = 100;

    fn problem(&mut self, p: String) {
        self.problem_count += 1;
        if self.problems.len() < Self::KEPT {
            self.problems.push(p);
        }
    }
}

/// The result of a verification.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub events: u64,
    pub streams: u64,
    pub broken_links: u64,
    pub first_broken: Option<BrokenLink>,
    /// Every stream's head, when asked for (to write a checkpoint).
    pub heads: Vec<Head>,
    pub checkpoint: Option<CheckpointOutcome>,
}

impl Outcome {
    /// Every chain holds (says nothing about a checkpoint).
    pub fn chains_hold(&self) -> bool {
        self.broken_links == 0
    }

    /// Every chain holds and the checkpoint, if one was given, matches.
    pub fn ok(&self) -> bool {
        self.chains_hold() && !matches!(&self.checkpoint, Some(c) if c.problem_count > 0)
    }
}

/// A checkpointed head, and whether the walk met its stream.
struct Expected {
    sequence: i64,
    hash: String,
    seen: bool,
}

/// The pure part of a verification: fed rows in stream order, one at a time.
pub struct Walker {
    current: Option<(String, String)>,
    next_sequence: i64,
    prev_hash: String,
    last_hash: String,
    collect_heads: bool,
    expected: Option<HashMap<(String, String), Expected>>,
    /// The checkpointed head of the current stream: (sequence, hash, reached).
    current_expected: Option<(i64, String, bool)>,
    outcome: Outcome,
}

impl Walker {
    /// `checkpoint`: heads to compare with; `collect_heads`: keep every stream's head.
    pub fn new(checkpoint: Option<&[Head]>, collect_heads: bool) -> Walker {
        let expected = checkpoint.map(|heads| {
            heads
                .iter()
                .map(|h| {
                    let e = Expected { sequence: h.sequence, hash: h.hash.clone(), seen: false };
                    ((h.aggregate_type.clone(), h.aggregate_id.clone()), e)
                })
                .collect::<HashMap<_, _>>()
        });
        let checkpoint = expected.as_ref().map(|e| CheckpointOutcome { streams: e.len(), ..Default::default() });
        Walker {
            current: None,
            next_sequence: 1,
            prev_hash: GENESIS.to_string(),
            last_hash: String::new(),
            collect_heads,
            expected,
            current_expected: None,
            outcome: Outcome { checkpoint, ..Default::default() },
        }
    }

    /// Checks one row; rows must come ordered by `(aggregate_type, aggregate_id, sequence)`.
    pub fn push(&mut self, row: &ChainRow) {
        let same_stream =
            self.current.as_ref().is_some_and(|(t, i)| *t == row.aggregate_type && *i == row.aggregate_id);
        if !same_stream {
            self.end_stream();
            self.current = Some((row.aggregate_type.clone(), row.aggregate_id.clone()));
            self.outcome.streams += 1;
            self.next_sequence = 1;
            self.prev_hash = GENESIS.to_string();
            // One map look-up per stream, not per row.
            self.current_expected = self.expected.as_mut().and_then(|m| {
                let e = m.get_mut(&(row.aggregate_type.clone(), row.aggregate_id.clone()))?;
                e.seen = true;
                Some((e.sequence, e.hash.clone(), false))
            });
        }
        self.outcome.events += 1;
        if let Some(problem) = self.check(row, !same_stream) {
            self.outcome.broken_links += 1;
            if self.outcome.first_broken.is_none() {
                self.outcome.first_broken = Some(BrokenLink { row: row.clone(), problem });
            }
        }
        self.compare_with_checkpoint(row);
        // Follow the stored links after a break, so one altered event is reported once
        // and the links after it are still judged on their own.
        self.next_sequence = row.sequence + 1;
        self.prev_hash = row.hash.clone();
        self.last_hash = row.hash.clone();
    }

    fn check(&self, row: &ChainRow, first: bool) -> Option<Problem> {
        if first && row.sequence != 1 {
            return Some(Problem::MissingStart { found: row.sequence });
        }
        if first && row.prev_hash != GENESIS {
            return Some(Problem::NotGenesis);
        }
        if !first && row.sequence != self.next_sequence {
            return Some(Problem::Gap { expected: self.next_sequence, found: row.sequence });
        }
        if !first && row.prev_hash != self.prev_hash {
            return Some(Problem::PrevMismatch);
        }
        let Ok(payload) = serde_json::from_str::<Value>(&row.payload) else {
            return Some(Problem::Unreadable { column: "payload" });
        };
        let Ok(metadata) = serde_json::from_str::<Value>(&row.metadata) else {
            return Some(Problem::Unreadable { column: "metadata" });
        };
        let hash = event_hash(
            &row.prev_hash,
            &ChainedEvent {
                aggregate_type: &row.aggregate_type,
                aggregate_id: &row.aggregate_id,
                sequence: row.sequence,
                event_type: &row.event_type,
                event_version: &row.event_version,
                payload: &payload,
                metadata: &metadata,
            },
        );
        (hash != row.hash).then_some(Problem::HashMismatch)
    }

    fn compare_with_checkpoint(&mut self, row: &ChainRow) {
        let Some((sequence, hash, reached)) = self.current_expected.as_mut() else { return };
        if row.sequence != *sequence {
            return;
        }
        *reached = true;
        if row.hash != *hash {
            let p = format!(
                "stream {}/{}: event {} no longer has the checkpointed hash: the stream was rewritten",
                row.aggregate_type, row.aggregate_id, row.sequence
            );
            if let Some(c) = self.outcome.checkpoint.as_mut() {
                c.problem(p);
            }
        }
    }

    fn end_stream(&mut self) {
        let Some((aggregate_type, aggregate_id)) = self.current.take() else { return };
        let last_sequence = self.next_sequence - 1;
        if let Some((sequence, _, false)) = self.current_expected.take() {
            let p = if last_sequence < sequence {
                format!(
                    "stream {aggregate_type}/{aggregate_id}: ends at event {last_sequence}, the checkpoint recorded {sequence}: events were removed from its end"
                )
            } else {
                // Longer than recorded, but the checkpointed event itself is gone (the
                // chain check names the gap as well).
                format!(
                    "stream {aggregate_type}/{aggregate_id}: event {sequence}, recorded in the checkpoint, is missing"
                )
            };
            if let Some(c) = self.outcome.checkpoint.as_mut() {
                c.problem(p);
            }
        }
        if self.collect_heads {
            self.outcome.heads.push(Head {
                aggregate_type,
                aggregate_id,
                sequence: last_sequence,
                hash: std::mem::take(&mut self.last_hash),
            });
        }
    }

    pub fn finish(mut self) -> Outcome {
        self.end_stream();
        if let Some(expected) = self.expected.take() {
            let mut missing: Vec<_> = expected.into_iter().filter(|(_, e)| !e.seen).map(|(k, _)| k).collect();
            missing.sort();
            if let Some(c) = self.outcome.checkpoint.as_mut() {
                for (t, i) in missing {
                    c.problem(format!("stream {t}/{i}: recorded in the checkpoint, no longer in the ledger"));
                }
            }
        }
        self.outcome
    }
}

/// Recomputes the chains in `scope`, page by page.
#[tracing::instrument(skip(db, checkpoint))]
pub async fn verify(
    db: &Db,
    scope: &Scope,
    checkpoint: Option<&[Head]>,
    collect_heads: bool,
) -> projections::Result<Outcome> {
    let mut walker = Walker::new(checkpoint, collect_heads);
    match scope {
        Scope::All => {
            let mut after: Option<StreamCursor> = None;
            loop {
                let page = log::read_streams_page(db, after.as_ref(), PAGE).await?;
                page.iter().for_each(|r| walker.push(r));
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => after = Some(last.cursor()),
                    _ => break,
                }
            }
        }
        Scope::Stream { aggregate_type, aggregate_id } => {
            let mut after = 0;
            loop {
                let page = log::read_stream_page(db, aggregate_type, aggregate_id, after, PAGE).await?;
                page.iter().for_each(|r| walker.push(r));
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => after = last.sequence,
                    _ => break,
                }
            }
        }
    }
    Ok(walker.finish())
}

/// Every stored row of one stream, in sequence order.
pub async fn stream_rows(db: &Db, aggregate_type: &str, aggregate_id: &str) -> projections::Result<Vec<ChainRow>> {
    let mut rows = Vec::new();
    loop {
        let after = rows.last().map(|r: &ChainRow| r.sequence).unwrap_or(0);
        let page = log::read_stream_page(db, aggregate_type, aggregate_id, after, PAGE).await?;
        let full = page.len() as i64 == PAGE;
        rows.extend(page);
        if !full {
            return Ok(rows);
        }
    }
}

// ---------------------------------------------------------------- checkpoints

/// Names the format, and separates these signatures from any other use of the key.
pub const CHECKPOINT_FORMAT: &str = "probono-audit-checkpoint/1";

/// What a checkpoint states: every stream's head at `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub format: String,
    pub created_at: String,
    pub event_count: u64,
    pub stream_count: u64,
    pub streams: Vec<Head>,
}

/// A statement with the key that signed it and the signature (both hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCheckpoint {
    #[serde(flatten)]
    pub statement: Statement,
    pub public_key: String,
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("the checkpoint is not a {CHECKPOINT_FORMAT} statement: {0}")]
    Format(String),
    #[error("the public key is not 64 hexadecimal characters of an Ed25519 key")]
    PublicKey,
    #[error("the checkpoint was signed by key {signed_by}, not by the key given ({expected})")]
    WrongKey { signed_by: String, expected: String },
    #[error("the checkpoint's signature is invalid: the file was altered after it was signed")]
    BadSignature,
}

impl CheckpointError {
    fn file(path: &Path, reason: impl fmt::Display) -> Self {
        CheckpointError::File { path: path.display().to_string(), reason: reason.to_string() }
    }
}

/// The bytes a signature covers: the format tag, then the canonical JSON (sorted keys,
/// no white space; `domain::chain::canonical_json`) of the statement and the public key,
/// so that pretty-printing or re-ordering the file does not invalidate it.
fn signed_bytes(statement: &Statement, public_key: &str) -> Vec<u8> {
    let mut v = serde_json::to_value(statement).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("public_key".into(), Value::String(public_key.to_string()));
    }
    let mut out = format!("{CHECKPOINT_FORMAT}\n").into_bytes();
    out.extend_from_slice(domain::chain::canonical_json(&v).as_bytes());
    out
}

/// Builds the statement of a verification's heads.
pub fn statement(outcome: &Outcome, created_at: String) -> Statement {
    Statement {
        format: CHECKPOINT_FORMAT.to_string(),
        created_at,
        event_count: outcome.events,
        stream_count: outcome.heads.len() as u64,
        streams: outcome.heads.clone(),
    }
}

pub fn sign(statement: Statement, key: &SigningKey) -> SignedCheckpoint {
    let public_key = hex::encode(key.verifying_key().as_bytes());
    let signature = key.sign(&signed_bytes(&statement, &public_key));
    SignedCheckpoint { statement, public_key, signature: hex::encode(signature.to_bytes()) }
}

pub fn parse_public_key(hex_key: &str) -> Result<VerifyingKey, CheckpointError> {
    let bytes: [u8; 32] =
        hex::decode(hex_key.trim()).ok().and_then(|b| b.try_into().ok()).ok_or(CheckpointError::PublicKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| CheckpointError::PublicKey)
}

/// Checks the signature, against `trusted` when given, else against the key the file
/// names (which proves only that the file is intact, not who signed it).
pub fn check_signature(cp: &SignedCheckpoint, trusted: Option<&VerifyingKey>) -> Result<(), CheckpointError> {
    if cp.statement.format != CHECKPOINT_FORMAT {
        return Err(CheckpointError::Format(format!("unknown format {:?}", cp.statement.format)));
    }
    let embedded = parse_public_key(&cp.public_key)?;
    if let Some(t) = trusted {
        if t != &embedded {
            return Err(CheckpointError::WrongKey {
                signed_by: cp.public_key.clone(),
                expected: hex::encode(t.as_bytes()),
            });
        }
    }
    let sig: [u8; 64] =
        hex::decode(&cp.signature).ok().and_then(|b| b.try_into().ok()).ok_or(CheckpointError::BadSignature)?;
    embedded
        .verify(&signed_bytes(&cp.statement, &cp.public_key), &Signature::from_bytes(&sig))
        .map_err(|_| CheckpointError::BadSignature)
}

pub fn read_checkpoint(path: &Path) -> Result<SignedCheckpoint, CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|e| CheckpointError::file(path, e))?;
    serde_json::from_str(&text).map_err(|e| CheckpointError::Format(e.to_string()))
}

/// Writes `content` to a new file (never over an existing one) readable only by its owner.
pub fn write_new_private(path: &Path, content: &str) -> Result<(), CheckpointError> {
    crate::privacy::crypto::write_private(path, content).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CheckpointError::file(path, "already exists, and is never overwritten"),
        _ => CheckpointError::file(path, e),
    })
}

/// A new random signing key.
pub fn generate_key() -> SigningKey {
    use rand::RngCore;
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

/// Reads a signing key file (64 hexadecimal characters: the Ed25519 secret seed).
pub fn read_signing_key(path: &Path) -> Result<SigningKey, CheckpointError> {
    let text = std::fs::read_to_string(path).map_err(|e| CheckpointError::file(path, e))?;
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| CheckpointError::file(path, "expected 64 hexadecimal characters (an Ed25519 secret key)"))?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A correctly chained stream of `n` events.
    fn stream(t: &str, id: &str, n: i64) -> Vec<ChainRow> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let payload = json!({"E": {"n": seq}});
                let metadata = json!({"actor_id": "a"});
                let hash = event_hash(
                    &prev,
                    &ChainedEvent {
                        aggregate_type: t,
                        aggregate_id: id,
                        sequence: seq,
                        event_type: "E",
                        event_version: "1.0",
                        payload: &payload,
                        metadata: &metadata,
                    },
                );
                ChainRow {
                    position: seq,
                    aggregate_type: t.into(),
                    aggregate_id: id.into(),
                    sequence: seq,
                    event_type: "E".into(),
                    event_version: "1.0".into(),
                    // Stored text need not be canonical: jsonb re-spaces it.
                    payload: serde_json::to_string_pretty(&payload).unwrap(),
                    metadata: metadata.to_string(),
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                    recorded_at: String::new(),
                }
            })
            .collect()
    }

    fn walk(rows: &[ChainRow], checkpoint: Option<&[Head]>) -> Outcome {
        let mut w = Walker::new(checkpoint, true);
        rows.iter().for_each(|r| w.push(r));
        w.finish()
    }

    fn ledger() -> Vec<ChainRow> {
        [stream("Case", "a", 4), stream("Case", "b", 3)].concat()
    }

    #[test]
    fn intact_chains_hold_and_report_their_heads() {
        let o = walk(&ledger(), None);
        assert!(o.ok());
        assert_eq!((o.events, o.streams, o.broken_links), (7, 2, 0));
        assert_eq!(o.heads.len(), 2);
        assert_eq!(o.heads[0].sequence, 4);
        assert_eq!(o.heads[1].hash, ledger()[6].hash);
    }

    #[test]
    fn an_altered_payload_is_named_at_that_event_only() {
        let mut rows = ledger();
        rows[1].payload = r#"{"E": {"n": 99}}"#.into();
        let o = walk(&rows, None);
        assert_eq!(o.broken_links, 1);
        let b = o.first_broken.unwrap();
        assert_eq!((b.row.sequence, b.problem), (2, Problem::HashMismatch));
    }

    #[test]
    fn each_kind_of_break_is_named() {
        let mut gap = ledger();
        gap.remove(1);
        assert_eq!(walk(&gap, None).first_broken.unwrap().problem, Problem::Gap { expected: 2, found: 3 });

        let mut start = ledger();
        start.remove(0);
        assert_eq!(walk(&start, None).first_broken.unwrap().problem, Problem::MissingStart { found: 2 });

        let mut genesis = stream("Case", "a", 2);
        genesis[0].prev_hash = "f".repeat(64);
        assert_eq!(walk(&genesis, None).first_broken.unwrap().problem, Problem::NotGenesis);

        // A recomputed hash for an altered event moves the break to the next link.
        let mut relinked = stream("Case", "a", 3);
        relinked[1].hash = "e".repeat(64);
        let b = walk(&relinked, None).first_broken.unwrap();
        assert_eq!((b.row.sequence, b.problem), (2, Problem::HashMismatch));
        let o = walk(&relinked, None);
        assert_eq!(o.broken_links, 2, "event 3 no longer links to event 2's stored hash");

        let mut garbled = stream("Case", "a", 2);
        garbled[1].metadata = "{not json".into();
        assert_eq!(walk(&garbled, None).first_broken.unwrap().problem, Problem::Unreadable { column: "metadata" });
    }

    #[test]
    fn a_checkpoint_catches_what_the_chain_cannot() {
        let heads = walk(&ledger(), None).heads;
        assert!(walk(&ledger(), Some(&heads)).ok());

        // Later events are fine: the checkpoint binds a prefix.
        let grown = [stream("Case", "a", 6), stream("Case", "b", 3), stream("Case", "c", 1)].concat();
        assert!(walk(&grown, Some(&heads)).ok());

        let truncated = [stream("Case", "a", 3), stream("Case", "b", 3)].concat();
        let o = walk(&truncated, Some(&heads));
        assert!(o.chains_hold() && !o.ok());
        assert!(o.checkpoint.unwrap().problems[0].contains("ends at event 3, the checkpoint recorded 4"));

        // Grown past the checkpoint, but the checkpointed event itself removed.
        let mut holed = stream("Case", "a", 5);
        holed.remove(3);
        let o = walk(&[holed, stream("Case", "b", 3)].concat(), Some(&heads));
        assert!(!o.chains_hold());
        assert!(o.checkpoint.unwrap().problems[0].contains("Case/a: event 4, recorded in the checkpoint, is missing"));

        let deleted = stream("Case", "a", 4);
        let o = walk(&deleted, Some(&heads));
        assert!(o.checkpoint.unwrap().problems[0].contains("Case/b: recorded in the checkpoint, no longer"));

        // Rewritten with valid hashes: the chain holds, the head does not match.
        let mut rewritten = stream("Case", "b", 3);
        let mut prev = GENESIS.to_string();
        for r in rewritten.iter_mut() {
            r.payload = json!({"E": {"n": 0}}).to_string();
            r.prev_hash = prev.clone();
            let p: Value = serde_json::from_str(&r.payload).unwrap();
            let m: Value = serde_json::from_str(&r.metadata).unwrap();
            r.hash = event_hash(
                &prev,
                &ChainedEvent {
                    aggregate_type: "Case",
                    aggregate_id: "b",
                    sequence: r.sequence,
                    event_type: "E",
                    event_version: "1.0",
                    payload: &p,
                    metadata: &m,
                },
            );
            prev = r.hash.clone();
        }
        let o = walk(&[stream("Case", "a", 4), rewritten].concat(), Some(&heads));
        assert!(o.chains_hold());
        assert!(o.checkpoint.unwrap().problems[0].contains("Case/b: event 3 no longer has the checkpointed hash"));
    }

    #[test]
    fn signatures_bind_the_statement_and_the_key() {
        let key = generate_key();
        let o = walk(&ledger(), None);
        let cp = sign(statement(&o, "2024-01-01T00:00:00Z".into()), &key);
        check_signature(&cp, None).unwrap();
        check_signature(&cp, Some(&key.verifying_key())).unwrap();

        // Survives a pretty-printed round trip through a file.
        let text = serde_json::to_string_pretty(&cp).unwrap();
        let back: SignedCheckpoint = serde_json::from_str(&text).unwrap();
        check_signature(&back, None).unwrap();

        let mut altered = cp.clone();
        altered.statement.streams[0].sequence = 3;
        assert!(matches!(check_signature(&altered, None), Err(CheckpointError::BadSignature)));

        let other = generate_key();
        assert!(matches!(check_signature(&cp, Some(&other.verifying_key())), Err(CheckpointError::WrongKey { .. })));
        // Re-signed by someone else with their key embedded: intact, but not ours.
        let forged = sign(altered.statement, &other);
        check_signature(&forged, None).unwrap();
        assert!(check_signature(&forged, Some(&key.verifying_key())).is_err());
    }
}
