//! The identity-read log, for oversight: who decrypted which client's identity, when, which
//! fields and why. It never contains the identity itself.

use super::scalars::DateTime;
use super::{app, caller, opt_id};
use crate::error::ApiError;
use async_graphql::{Context, Object, SimpleObject, ID};

#[derive(SimpleObject)]
pub struct IdentityRead {
    pub read_at: DateTime,
    pub case_id: ID,
    pub account_id: ID,
    /// The reader's account name, when the account is known.
    pub account_name: Option<String>,
    /// Who created the reading account (the nil id: the command-line operator).
    pub account_created_by: Option<ID>,
    /// Who approved the reading account for identity (null: an account from before
    /// approvals were recorded).
    pub account_approved_by: Option<ID>,
    pub role: String,
    /// The identity fields the response contained.
    pub fields: Vec<String>,
    pub purpose: Option<String>,
    /// The request, to match server logs.
    pub correlation_id: Option<String>,
}

#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Identity reads, newest first (at most `first`, default 100, up to 1000), for one case
    /// and/or one account. AUDITOR and ADMIN.
    async fn identity_reads(
        &self,
        ctx: &Context<'_>,
        case_id: Option<ID>,
        account_id: Option<ID>,
        first: Option<i32>,
    ) -> Result<Vec<IdentityRead>, ApiError> {
        let case_id = opt_id("caseId", &case_id)?;
        let account_id = opt_id("accountId", &account_id)?;
        let rows = app(ctx)?.identity_reads(caller(ctx)?, case_id, account_id, first.unwrap_or(100).into()).await?;
        let out = rows
            .into_iter()
            .map(|e| {
                let r = e.read;
                IdentityRead {
                    read_at: r.read_at.into(),
                    case_id: ID(r.case_id.to_string()),
                    account_id: ID(r.account_id.to_string()),
                    account_name: e.account_name,
                    account_created_by: e.account_created_by.map(|a| ID(a.to_string())),
                    account_approved_by: e.account_approved_by.map(|a| ID(a.to_string())),
                    role: r.role.as_str().to_string(),
                    fields: r.fields,
                    purpose: r.purpose,
                    correlation_id: r.correlation_id,
                }
            })
            .collect();
        Ok(out)
    }
}
