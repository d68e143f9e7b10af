//! The identity-read log: who decrypted which client's identity, when, which fields and
//! why. The one table the API writes itself (it is not projected from events); it never
//! holds the identity.

use super::{bind_all, Arg};
use crate::db::Db;
use crate::{on_db, Result};
use serde::{Deserialize, Serialize};

/// One decryption of a client's identity for a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct IdentityRead {
    pub id: String,
    pub read_at: String,
    pub case_id: String,
    pub account_id: String,
    pub role: String,
    pub fields: String,
    pub purpose: Option<String>,
    pub correlation_id: Option<String>,
}

pub async fn record_identity_read(db: &Db, r: &IdentityRead) -> Result<()> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO identity_reads (id, read_at, case_id, account_id, role, fields, purpose, correlation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&r.id).bind(&r.read_at).bind(&r.case_id).bind(&r.account_id).bind(&r.role).bind(&r.fields)
        .bind(&r.purpose).bind(&r.correlation_id).execute(p).await?.rows_affected());
    Ok(())
}

/// Identity reads, newest first, optionally for one case and/or one account.
pub async fn identity_reads(
    db: &Db,
    case_id: Option<&str>,
    account_id: Option<&str>,
    limit: i64,
) -> Result<Vec<IdentityRead>> {
    let mut sql = "SELECT id, read_at, case_id, account_id, role, fields, purpose, correlation_id FROM identity_reads WHERE 1 = 1".to_string();
    let mut args: Vec<Arg> = vec![];
    if let Some(c) = case_id {
        args.push(Arg::Text(c.to_string()));
        sql.push_str(&format!(" AND case_id = ${}", args.len()));
    }
    if let Some(a) = account_id {
        args.push(Arg::Text(a.to_string()));
        sql.push_str(&format!(" AND account_id = ${}", args.len()));
    }
    args.push(Arg::Int(limit));
    sql.push_str(&format!(" ORDER BY read_at DESC, id LIMIT ${}", args.len()));
    Ok(on_db!(db, p => bind_all!(sqlx::query_as(&sql), &args).fetch_all(p).await?))
}
