//! Administration: ending an account's access (deactivation, revoking every token and web
//! session), erasure requests decided by a second person, and the master key's status.

use super::cases::text;
use super::{App, Caller};
use crate::access::Op;
use crate::app::sign_in::SignInOutcome;
use crate::error::ApiError;
use crate::store::web as web_store;
use chrono::{DateTime, Utc};
use domain::account::AccountCommand;
use domain::case::CaseError;
use domain::erasure::ErasureCommand;
use projections::model::{AccountView, CaseView, TokenView};
use projections::store::{self, ErasureRequestRow, ErasureStatus};
use projections::Db;
use std::sync::Arc;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

/// What revoking an account's access ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevokedAccess {
    pub tokens: usize,
    pub sessions: u64,
}

/// An erasure request just approved, and the case as the erasure left it.
#[derive(Debug, Clone)]
pub struct ApprovedErasure {
    pub request: ErasureRequestRow,
    pub case: Arc<CaseView>,
}

/// The master key's status: never key material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyStatus {
    /// The fingerprint naming the master key this server runs with.
    pub master_key_id: String,
    /// The key epoch new data keys are wrapped under.
    pub current_epoch: i64,
    /// When the epoch last changed: the last master-key rotation or erasure.
    pub epoch_changed_at: Option<DateTime<Utc>>,
    /// Data keys stored (one per case whose client was not erased).
    pub wrapped_keys: i64,
    /// How many data keys each epoch wraps (`None`: under the master key directly, from
    /// before key epochs).
    pub keys_by_epoch: Vec<(Option<i64>, i64)>,
}

async fn epoch_row(db: &Db) -> Res<Option<(i64, Option<DateTime<Utc>>)>> {
    let sql = match db {
        Db::Postgres(_) => {
            "SELECT current, to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
             FROM key_epochs WHERE id = 1"
        }
        Db::Sqlite(_) => "SELECT current, changed_at FROM key_epochs WHERE id = 1",
    };
    let r: Option<(i64, String)> = projections::on_db!(db, p => sqlx::query_as(sql).fetch_optional(p).await?);
    Ok(r.map(|(e, t)| (e, DateTime::parse_from_rfc3339(&t).ok().map(|t| t.with_timezone(&Utc)))))
}

