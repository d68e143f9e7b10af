//! Oversight of the record itself: a case's audit trail and timeline (read from the event
//! store, so an auditor sees exactly the rows the hash chain covers) and the verification
//! of the hash chains.

use super::{App, Caller};
use crate::access::Op;
use crate::audit::{self, Scope};
use crate::error::ApiError;
use domain::values::Role;
use projections::log::{meta, ChainRow};
use projections::model::timeline::{self, LawyerNames};
use projections::model::CaseView;
use projections::{store, Db};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

/// The stream type of cases.
const CASE: &str = <domain::case::Case as cqrs_es::Aggregate>::TYPE;

/// Who recorded an event.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub account_id: String,
    /// The account's name; `system` for the command-line operator.
    pub name: String,
    /// The role the event's metadata recorded (`None` if the label is not a role).
    pub role: Option<Role>,
}

/// One stored event with its place in the hash chain, for people to read.
#[derive(Debug, Clone)]
pub struct Entry {
    pub row: ChainRow,
    /// The time in the event's hashed metadata (the column's when there is none).
    pub recorded_at: String,
    pub actor: Option<Recorder>,
    pub correlation_id: Option<String>,
    /// What happened, in one line. Never client identity or free text.
    pub summary: String,
}

/// The result of recomputing hash chains.
#[derive(Debug, Clone)]
pub struct Verification {
    pub ok: bool,
    pub checked_events: u64,
    pub checked_streams: u64,
    pub broken_links: u64,
    pub first_broken_at: Option<Entry>,
    pub reason: Option<String>,
}

/// The account names of the actors, looked up once each.
async fn actor_names(db: &Db, ids: impl Iterator<Item = String>) -> Res<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        // The metadata's actor id is whatever the event recorded: not always a UUID.
        let name = match Uuid::parse_str(&id).ok() {
            Some(u) if u.is_nil() => "system".to_string(),
            Some(u) => match store::account_by_id(db, u).await? {
                Some(a) => a.name,
                None => "unknown account".to_string(),
            },
            None => "unknown account".to_string(),
        };
        names.insert(id, name);
    }
    Ok(names)
}

/// Presents stored rows as entries.
async fn entries(db: &Db, rows: Vec<ChainRow>) -> Res<Vec<Entry>> {
    // A row altered by hand may hold anything: unreadable JSON is shown as empty, so the
    // entry still appears (its hash will not verify).
    let parsed: Vec<(Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                serde_json::from_str(&r.payload).unwrap_or(Value::Null),
                serde_json::from_str(&r.metadata).unwrap_or(Value::Null),
            )
        })
        .collect();
    let mut lawyers = LawyerNames::new();
    for (row, (payload, _)) in rows.iter().zip(&parsed) {
        for id in timeline::lawyers_mentioned(&row.aggregate_type, payload) {
            if lawyers.contains_key(&id) {
                continue;
            }
            if let Some(l) = store::lawyer_by_id(db, id).await? {
                lawyers.insert(id, l.full_name);
            }
        }
    }
    let actor_id = |m: &Value| m.get(meta::ACTOR_ID).and_then(Value::as_str).map(str::to_string);
    let names = actor_names(db, parsed.iter().filter_map(|(_, m)| actor_id(m))).await?;
    Ok(rows
        .into_iter()
        .zip(parsed)
        .map(|(row, (payload, metadata))| {
            let text = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_string);
            let actor = actor_id(&metadata).map(|id| Recorder {
                name: names.get(&id).cloned().unwrap_or_default(),
                role: text(meta::ACTOR_ROLE).and_then(|r| r.parse::<Role>().ok()),
                account_id: id,
            });
            let summary =
                timeline::summarize(&row.aggregate_type, &row.event_type, &row.event_version, &payload, &lawyers);
            Entry {
                // The metadata's time is covered by the hash; the column is not.
                recorded_at: text(meta::RECORDED_AT).unwrap_or_else(|| row.recorded_at.clone()),
                actor,
                correlation_id: text(meta::CORRELATION_ID),
                summary,
                row,
            }
        })
        .collect())
}

async fn case_entries(db: &Db, case_id: &str) -> Res<Vec<Entry>> {
    let rows = audit::stream_rows(db, CASE, case_id).await?;
    entries(db, rows).await
}

impl App {
    /// What happened to a case, oldest first, for everyone who may read the case.
    #[tracing::instrument(skip_all)]
    pub async fn timeline(&self, caller: &Caller, view: &CaseView) -> Res<Vec<Entry>> {
        self.check_case(caller, view, Op::ReadCase).await?;
        case_entries(&self.db, &view.id.to_string()).await
    }

