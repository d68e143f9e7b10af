//! The audit trail and chain verification (`auditTrail`, `verifyAuditTrail`,
//! `Case.timeline`). Entries are read from the event store itself, not from a read model,
//! so an auditor sees exactly the rows the hash chain covers.

use super::enums::Role;
use super::scalars::DateTime;
use super::{allow, app, parse_id};
use crate::audit::{self, Scope};
use crate::authz::Op;
use crate::error::ApiError;
use async_graphql::{Context, Object, SimpleObject, ID};
use projections::log::{meta, ChainRow};
use projections::model::timeline::{self, LawyerNames};
use projections::{store, Db};
use serde_json::Value;
use std::collections::HashMap;

type Res<T> = Result<T, ApiError>;

/// The stream type of cases (`cqrs_es::Aggregate::TYPE` of `domain::case::Case`).
const CASE: &str = <domain::case::Case as cqrs_es::Aggregate>::TYPE;

/// Who recorded an event: the account, as the accounts read model names it, and the role
/// the event's metadata recorded.
#[derive(SimpleObject, Clone)]
pub struct AuditActor {
    pub id: ID,
    /// The account's name; `system` for the command-line operator.
    pub name: String,
    /// The role the account acted in (null only if the stored label is not a role).
    pub role: Option<Role>,
}

/// One stored event with its place in the hash chain.
#[derive(SimpleObject, Clone)]
pub struct AuditEntry {
    /// The event's `position` column: unique across the log. On SQLite it is the commit
    /// order; on PostgreSQL the log is ordered by transaction, then position.
    pub position: i64,
    /// The stream: `Case`, `Lawyer`, `Account`, `Organization` or `OffenseCatalogue`.
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The event's number in its stream, from 1.
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// When the server recorded the event (the time in its hashed metadata).
    pub recorded_at: DateTime,
    /// Null only when the metadata names no account (an event written outside this system).
    pub actor: Option<AuditActor>,
    /// The request that wrote the event, as in the server's logs.
    pub correlation_id: Option<String>,
    /// What happened, in one line. Never contains client identity or free text.
    pub summary: String,
    /// The hash of the event before it in the stream (the genesis hash for the first).
    pub prev_hash: String,
    /// SHA-256 over `prevHash` and the canonical event.
    pub hash: String,
}

/// The result of recomputing hash chains.
#[derive(SimpleObject)]
pub struct AuditVerification {
    /// Every link holds.
    pub ok: bool,
    pub checked_events: i64,
    pub checked_streams: i64,
    /// Links that do not hold. An altered, removed or forged event breaks one; an altered
    /// event whose hash was recomputed breaks the link after it too.
    pub broken_links: i64,
    /// The first link that does not hold, in stream order.
    pub first_broken_at: Option<AuditEntry>,
    /// What is wrong with it.
    pub reason: Option<String>,
}

/// The account names of the actors of `rows`, looked up once each.
async fn actor_names(db: &Db, ids: impl Iterator<Item = String>) -> Res<HashMap<String, String>> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        let name = if id == uuid::Uuid::nil().to_string() {
            "system".to_string()
        } else {
            match store::account_by_id(db, &id).await? {
                Some(a) => a.name,
                None => "unknown account".to_string(),
            }
        };
        names.insert(id, name);
    }
    Ok(names)
}