impl App {
    /// Every token of an account (ids and dates, never a secret). ADMIN, AUDITOR.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn account_tokens(&self, caller: &Caller, account_id: Uuid) -> Res<Vec<TokenView>> {
        caller.allow(Op::ListAccounts)?;
        Ok(store::tokens_of_account(&self.db, account_id).await?)
    }

    /// Deactivates an account for good: it is disabled (with the reason on record), every
    /// token it holds is revoked and every web session ends. An ADMIN never their own.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn deactivate_account(&self, caller: &Caller, account_id: Uuid, reason: &str) -> Res<AccountView> {
        caller.allow(Op::ManageAccounts)?;
        let reason = text("reason", reason)?;
        if account_id == caller.principal.account_id {
            return Err(ApiError::Rule("you cannot deactivate your own account: another ADMIN must".into()));
        }
        self.account(account_id).await?.ok_or_else(|| ApiError::NotFound(format!("no account {account_id}")))?;
        self.execute(&self.cqrs.accounts, caller, &account_id.to_string(), AccountCommand::Disable { reason }).await?;
        Box::pin(self.end_access(caller, account_id)).await?;
        self.account(account_id).await?.ok_or_else(|| ApiError::NotFound(format!("no account {account_id}")))
    }

    /// Revokes every token of an account and ends every web session of it at once; the
    /// account itself stays (its user signs in again, or is given a new token).
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn revoke_account_access(&self, caller: &Caller, account_id: Uuid) -> Res<(AccountView, RevokedAccess)> {
        caller.allow(Op::ManageAccounts)?;
        self.account(account_id).await?.ok_or_else(|| ApiError::NotFound(format!("no account {account_id}")))?;
        let revoked = Box::pin(self.end_access(caller, account_id)).await?;
        let account =
            self.account(account_id).await?.ok_or_else(|| ApiError::NotFound(format!("no account {account_id}")))?;
        Ok((account, revoked))
    }

    async fn end_access(&self, caller: &Caller, account_id: Uuid) -> Res<RevokedAccess> {
        let id = account_id.to_string();
        let mut revoked = RevokedAccess::default();
        for t in store::tokens_of_account(&self.db, account_id).await?.into_iter().filter(|t| !t.revoked) {
            match self
                .execute(&self.cqrs.accounts, caller, &id, AccountCommand::RevokeToken { token_id: t.token_id })
                .await
            {
                Ok(()) => revoked.tokens += 1,
                // Revoked meanwhile by someone else: the aim is reached.
                Err(ApiError::Rule(_)) => {}
                Err(e) => return Err(e),
            }
        }
        revoked.sessions = web_store::delete_account_sessions(&self.db, &id).await?;
        let username = web_store::user_by_account(&self.db, &id).await?.map(|u| u.username);
        if let Some(u) = username {
            self.log_sign_in(&u, Some(account_id), SignInOutcome::RevokedByAdmin, None).await?;
        }
        tracing::info!(tokens = revoked.tokens, sessions = revoked.sessions, "account access revoked");
        Ok(revoked)
    }

    /// Someone who works for the client — an intake worker of the case's organisation, its
    /// assigned lawyer — or an ADMIN asks for the client's data to be erased, with a reason.
    /// Nothing is erased until an ADMIN other than the requester approves.
    #[tracing::instrument(skip_all, fields(%case_id))]
    pub async fn request_erasure(&self, caller: &Caller, case_id: Uuid, reason: &str) -> Res<ErasureRequestRow> {
        let reason = text("reason", reason)?;
        let view = self.case_in_scope(caller, case_id, Op::RequestErasure).await?;
        if view.erased {
            return Err(ApiError::Rule(CaseError::AlreadyErased.to_string()));
        }
        let request_id = Uuid::new_v4();
        let command = ErasureCommand::Request { request_id, case_id, reason };
        self.execute(&self.cqrs.erasures, caller, &case_id.to_string(), command).await?;
        store::erasure_request(&self.db, request_id)
            .await?
            .ok_or_else(|| ApiError::Internal("erasure request not projected".into()))
    }

    async fn pending_request(&self, request_id: Uuid) -> Res<ErasureRequestRow> {
        let r = store::erasure_request(&self.db, request_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no erasure request {request_id}")))?;
        if r.status != ErasureStatus::Pending {
            return Err(ApiError::Rule("this erasure request was decided already".into()));
        }
        Ok(r)
    }

    /// An ADMIN other than the requester approves an erasure request; the approval is on
    /// record first, then the case's data key is destroyed (`eraseClientData`).
    #[tracing::instrument(skip_all, fields(%request_id))]
    pub async fn approve_erasure(&self, caller: &Caller, request_id: Uuid) -> Res<ApprovedErasure> {
        caller.allow(Op::DecideErasure)?;
        let r = self.pending_request(request_id).await?;
        if r.requested_by == caller.principal.account_id {
            return Err(domain::erasure::ErasureError::SelfApproval.into());
        }
        let case_id = r.case_id;
        Box::pin(self.execute(
            &self.cqrs.erasures,
            caller,
            &case_id.to_string(),
            ErasureCommand::Approve { request_id },
        ))
        .await?;
        let reason = format!("erasure request {request_id}, approved by a second person");
        let case = match Box::pin(self.erase_client_data(caller, case_id, &reason)).await {
            Ok(v) => v,
            // Erased directly meanwhile: the request's aim is reached.
            Err(ApiError::Rule(m)) if m == CaseError::AlreadyErased.to_string() => {
                self.case_view(case_id).await?.ok_or_else(|| ApiError::NotFound(format!("no case {case_id}")))?
            }
            Err(e) => return Err(e),
        };
        let request = store::erasure_request(&self.db, request_id)
            .await?
            .ok_or_else(|| ApiError::Internal("erasure request not projected".into()))?;
        Ok(ApprovedErasure { request, case })
    }

    /// An ADMIN turns an erasure request down, with a reason; the client's data stays.
    #[tracing::instrument(skip_all, fields(%request_id))]
    pub async fn reject_erasure(&self, caller: &Caller, request_id: Uuid, reason: &str) -> Res<ErasureRequestRow> {
        caller.allow(Op::DecideErasure)?;
        let reason = text("reason", reason)?;
        let r = self.pending_request(request_id).await?;
        let command = ErasureCommand::Reject { request_id, reason };
        self.execute(&self.cqrs.erasures, caller, &r.case_id.to_string(), command).await?;
        store::erasure_request(&self.db, request_id)
            .await?
            .ok_or_else(|| ApiError::Internal("erasure request not projected".into()))
    }

    /// Erasure requests, newest first, by status and case when given. ADMIN, AUDITOR.
    #[tracing::instrument(skip_all)]
    pub async fn erasure_requests(
        &self,
        caller: &Caller,
        status: Option<ErasureStatus>,
        case_id: Option<Uuid>,
    ) -> Res<Vec<ErasureRequestRow>> {
        caller.allow(Op::ListErasureRequests)?;
        Ok(store::erasure_requests(&self.db, status, case_id).await?)
    }

    /// The erasure requests of one case, for those who may ask for one (the case's page).
    pub async fn case_erasure_requests(&self, caller: &Caller, case_id: Uuid) -> Res<Vec<ErasureRequestRow>> {
        self.case_in_scope(caller, case_id, Op::RequestErasure).await?;
        Ok(store::erasure_requests(&self.db, None, Some(case_id)).await?)
    }

    /// The master key's status: its fingerprint, the key epoch, how many data keys it wraps
    /// and when the epoch last changed. ADMIN.
    #[tracing::instrument(skip_all)]
    pub async fn key_status(&self, caller: &Caller) -> Res<KeyStatus> {
        caller.allow(Op::ReadKeyStatus)?;
        let (current_epoch, epoch_changed_at) = epoch_row(&self.db).await?.unwrap_or((self.keyring.epoch(), None));
        let keys_by_epoch: Vec<(Option<i64>, i64)> = projections::on_db!(&self.db, p => sqlx::query_as(
            "SELECT kek_epoch, count(*) FROM data_keys GROUP BY kek_epoch ORDER BY kek_epoch")
            .fetch_all(p).await?);
        Ok(KeyStatus {
            master_key_id: self.master_key.id().to_string(),
            current_epoch,
            epoch_changed_at,
            wrapped_keys: keys_by_epoch.iter().map(|(_, n)| n).sum(),
            keys_by_epoch,
        })
    }
}
