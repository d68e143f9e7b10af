//! Oversight of identity access: the identity-read log for auditors and administrators.

use super::enums::Role;
use super::objects::{Account, PageInfo};
use super::scalars::DateTime;
use super::{allow, app, parse_id};
use crate::authz::Op;
use crate::error::ApiError;
use crate::privacy::{self, ReadFilter};
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use projections::store;

type Res<T> = Result<T, ApiError>;

/// One decryption of a client's identity for a response. It names the case, never the
/// client.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct IdentityRead {
    pub id: ID,
    pub read_at: DateTime,
    pub account_id: ID,
    /// The role the account read as.
    pub role: Role,
    pub case_id: ID,
    /// The identity fields the request asked for (`fullName`, `dateOfBirth`, `contact`,
    /// `documentNumber`, `narrative`).
    pub fields: Vec<String>,
    /// Why, as the reader stated it (required of coordinators).
    pub purpose: Option<String>,
    /// The request's correlation id (`x-request-id`), to find it in the server logs.
    pub request_id: String,
}

#[ComplexObject]
impl IdentityRead {
    /// The reader's account.
    async fn account(&self, ctx: &Context<'_>) -> Res<Option<Account>> {
        Ok(store::account_by_id(&app(ctx)?.db, self.account_id.as_str()).await?.map(Account))
    }
}

#[derive(SimpleObject)]
pub struct IdentityReadEdge {
    pub node: IdentityRead,
    pub cursor: String,
}

#[derive(SimpleObject)]
pub struct IdentityReadConnection {
    pub edges: Vec<IdentityReadEdge>,
    pub page_info: PageInfo,
    pub total_count: i32,
}

fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("read:{id}"))
}

fn decode_cursor(cursor: &str) -> Res<i64> {
    let bad = || ApiError::BadInput("after is not a cursor returned by identityReads".into());
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let s = String::from_utf8(raw).map_err(|_| bad())?;
    s.strip_prefix("read:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

fn to_node(r: privacy::IdentityRead) -> Res<IdentityRead> {
    let role: domain::values::Role = r.role.parse().map_err(ApiError::internal)?;
    Ok(IdentityRead {
        id: ID(r.id.to_string()),
        read_at: DateTime(r.read_at),
        account_id: ID(r.account_id),
        role: role.into(),
        case_id: ID(r.case_id),
        fields: r.fields,
        purpose: r.purpose,
        request_id: r.request_id,
    })
}

/// Queries about access to client identity.
#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Who read which client's identity, oldest first: `first` (1–100, default 20) after
    /// the cursor `after`, narrowed to one case and/or one account (an account's identity
    /// activity). AUDITOR and ADMIN only.
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn identity_reads(
        &self,
        ctx: &Context<'_>,
        case_id: Option<ID>,
        account_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Res<IdentityReadConnection> {
        allow(ctx, Op::ReadIdentityLog)?;
        let first = first.unwrap_or(20);
        if !(1..=100).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 100".into()));
        }
        let filter = ReadFilter {
            case_id: case_id.as_ref().map(|i| parse_id("caseId", i)).transpose()?.map(|u| u.to_string()),
            account_id: account_id.as_ref().map(|i| parse_id("accountId", i)).transpose()?.map(|u| u.to_string()),
        };
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let page = privacy::list(&app(ctx)?.db, &filter, i64::from(first), after).await?;
        let end_cursor = page.reads.last().map(|r| encode_cursor(r.id));
        let edges = page
            .reads
            .into_iter()
            .map(|r| Ok(IdentityReadEdge { cursor: encode_cursor(r.id), node: to_node(r)? }))
            .collect::<Res<Vec<_>>>()?;
        Ok(IdentityReadConnection {
            edges,
            page_info: PageInfo { has_next_page: page.has_next, end_cursor },
            total_count: page.total as i32,
        })
    }
}
