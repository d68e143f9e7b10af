//! Administration and oversight of access: deactivating an account, revoking every token
//! and session of one, the sign-in history, an account's activity, erasure requests decided
//! by a second person, and the master key's status (never key material).

use super::account::Account;
use super::audit::AuditEntry;
use super::case::Case;
use super::scalars::DateTime;
use super::{app, caller, opt_id, parse_id, Res};
use crate::app::admin as app_admin;
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use projections::store::{ErasureRequestRow, ErasureStatus};

/// Where an erasure request stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ErasureRequestStatus {
    /// Waiting for an ADMIN other than the requester.
    Pending,
    /// Approved: the client's data key was destroyed.
    Approved,
    /// Turned down; the client's data stays.
    Rejected,
}

impl From<ErasureStatus> for ErasureRequestStatus {
    fn from(s: ErasureStatus) -> Self {
        match s {
            ErasureStatus::Pending => ErasureRequestStatus::Pending,
            ErasureStatus::Approved => ErasureRequestStatus::Approved,
            ErasureStatus::Rejected => ErasureRequestStatus::Rejected,
        }
    }
}

impl From<ErasureRequestStatus> for ErasureStatus {
    fn from(s: ErasureRequestStatus) -> Self {
        match s {
            ErasureRequestStatus::Pending => ErasureStatus::Pending,
            ErasureRequestStatus::Approved => ErasureStatus::Approved,
            ErasureRequestStatus::Rejected => ErasureStatus::Rejected,
        }
    }
}

/// A request to erase a client's data. It names the case, never the client.
#[derive(SimpleObject)]
pub struct ErasureRequest {
    pub id: ID,
    pub case_id: ID,
    /// Why the erasure was asked for (a sentence, never the client's identity).
    pub reason: String,
    pub requested_by: ID,
    pub requested_at: DateTime,
    pub status: ErasureRequestStatus,
    pub decided_by: Option<ID>,
    pub decided_at: Option<DateTime>,
    /// Why a request was turned down.
    pub decision_reason: Option<String>,
}

impl From<ErasureRequestRow> for ErasureRequest {
    fn from(r: ErasureRequestRow) -> Self {
        ErasureRequest {
            id: ID(r.request_id.to_string()),
            case_id: ID(r.case_id.to_string()),
            reason: r.reason,
            requested_by: ID(r.requested_by.to_string()),
            requested_at: r.requested_at.into(),
            status: r.status.into(),
            decided_by: r.decided_by.map(|d| ID(d.to_string())),
            decided_at: r.decided_at.map(Into::into),
            decision_reason: r.decision_reason,
        }
    }
}

/// An approved request and the case as its erasure left it.
#[derive(SimpleObject)]
pub struct ErasureApproval {
    pub request: ErasureRequest,
    pub case: Case,
}

/// One row of the web app's sign-in log.
#[derive(SimpleObject)]
pub struct SignInEvent {
    pub at: DateTime,
    /// The username typed (for an unknown one too).
    pub username: String,
    pub account_id: Option<ID>,
    /// `SIGNED_IN`, `FAILED_PASSWORD`, `FAILED_OTP`, `THROTTLED`, `SIGNED_OUT`,
    /// `SIGNED_OUT_EVERYWHERE` or `REVOKED_BY_ADMIN`.
    pub outcome: String,
    pub client_address: Option<String>,
}

/// What revoking an account's access ended.
#[derive(SimpleObject)]
pub struct RevokedAccess {
    pub account: Account,
    pub revoked_tokens: i32,
    pub ended_sessions: i32,
}

/// How many data keys one key epoch wraps.
#[derive(SimpleObject)]
pub struct EpochKeys {
    /// Null: wrapped under the master key directly (from before key epochs).
    pub epoch: Option<i64>,
    pub keys: i64,
}

/// The master key's status. Never key material: a fingerprint and counts.
#[derive(SimpleObject)]
pub struct KeyStatus {
    pub master_key_id: String,
    pub current_epoch: i64,
    /// When the key epoch last changed: the last master-key rotation or client erasure.
    pub epoch_changed_at: Option<DateTime>,
    /// Data keys stored, one per case whose client was not erased.
    pub wrapped_keys: i64,
    pub keys_by_epoch: Vec<EpochKeys>,
}

/// A token's public facts (never its secret nor its hash).
#[derive(SimpleObject)]
pub struct AccessToken {
    pub id: ID,
    pub issued_at: DateTime,
    pub expires_at: Option<DateTime>,
    pub revoked: bool,
}

#[derive(InputObject)]
pub struct DeactivateAccountInput {
    pub account_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RequestErasureInput {
    pub case_id: ID,
    pub reason: String,
}

#[derive(InputObject)]
pub struct RejectErasureRequestInput {
    pub request_id: ID,
    pub reason: String,
}

fn first(n: Option<i32>) -> i64 {
    n.unwrap_or(100).into()
}

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The tokens of an account, newest first (ids and dates only). ADMIN, AUDITOR.
    async fn access_tokens(&self, ctx: &Context<'_>, account_id: ID) -> Res<Vec<AccessToken>> {
        let id = parse_id("accountId", &account_id)?;
        let rows = app(ctx)?.account_tokens(caller(ctx)?, id).await?;
        Ok(rows
            .into_iter()
            .map(|t| AccessToken {
                id: ID(t.token_id.to_string()),
                issued_at: t.issued_at.into(),
                expires_at: t.expires_at.map(Into::into),
                revoked: t.revoked,
            })
            .collect())
    }

