//! Accounts and their tokens: the types, `me`, and the administration mutations.

use super::enums::Role;
use super::lawyer::Lawyer;
use super::organization::Organization;
use super::scalars::DateTime;
use super::{app, caller, opt_id, parse_id, Res};
use crate::app::accounts::NewAccount;
use crate::error::ApiError;
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use projections::model::AccountView;

pub struct Account(pub AccountView);

#[Object]
impl Account {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Role {
        self.0.role.into()
    }
    /// The organisation an intake worker's scope is limited to.
    async fn organization(&self, ctx: &Context<'_>) -> Res<Option<Organization>> {
        match self.0.organization_id {
            Some(id) => Organization::by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    /// The lawyer a LAWYER account acts as.
    async fn lawyer(&self, ctx: &Context<'_>) -> Res<Option<Lawyer>> {
        match self.0.lawyer_id {
            Some(id) => Lawyer::by_id(ctx, id).await,
            None => Ok(None),
        }
    }
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
    /// Who created the account (the nil id: the command-line operator; null: an account
    /// from before creators were recorded).
    async fn created_by(&self) -> Option<ID> {
        self.0.created_by.map(|a| ID(a.to_string()))
    }
    /// The account reaches client identity: a second person approved it, or its role
    /// reads no identity. Intake workers, lawyers and coordinators need approval.
    async fn approved(&self) -> bool {
        self.0.approved
    }
    async fn approved_by(&self) -> Option<ID> {
        self.0.approved_by.map(|a| ID(a.to_string()))
    }
    async fn approved_at(&self) -> Option<DateTime> {
        self.0.approved_at.map(Into::into)
    }
}

/// A new token: shown once, never again.
#[derive(SimpleObject)]
pub struct AccessTokenPayload {
    pub token: String,
    pub token_id: ID,
    pub expires_at: Option<DateTime>,
    pub account: Account,
}

#[derive(InputObject)]
pub struct CreateAccessTokenInput {
    pub name: String,
    pub role: Role,
    pub organization_id: Option<ID>,
    pub lawyer_id: Option<ID>,
    /// When the token stops working; never when omitted.
    pub expires_at: Option<DateTime>,
}

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The caller's account, with its role and scope.
    async fn me(&self, ctx: &Context<'_>) -> Res<Account> {
        Ok(Account(app(ctx)?.me(caller(ctx)?).await?))
    }

    /// Every account, oldest first, with who created and who approved it. ADMIN, AUDITOR.
    async fn accounts(&self, ctx: &Context<'_>) -> Res<Vec<Account>> {
        Ok(app(ctx)?.accounts(caller(ctx)?).await?.into_iter().map(Account).collect())
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates an account with one role and scope, and its first token (shown once).
    async fn create_access_token(&self, ctx: &Context<'_>, input: CreateAccessTokenInput) -> Res<AccessTokenPayload> {
        let expires_at = input
            .expires_at
            .as_ref()
            .map(|d| chrono::DateTime::parse_from_rfc3339(&d.0).map(|d| d.with_timezone(&chrono::Utc)))
            .transpose()
            .map_err(|_| ApiError::BadInput("expiresAt is not an RFC 3339 date-time".into()))?;
        let input = NewAccount {
            account_id: None,
            name: input.name,
            role: input.role.into(),
            organization_id: opt_id("organizationId", &input.organization_id)?,
            lawyer_id: opt_id("lawyerId", &input.lawyer_id)?,
            expires_at,
        };
        let created = app(ctx)?.create_account(caller(ctx)?, input).await?;
        Ok(AccessTokenPayload {
            token: created.token,
            token_id: ID(created.token_id.to_string()),
            expires_at: created.expires_at.map(|e| DateTime(e.to_rfc3339())),
            account: Account(created.account),
        })
    }

    /// A second person approves an account that can read client identity (intake worker,
    /// lawyer, coordinator): an ADMIN other than its creator, or the COORDINATOR for a
    /// lawyer's account. Until then the account works but reaches no identity.
    async fn approve_account(&self, ctx: &Context<'_>, account_id: ID) -> Res<Account> {
        let id = parse_id("accountId", &account_id)?;
        Ok(Account(app(ctx)?.approve_account(caller(ctx)?, id).await?))
    }

    /// Revokes a token at once; requests bearing it are refused from then on.
    async fn revoke_access_token(&self, ctx: &Context<'_>, token_id: ID) -> Res<Account> {
        let token_id = parse_id("tokenId", &token_id)?;
        Ok(Account(app(ctx)?.revoke_access_token(caller(ctx)?, token_id).await?))
    }
}
