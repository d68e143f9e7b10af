//! The identity-read log, for oversight: who decrypted which client's identity, when, which
//! fields and why. It never contains the identity itself.

use super::scalars::DateTime;
use super::{allow, app, parse_id};
use crate::authz::Op;
use crate::error::ApiError;
use async_graphql::{Context, Object, SimpleObject, ID};

#[derive(SimpleObject)]
pub struct IdentityRead {
    pub read_at: DateTime,
    pub case_id: ID,
    pub account_id: ID,
    /// The reader's account name, when the account is known.
    pub account_name: Option<String>,
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
        allow(ctx, Op::ReadIdentityLog)?;
        let first = first.unwrap_or(100);
        if !(1..=1000).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 1000".into()));
        }
        let case_id = case_id.as_ref().map(|i| parse_id("caseId", i)).transpose()?.map(|u| u.to_string());
        let account_id = account_id.as_ref().map(|i| parse_id("accountId", i)).transpose()?.map(|u| u.to_string());
        let app = app(ctx)?;
        let rows =
            projections::store::identity_reads(&app.db, case_id.as_deref(), account_id.as_deref(), i64::from(first))
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let name = projections::store::account_by_id(&app.db, &r.account_id).await?.map(|a| a.name);
            out.push(IdentityRead {
                read_at: DateTime(r.read_at),
                case_id: ID(r.case_id),
                account_id: ID(r.account_id),
                account_name: name,
                role: r.role,
                fields: r.fields.split(',').filter(|f| !f.is_empty()).map(str::to_string).collect(),
                purpose: r.purpose,
                correlation_id: r.correlation_id,
            });
        }
        Ok(out)
    }
}