    /// Every event of a case with its hash-chain links: oversight roles, for any case.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn audit_trail(&self, caller: &Caller, case_id: Uuid) -> Res<Vec<Entry>> {
        caller.allow(Op::ReadAuditTrail)?;
        let id = case_id.to_string();
        let entries = case_entries(&self.db, &id).await?;
        if entries.is_empty() {
            return Err(ApiError::NotFound(format!("no case {id}")));
        }
        Ok(entries)
    }

    /// Every event of an account — its creation (and by whom), tokens issued and revoked,
    /// its approval, its disabling — with the hash-chain links: oversight roles.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn account_audit_trail(&self, caller: &Caller, account_id: Uuid) -> Res<Vec<Entry>> {
        caller.allow(Op::ReadAuditTrail)?;
        let id = account_id.to_string();
        let rows = audit::stream_rows(&self.db, <domain::account::Account as cqrs_es::Aggregate>::TYPE, &id).await?;
        if rows.is_empty() {
            return Err(ApiError::NotFound(format!("no account {id}")));
        }
        entries(&self.db, rows).await
    }

    /// What an account did: the newest events it recorded (at most `first`, 1–1000), with
    /// their hash-chain links. Oversight roles that read the identity-read log.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn account_activity(&self, caller: &Caller, account_id: Uuid, first: i64) -> Res<Vec<Entry>> {
        caller.allow(Op::ReadSignInLog)?;
        if !(1..=1000).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 1000".into()));
        }
        let rows = projections::log::read_actor_rows(&self.db, &account_id.to_string(), first).await?;
        entries(&self.db, rows).await
    }

    /// Checks a signed checkpoint pasted by an auditor against the ledger: its signature
    /// (by `public_key_hex`, the audit unit's key) and that every head it records is still
    /// in the ledger, with every chain. `Err(BAD_USER_INPUT)` for a text that is no
    /// checkpoint or no key.
    #[tracing::instrument(skip_all)]
    pub async fn verify_checkpoint(
        &self,
        caller: &Caller,
        checkpoint_json: &str,
        public_key_hex: &str,
    ) -> Res<LedgerVerification> {
        caller.allow(Op::VerifyAuditTrail)?;
        let cp: audit::SignedCheckpoint = serde_json::from_str(checkpoint_json.trim())
            .map_err(|_| ApiError::BadInput("checkpoint: not a signed checkpoint file (JSON)".into()))?;
        let key = audit::parse_public_key(public_key_hex)
            .map_err(|_| ApiError::BadInput("publicKey: 64 hexadecimal characters (an Ed25519 public key)".into()))?;
        verify_ledger(&self.db, Some(&cp), Some(&key)).await
    }

    /// Recomputes the hash chain of one case, or of every stream when `case_id` is `None`,
    /// and names the first link that does not hold.
    #[tracing::instrument(skip_all)]
    pub async fn verify_audit_trail(&self, caller: &Caller, case_id: Option<Uuid>) -> Res<Verification> {
        caller.allow(Op::VerifyAuditTrail)?;
        let db = &self.db;
        let scope = match case_id {
            Some(id) => Scope::Stream { aggregate_type: CASE.into(), aggregate_id: id.to_string() },
            None => Scope::All,
        };
        let outcome = audit::verify(db, &scope, None, false).await?;
        let mut reason = outcome.first_broken.as_ref().map(|b| b.problem.to_string());
        let mut ok = outcome.chains_hold();
        if let (Some(id), 0) = (case_id, outcome.events) {
            // No events: either no such case, or its whole stream was deleted, which the
            // read models still remember.
            if store::case_by_id(db, id).await?.is_none() {
                return Err(ApiError::NotFound(format!("no case {id}")));
            }
            ok = false;
            reason = Some("the case has no stored events: its whole stream was deleted".into());
        }
        let first_broken_at = match &outcome.first_broken {
            Some(b) => {
                tracing::warn!(
                    aggregate_type = %b.row.aggregate_type, aggregate_id = %b.row.aggregate_id,
                    sequence = b.row.sequence, position = b.row.position, problem = %b.problem,
                    "audit trail verification found a broken link"
                );
                entries(db, vec![b.row.clone()]).await?.pop()
            }
            None if !ok => {
                tracing::warn!(case_id = ?case_id, "audit trail verification: stream missing");
                None
            }
            None => None,
        };
        Ok(Verification {
            ok,
            checked_events: outcome.events,
            checked_streams: outcome.streams,
            broken_links: outcome.broken_links,
            first_broken_at,
            reason,
        })
    }
}

/// What `probono audit verify` found: every chain, and the checkpoint when one was given.
#[derive(Debug)]
pub struct LedgerVerification {
    /// The checkpoint's signature: `None` without a checkpoint.
    pub signature: Option<Result<(), audit::CheckpointError>>,
    pub outcome: audit::Outcome,
}

impl LedgerVerification {
    /// Every chain holds, the checkpoint (if any) is intact, signed and contained.
    pub fn ok(&self) -> bool {
        self.outcome.ok() && !matches!(self.signature, Some(Err(_)))
    }
}

/// Verifies every hash chain of the ledger in `db`, and the checkpoint when given. A
/// checkpoint whose signature fails is not used (its heads may be forged); the chains are
/// still checked, so the report says everything that can be said. Runs without the master
/// key and writes nothing, so auditors can run it with read-only credentials.
pub async fn verify_ledger(
    db: &Db,
    checkpoint: Option<&audit::SignedCheckpoint>,
    trusted: Option<&ed25519_dalek::VerifyingKey>,
) -> Res<LedgerVerification> {
    let signature = checkpoint.map(|cp| audit::check_signature(cp, trusted));
    let heads = match (checkpoint, &signature) {
        (Some(cp), Some(Ok(()))) => Some(cp.statement.streams.as_slice()),
        _ => None,
    };
    let outcome = audit::verify(db, &Scope::All, heads, false).await?;
    Ok(LedgerVerification { signature, outcome })
}

/// Signs a statement of every stream's head with the auditors' key — only when every chain
/// holds: signing a broken ledger would vouch for the tampering (`Err` with what broke).
pub async fn checkpoint_ledger(
    db: &Db,
    key: &ed25519_dalek::SigningKey,
) -> Res<Result<(audit::SignedCheckpoint, audit::Outcome), audit::Outcome>> {
    let outcome = audit::verify(db, &Scope::All, None, true).await?;
    if !outcome.chains_hold() {
        return Ok(Err(outcome));
    }
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let signed = audit::sign(audit::statement(&outcome, created_at), key);
    Ok(Ok((signed, outcome)))
}
