//! The audit trail and chain verification (`auditTrail`, `verifyAuditTrail`, and the
//! entries of `Case.timeline`). Entries are read from the event store itself, not from a
//! read model, so an auditor sees exactly the rows the hash chain covers.

use super::enums::Role;
use super::scalars::DateTime;
use super::{app, caller, opt_id, parse_id, Res};
use crate::app::audit as app_audit;
use async_graphql::{Context, Object, SimpleObject, ID};

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

impl From<app_audit::Entry> for AuditEntry {
    fn from(e: app_audit::Entry) -> Self {
        let row = e.row;
        AuditEntry {
            position: row.position,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            recorded_at: DateTime(e.recorded_at),
            actor: e.actor.map(|a| AuditActor { id: ID(a.account_id), name: a.name, role: a.role.map(Into::into) }),
            correlation_id: e.correlation_id,
            summary: e.summary,
            prev_hash: row.prev_hash,
            hash: row.hash,
        }
    }
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every event of a case, oldest first, with who recorded it, when, and its hash-chain
    /// links. AUDITOR, COORDINATOR and ADMIN, for any case.
    async fn audit_trail(&self, ctx: &Context<'_>, case_id: ID) -> Res<Vec<AuditEntry>> {
        let id = parse_id("caseId", &case_id)?;
        Ok(app(ctx)?.audit_trail(caller(ctx)?, id).await?.into_iter().map(AuditEntry::from).collect())
    }

    /// Every event of an account, oldest first: its creation (the actor is its creator),
    /// tokens issued and revoked (ids only), its approval and disabling. AUDITOR,
    /// COORDINATOR and ADMIN.
    async fn account_audit_trail(&self, ctx: &Context<'_>, account_id: ID) -> Res<Vec<AuditEntry>> {
        let id = parse_id("accountId", &account_id)?;
        Ok(app(ctx)?.account_audit_trail(caller(ctx)?, id).await?.into_iter().map(AuditEntry::from).collect())
    }

    /// Recomputes the hash chain of one case, or of every stream of the ledger when
    /// `caseId` is omitted, and names the first link that does not hold. An event removed
    /// from the end of a stream, or a stream rewritten with recomputed hashes, needs a
    /// signed checkpoint to be seen: `probono audit verify --checkpoint`.
    async fn verify_audit_trail(&self, ctx: &Context<'_>, case_id: Option<ID>) -> Res<AuditVerification> {
        let id = opt_id("caseId", &case_id)?;
        let v = app(ctx)?.verify_audit_trail(caller(ctx)?, id).await?;
        Ok(AuditVerification {
            ok: v.ok,
            checked_events: v.checked_events as i64,
            checked_streams: v.checked_streams as i64,
            broken_links: v.broken_links as i64,
            first_broken_at: v.first_broken_at.map(AuditEntry::from),
            reason: v.reason,
        })
    }
}
