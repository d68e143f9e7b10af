//! The identity-read log (`identity_reads`): every decryption of a client's identity for a
//! response is recorded here — who (account and role), when, which case, which fields were
//! asked for, and the stated purpose — before the identity leaves the server. The log holds
//! no identity. It is append-only (triggers refuse changes) and lives beside the event
//! store, outside the read models, so a projection rebuild never touches it.

use projections::Db;
use sqlx::Row;

/// The `ClientIdentity` fields that carry identity; only they are decrypted and logged.
pub const IDENTITY_FIELDS: &[&str] = &["fullName", "dateOfBirth", "contact", "documentNumber", "narrative"];

/// Longest accepted purpose, in characters.
pub const PURPOSE_MAX: usize = 500;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRead {
    pub id: i64,
    /// RFC 3339, UTC.
    pub read_at: String,
    pub account_id: String,
    /// The role the account read as.
    pub role: String,
    pub case_id: String,
    /// Names from [`IDENTITY_FIELDS`], in that order.
    pub fields: Vec<String>,
    pub purpose: Option<String>,
    /// The correlation id of the request, to find it in the server logs.
    pub request_id: String,
}

/// Appends an entry; `id` and `read_at` are assigned here.
pub async fn record(
    db: &Db,
    account_id: &str,
    role: &str,
    case_id: &str,
    fields: &[&str],
    purpose: Option<&str>,
    request_id: &str,
) -> Result<(), sqlx::Error> {
    let read_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let fields = fields.join(",");
    projections::on_db!(db, p => sqlx::query(
        "INSERT INTO identity_reads (read_at, account_id, role, case_id, fields, purpose, request_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(&read_at).bind(account_id).bind(role).bind(case_id).bind(&fields).bind(purpose).bind(request_id)
        .execute(p).await.map(|_| ()))
}

/// Narrows the log; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct ReadFilter {
    pub case_id: Option<String>,
    pub account_id: Option<String>,
}

/// A page of the log, oldest first.
#[derive(Debug, Clone)]
pub struct ReadPage {
    pub reads: Vec<IdentityRead>,
    pub has_next: bool,
    pub total: i64,
}

/// Entries matching `filter` with an id above `after`, oldest first: a tool that keeps
/// the last cursor can poll for new reads.
pub async fn list(db: &Db, filter: &ReadFilter, first: i64, after: Option<i64>) -> Result<ReadPage, sqlx::Error> {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut args: Vec<&str> = Vec::new();
    for (column, value) in [("case_id", &filter.case_id), ("account_id", &filter.account_id)] {
        if let Some(v) = value {
            args.push(v);
            clauses.push(format!("{column} = ${}", args.len()));
        }
    }
    let wh = clauses.join(" AND ");
    let count_sql = format!("SELECT count(*) FROM identity_reads WHERE {wh}");
    let page_sql = format!(
        "SELECT id, read_at, account_id, role, case_id, fields, purpose, request_id FROM identity_reads \
         WHERE {wh} AND id > ${} ORDER BY id LIMIT ${}",
        args.len() + 1,
        args.len() + 2
    );
    let after = after.unwrap_or(0);
    let (total, rows) = projections::on_db!(db, p => {
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        let mut page = sqlx::query(&page_sql);
        for a in &args {
            count = count.bind(*a);
            page = page.bind(*a);
        }
        let total = count.fetch_one(p).await?;
        let rows = page.bind(after).bind(first + 1).fetch_all(p).await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(IdentityRead {
                    id: r.try_get("id")?,
                    read_at: r.try_get("read_at")?,
                    account_id: r.try_get("account_id")?,
                    role: r.try_get("role")?,
                    case_id: r.try_get("case_id")?,
                    fields: r
                        .try_get::<String, _>("fields")?
                        .split(',')
                        .filter(|f| !f.is_empty())
                        .map(str::to_string)
                        .collect(),
                    purpose: r.try_get("purpose")?,
                    request_id: r.try_get("request_id")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        (total, rows)
    });
    let has_next = rows.len() as i64 > first;
    let reads = rows.into_iter().take(first as usize).collect();
    Ok(ReadPage { reads, has_next, total })
}
