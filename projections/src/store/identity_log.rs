//! The identity-read log: who decrypted which client's identity, when, which fields and
//! why. The one table the API writes itself (it is not projected from events); it never
//! holds the identity.

use super::{bind_all, instant_text, Arg, Row};
use crate::db::Db;
use crate::{on_db, Result};
use chrono::{DateTime, Utc};
use domain::values::Role;
use uuid::Uuid;

/// One decryption of a client's identity for a response.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRead {
    pub id: Uuid,
    pub read_at: DateTime<Utc>,
    pub case_id: Uuid,
    pub account_id: Uuid,
    pub role: Role,
    /// The identity fields the response contained (stored comma-separated).
    pub fields: Vec<String>,
    pub purpose: Option<String>,
    pub correlation_id: Option<String>,
}

pub async fn record_identity_read(db: &Db, r: &IdentityRead) -> Result<()> {
    on_db!(db, p => sqlx::query(
        "INSERT INTO identity_reads (id, read_at, case_id, account_id, role, fields, purpose, correlation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(r.id.to_string()).bind(instant_text(&r.read_at)).bind(r.case_id.to_string()).bind(r.account_id.to_string())
        .bind(r.role.as_str()).bind(r.fields.join(","))
        .bind(&r.purpose).bind(&r.correlation_id).execute(p).await?.rows_affected());
    Ok(())
}

type Columns = (String, String, String, String, String, String, Option<String>, Option<String>);

fn decode((id, read_at, case_id, account_id, role, fields, purpose, correlation_id): Columns) -> Result<IdentityRead> {
    let row = Row { table: "identity_reads", id: &id };
    Ok(IdentityRead {
        id: row.uuid("id", &id)?,
        read_at: row.instant("read_at", &read_at)?,
        case_id: row.uuid("case_id", &case_id)?,
        account_id: row.uuid("account_id", &account_id)?,
        role: row.label("role", &role)?,
        fields: fields.split(',').filter(|f| !f.is_empty()).map(str::to_string).collect(),
        purpose,
        correlation_id,
    })
}

/// Identity reads, newest first, optionally for one case and/or one account.
pub async fn identity_reads(
    db: &Db,
    case_id: Option<Uuid>,
    account_id: Option<Uuid>,
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
    let rows: Vec<Columns> = on_db!(db, p => bind_all!(sqlx::query_as(&sql), &args).fetch_all(p).await?);
    rows.into_iter().map(decode).collect()
}