    /// The web app's sign-ins, failures and sign-outs, newest first (at most `first`,
    /// default 100, up to 1000), of one account when given. ADMIN, AUDITOR.
    async fn sign_in_history(
        &self,
        ctx: &Context<'_>,
        account_id: Option<ID>,
        first: Option<i32>,
    ) -> Res<Vec<SignInEvent>> {
        let account_id = opt_id("accountId", &account_id)?;
        let rows = app(ctx)?.sign_in_history(caller(ctx)?, account_id, self::first(first)).await?;
        Ok(rows
            .into_iter()
            .map(|r| SignInEvent {
                at: r.at.into(),
                username: r.username,
                account_id: r.account_id.map(|a| ID(a.to_string())),
                outcome: r.outcome,
                client_address: r.client_address,
            })
            .collect())
    }

    /// What an account did: the newest events it recorded (at most `first`, default 100, up
    /// to 1000), with their hash-chain links. ADMIN, AUDITOR.
    async fn account_activity(&self, ctx: &Context<'_>, account_id: ID, first: Option<i32>) -> Res<Vec<AuditEntry>> {
        let id = parse_id("accountId", &account_id)?;
        let rows = app(ctx)?.account_activity(caller(ctx)?, id, self::first(first)).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Erasure requests, newest first, by status and case when given. ADMIN, AUDITOR.
    async fn erasure_requests(
        &self,
        ctx: &Context<'_>,
        status: Option<ErasureRequestStatus>,
        case_id: Option<ID>,
    ) -> Res<Vec<ErasureRequest>> {
        let case_id = opt_id("caseId", &case_id)?;
        let rows = app(ctx)?.erasure_requests(caller(ctx)?, status.map(Into::into), case_id).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The master key's status. ADMIN.
    async fn key_status(&self, ctx: &Context<'_>) -> Res<KeyStatus> {
        let s: app_admin::KeyStatus = app(ctx)?.key_status(caller(ctx)?).await?;
        Ok(KeyStatus {
            master_key_id: s.master_key_id,
            current_epoch: s.current_epoch,
            epoch_changed_at: s.epoch_changed_at.map(Into::into),
            wrapped_keys: s.wrapped_keys,
            keys_by_epoch: s.keys_by_epoch.into_iter().map(|(epoch, keys)| EpochKeys { epoch, keys }).collect(),
        })
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Deactivates an account for good (reason on record): every token is revoked and every
    /// web session ends at once. ADMIN, never their own account.
    async fn deactivate_account(&self, ctx: &Context<'_>, input: DeactivateAccountInput) -> Res<Account> {
        let id = parse_id("accountId", &input.account_id)?;
        Ok(Account(Box::pin(app(ctx)?.deactivate_account(caller(ctx)?, id, &input.reason)).await?))
    }

    /// Revokes every token of an account and ends every web session of it. ADMIN.
    async fn revoke_account_access(&self, ctx: &Context<'_>, account_id: ID) -> Res<RevokedAccess> {
        let id = parse_id("accountId", &account_id)?;
        let (account, r) = Box::pin(app(ctx)?.revoke_account_access(caller(ctx)?, id)).await?;
        Ok(RevokedAccess {
            account: Account(account),
            revoked_tokens: i32::try_from(r.tokens).unwrap_or(i32::MAX),
            ended_sessions: i32::try_from(r.sessions).unwrap_or(i32::MAX),
        })
    }

    /// Asks for a client's data to be erased, with a reason: the case's intake workers, its
    /// assigned lawyer, or an ADMIN. Nothing is erased until an ADMIN other than the
    /// requester approves.
    async fn request_erasure(&self, ctx: &Context<'_>, input: RequestErasureInput) -> Res<ErasureRequest> {
        let id = parse_id("caseId", &input.case_id)?;
        Ok(app(ctx)?.request_erasure(caller(ctx)?, id, &input.reason).await?.into())
    }

    /// An ADMIN other than the requester approves an erasure request: the client's data key
    /// is destroyed (as `eraseClientData` does) and the identity is gone for good.
    async fn approve_erasure_request(&self, ctx: &Context<'_>, request_id: ID) -> Res<ErasureApproval> {
        let id = parse_id("requestId", &request_id)?;
        let a = Box::pin(app(ctx)?.approve_erasure(caller(ctx)?, id)).await?;
        Ok(ErasureApproval { request: a.request.into(), case: Case(a.case) })
    }

    /// An ADMIN turns an erasure request down, with a reason. Nothing is erased.
    async fn reject_erasure_request(&self, ctx: &Context<'_>, input: RejectErasureRequestInput) -> Res<ErasureRequest> {
        let id = parse_id("requestId", &input.request_id)?;
        Ok(app(ctx)?.reject_erasure(caller(ctx)?, id, &input.reason).await?.into())
    }
}
