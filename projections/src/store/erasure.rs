//! Erasure requests (`rm_erasure_request`): who asked for a client's data to be erased and
//! why, and who decided. Projected from the `ErasureRequest` streams.

use super::{instant_text, Row};
use crate::db::{Db, Tx};
use crate::{on_db, on_tx, Result};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErasureStatus {
    Pending,
    Approved,
    Rejected,
}

impl ErasureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ErasureStatus::Pending => "PENDING",
            ErasureStatus::Approved => "APPROVED",
            ErasureStatus::Rejected => "REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<ErasureStatus> {
        [ErasureStatus::Pending, ErasureStatus::Approved, ErasureStatus::Rejected].into_iter().find(|x| x.as_str() == s)
    }
}

/// One erasure request.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasureRequestRow {
    pub request_id: Uuid,
    pub case_id: Uuid,
    pub reason: String,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub status: ErasureStatus,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

pub(crate) async fn insert_request(
    tx: &mut Tx,
    request_id: Uuid,
    case_id: Uuid,
    reason: &str,
    by: Uuid,
    at: &DateTime<Utc>,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO rm_erasure_request (request_id, case_id, reason, requested_by, requested_at, status) \
         VALUES ($1, $2, $3, $4, $5, 'PENDING') ON CONFLICT (request_id) DO NOTHING")
        .bind(request_id.to_string()).bind(case_id.to_string()).bind(reason).bind(by.to_string()).bind(instant_text(at))
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

pub(crate) async fn decide_request(
    tx: &mut Tx,
    request_id: Uuid,
    status: ErasureStatus,
    by: Uuid,
    at: &DateTime<Utc>,
    reason: Option<&str>,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "UPDATE rm_erasure_request SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5 \
         WHERE request_id = $1")
        .bind(request_id.to_string()).bind(status.as_str()).bind(by.to_string()).bind(instant_text(at)).bind(reason)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

type Columns = (String, String, String, String, String, String, Option<String>, Option<String>, Option<String>);

const COLUMNS: &str =
    "request_id, case_id, reason, requested_by, requested_at, status, decided_by, decided_at, decision_reason";

fn decode(c: Columns) -> Result<ErasureRequestRow> {
    let (request_id, case_id, reason, requested_by, requested_at, status, decided_by, decided_at, decision_reason) = c;
    let row = Row { table: "rm_erasure_request", id: &request_id };
    Ok(ErasureRequestRow {
        request_id: row.uuid("request_id", &request_id)?,
        case_id: row.uuid("case_id", &case_id)?,
        reason,
        requested_by: row.uuid("requested_by", &requested_by)?,
        requested_at: row.instant("requested_at", &requested_at)?,
        status: ErasureStatus::parse(&status).ok_or_else(|| row.corrupt("status", "PENDING, APPROVED or REJECTED"))?,
        decided_by: row.opt_uuid("decided_by", decided_by.as_deref())?,
        decided_at: decided_at.map(|t| row.instant("decided_at", &t)).transpose()?,
        decision_reason,
    })
}

/// Erasure requests, newest first: those in `status` when given, of one case when given.
pub async fn erasure_requests(
    db: &Db,
    status: Option<ErasureStatus>,
    case_id: Option<Uuid>,
) -> Result<Vec<ErasureRequestRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM rm_erasure_request WHERE ($1 = '' OR status = $1) AND ($2 = '' OR case_id = $2) \
         ORDER BY requested_at DESC, request_id LIMIT 1000"
    );
    let status = status.map(|s| s.as_str().to_string()).unwrap_or_default();
    let case = case_id.map(|c| c.to_string()).unwrap_or_default();
    let rows: Vec<Columns> = on_db!(db, p => sqlx::query_as(&sql).bind(&status).bind(&case).fetch_all(p).await?);
    rows.into_iter().map(decode).collect()
}

pub async fn erasure_request(db: &Db, request_id: Uuid) -> Result<Option<ErasureRequestRow>> {
    let sql = format!("SELECT {COLUMNS} FROM rm_erasure_request WHERE request_id = $1");
    let row: Option<Columns> =
        on_db!(db, p => sqlx::query_as(&sql).bind(request_id.to_string()).fetch_optional(p).await?);
    row.map(decode).transpose()
}