/// Presents stored rows as audit entries.
pub(crate) async fn entries(db: &Db, rows: &[ChainRow]) -> Res<Vec<AuditEntry>> {
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
            if let Some(l) = store::lawyer_by_id(db, &id.to_string()).await? {
                lawyers.insert(id, l.full_name);
            }
        }
    }
    let actor_id = |m: &Value| m.get(meta::ACTOR_ID).and_then(Value::as_str).map(str::to_string);
    let names = actor_names(db, parsed.iter().filter_map(|(_, m)| actor_id(m))).await?;
    Ok(rows
        .iter()
        .zip(&parsed)
        .map(|(row, (payload, metadata))| {
            let text = |key: &str| metadata.get(key).and_then(Value::as_str).map(str::to_string);
            let actor = actor_id(metadata).map(|id| AuditActor {
                name: names.get(&id).cloned().unwrap_or_default(),
                role: text(meta::ACTOR_ROLE).and_then(|r| r.parse::<domain::values::Role>().ok()).map(Into::into),
                id: ID(id),
            });
            AuditEntry {
                position: row.position,
                aggregate_type: row.aggregate_type.clone(),
                aggregate_id: row.aggregate_id.clone(),
                sequence: row.sequence,
                event_type: row.event_type.clone(),
                event_version: row.event_version.clone(),
                // The metadata's time is covered by the hash; the column is not.
                recorded_at: DateTime(text(meta::RECORDED_AT).unwrap_or_else(|| row.recorded_at.clone())),
                actor,
                correlation_id: text(meta::CORRELATION_ID),
                summary: timeline::summarize(&row.aggregate_type, &row.event_type, payload, &lawyers),
                prev_hash: row.prev_hash.clone(),
                hash: row.hash.clone(),
            }
        })
        .collect())
}

/// Every event of a case as audit entries, oldest first.
pub(crate) async fn case_entries(db: &Db, case_id: &str) -> Res<Vec<AuditEntry>> {
    let rows = audit::stream_rows(db, CASE, case_id).await?;
    entries(db, &rows).await
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every event of a case, oldest first, with who recorded it, when, and its hash-chain
    /// links. AUDITOR, COORDINATOR and ADMIN, for any case.
    async fn audit_trail(&self, ctx: &Context<'_>, case_id: ID) -> Res<Vec<AuditEntry>> {
        allow(ctx, Op::ReadAuditTrail)?;
        let id = parse_id("caseId", &case_id)?.to_string();
        let entries = case_entries(&app(ctx)?.db, &id).await?;
        if entries.is_empty() {
            return Err(ApiError::NotFound(format!("no case {id}")));
        }
        Ok(entries)
    }

    /// Recomputes the hash chain of one case, or of every stream of the ledger when
    /// `caseId` is omitted, and names the first link that does not hold. An event removed
    /// from the end of a stream, or a stream rewritten with recomputed hashes, needs a
    /// signed checkpoint to be seen: `probono audit verify --checkpoint`.
    async fn verify_audit_trail(&self, ctx: &Context<'_>, case_id: Option<ID>) -> Res<AuditVerification> {
        allow(ctx, Op::VerifyAuditTrail)?;
        let db = &app(ctx)?.db;
        let scope = match &case_id {
            Some(id) => {
                Scope::Stream { aggregate_type: CASE.into(), aggregate_id: parse_id("caseId", id)?.to_string() }
            }
            None => Scope::All,
        };
        let outcome = audit::verify(db, &scope, None, false).await?;
        let mut reason = outcome.first_broken.as_ref().map(|b| b.problem.to_string());
        let mut ok = outcome.chains_hold();
        if let (Scope::Stream { aggregate_id, .. }, 0) = (&scope, outcome.events) {
            // No events: either no such case, or its whole stream was deleted, which the
            // read models still remember.
            if store::case_by_id(db, aggregate_id).await?.is_none() {
                return Err(ApiError::NotFound(format!("no case {aggregate_id}")));
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
                entries(db, std::slice::from_ref(&b.row)).await?.pop()
            }
            None if !ok => {
                tracing::warn!(case_id = ?case_id.as_ref().map(|i| i.as_str()), "audit trail verification: stream missing");
                None
            }
            None => None,
        };
        Ok(AuditVerification {
            ok,
            checked_events: outcome.events as i64,
            checked_streams: outcome.streams as i64,
            broken_links: outcome.broken_links as i64,
            first_broken_at,
            reason,
        })
    }
}
