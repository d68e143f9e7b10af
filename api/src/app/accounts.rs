//! Use cases on accounts and their bearer tokens: authentication, `me`, creating an account
//! with its first token, revoking a token.

use super::{App, Caller};
use crate::access::{tokens, Op, Principal};
use crate::error::ApiError;
use chrono::{DateTime, Utc};
use domain::account::{AccountCommand, CreateAccount};
use domain::lawyer::Lawyer;
use domain::organization::Organization;
use domain::values::{Role, Text};
use projections::model::AccountView;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The account's id; a new one when `None` (the demo seed gives its own).
    pub account_id: Option<Uuid>,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    /// When the first token stops working; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
}

/// An account just created with its first token.
#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub account: AccountView,
    pub token_id: Uuid,
    /// The bearer secret: shown once, stored only as a hash.
    pub token: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl App {
    /// Resolves an `Authorization` header value to the caller, or `UNAUTHENTICATED`.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(&self, header: Option<&str>) -> Res<Principal> {
        let token = tokens::bearer(header).ok_or(ApiError::Unauthenticated)?;
        let rows = self.principal_rows(&tokens::hash_token(token)).await?.ok_or(ApiError::Unauthenticated)?;
        let (t, a) = (&rows.0, &rows.1);
        if t.revoked || a.disabled || t.expires_at.is_some_and(|e| e <= Utc::now()) {
            return Err(ApiError::Unauthenticated);
        }
        Ok(Principal {
            account_id: a.id,
            name: a.name.clone(),
            role: a.role,
            organization_id: a.organization_id,
            lawyer_id: a.lawyer_id,
            token_id: t.token_id,
            approved: a.approved,
        })
    }

    /// The caller's account, with its role and scope.
    #[tracing::instrument(skip_all)]
    pub async fn me(&self, caller: &Caller) -> Res<AccountView> {
        caller.allow(Op::Me)?;
        self.account(caller.principal.account_id).await?.ok_or(ApiError::Unauthenticated)
    }

    pub(crate) async fn account(&self, id: Uuid) -> Res<Option<AccountView>> {
        Ok(projections::store::account_by_id(&self.db, id).await?)
    }

    /// Creates an account and issues its first token. The organisation or lawyer it is
    /// scoped to must exist (as their own streams say, not a read model).
    #[tracing::instrument(skip_all, fields(role = %input.role))]
    pub async fn create_account(&self, caller: &Caller, input: NewAccount) -> Res<CreatedAccount> {
        caller.allow(Op::CreateAccessToken)?;
        if let Some(e) = input.expires_at {
            if e <= Utc::now() {
                return Err(ApiError::BadInput("expiresAt is in the past".into()));
            }
        }
        let account_id = self.create_account_record(caller, &input).await?;
        let id = account_id.to_string();
        let (token, token_hash) = tokens::new_token();
        let token_id = Uuid::new_v4();
        let issue = AccountCommand::IssueToken { token_id, token_hash, expires_at: input.expires_at };
        self.execute(&self.cqrs.accounts, caller, &id, issue).await?;
        let account =
            self.account(account_id).await?.ok_or_else(|| ApiError::Internal("account not projected".into()))?;
        Ok(CreatedAccount { account, token_id, token, expires_at: input.expires_at })
    }

    /// Creates an account that has no token: its user signs in to the web app instead.
    pub async fn create_account_without_token(&self, caller: &Caller, input: NewAccount) -> Res<Uuid> {
        self.create_account_record(caller, &input).await
    }

    /// Creates an account without a token (web users sign in with a password instead). The
    /// organisation or lawyer it is scoped to must exist, as their own streams say.
    pub(crate) async fn create_account_record(&self, caller: &Caller, input: &NewAccount) -> Res<Uuid> {
        caller.allow(Op::CreateAccessToken)?;
        let name = Text::parse_with_max("name", &input.name, 200)?;
        if let Some(o) = input.organization_id {
            if !self.cqrs.load::<Organization>(&o.to_string()).await?.aggregate.registered {
                return Err(ApiError::NotFound(format!("no organisation {o}")));
            }
        }
        if let Some(l) = input.lawyer_id {
            if !self.cqrs.load::<Lawyer>(&l.to_string()).await?.aggregate.registered {
                return Err(ApiError::NotFound(format!("no lawyer {l}")));
            }
        }
        let account_id = input.account_id.unwrap_or_else(Uuid::new_v4);
        let create = AccountCommand::Create(CreateAccount {
            account_id,
            name,
            role: input.role,
            organization_id: input.organization_id,
            lawyer_id: input.lawyer_id,
        });
        self.execute(&self.cqrs.accounts, caller, &account_id.to_string(), create).await?;
        Ok(account_id)
    }

    /// A second person approves an account that can read client identity: an ADMIN other
    /// than its creator, or for a lawyer's account the COORDINATOR. Until then the account
    /// works, but reaches no identity.
    #[tracing::instrument(skip_all, fields(%account_id))]
    pub async fn approve_account(&self, caller: &Caller, account_id: Uuid) -> Res<AccountView> {
        caller.allow(Op::ApproveAccount)?;
        let account =
            self.account(account_id).await?.ok_or_else(|| ApiError::NotFound(format!("no account {account_id}")))?;
        if account.role.reads_identity() && !crate::access::policy::may_approve(&caller.principal, account.role) {
            return Err(ApiError::Forbidden(format!(
                "a {} account is approved by {}",
                account.role,
                if account.role == Role::Lawyer { "the COORDINATOR" } else { "an ADMIN other than its creator" }
            )));
        }
        self.execute(&self.cqrs.accounts, caller, &account_id.to_string(), AccountCommand::Approve).await?;
        self.account(account_id).await?.ok_or_else(|| ApiError::NotFound("no such account".into()))
    }

    /// The accounts waiting for this caller's approval: not approved, not disabled, of a role
    /// the caller approves, and not created by the caller.
    #[tracing::instrument(skip_all)]
    pub async fn accounts_awaiting_approval(&self, caller: &Caller) -> Res<Vec<AccountView>> {
        caller.allow(Op::ApproveAccount)?;
        let me = caller.principal.account_id;
        Ok(projections::store::accounts(&self.db)
            .await?
            .into_iter()
            .filter(|a| !a.approved && !a.disabled && a.created_by != Some(me))
            .filter(|a| crate::access::policy::may_approve(&caller.principal, a.role))
            .collect())
    }

    /// Every account with who created and approved it (ADMIN, AUDITOR).
    #[tracing::instrument(skip_all)]
    pub async fn accounts(&self, caller: &Caller) -> Res<Vec<AccountView>> {
        caller.allow(Op::ListAccounts)?;
        Ok(projections::store::accounts(&self.db).await?)
    }

    /// Revokes a token at once; requests bearing it are refused from then on. Returns the
    /// account it belonged to.
    #[tracing::instrument(skip_all, fields(%token_id))]
    pub async fn revoke_access_token(&self, caller: &Caller, token_id: Uuid) -> Res<AccountView> {
        caller.allow(Op::RevokeAccessToken)?;
        let account_id = projections::store::token_account(&self.db, token_id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no token {token_id}")))?;
        let revoke = AccountCommand::RevokeToken { token_id };
        self.execute(&self.cqrs.accounts, caller, &account_id.to_string(), revoke).await?;
        self.account(account_id).await?.ok_or_else(|| ApiError::NotFound("no such account".into()))
    }
}
