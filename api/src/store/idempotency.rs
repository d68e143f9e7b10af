//! The `idempotency_keys` table: which mutation an account already sent under a key, and
//! its answer.

use projections::Db;

/// One stored key.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stored {
    pub request_hash: String,
    pub created_at: String,
    pub status: Option<i64>,
    pub response: Option<String>,
}

/// Claims `key` for a new request; `false` when the account already used it.
pub async fn claim(db: &Db, account: &str, key: &str, hash: &str, now: &str) -> Result<bool, sqlx::Error> {
    let n = projections::on_db!(db, p => sqlx::query(
        "INSERT INTO idempotency_keys (account_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, idem_key) DO NOTHING")
        .bind(account).bind(key).bind(hash).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

pub async fn get(db: &Db, account: &str, key: &str) -> Result<Option<Stored>, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query_as::<_, Stored>(
        "SELECT request_hash, created_at, status, response FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2")
        .bind(account).bind(key).fetch_optional(p).await)
}

/// Records the answer of the request that claimed `key`.
pub async fn finish(db: &Db, account: &str, key: &str, status: i64, response: Option<&str>) -> Result<(), sqlx::Error> {
    projections::on_db!(db, p => sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 WHERE account_id = $1 AND idem_key = $2")
        .bind(account).bind(key).bind(status).bind(response).execute(p).await.map(|_| ()))
}

/// Forgets the account's keys created before `cutoff` (RFC 3339, compared as text).
pub async fn expire(db: &Db, account: &str, cutoff: &str) -> Result<(), sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1 AND created_at < $2")
        .bind(account).bind(cutoff).execute(p).await.map(|_| ()))
}

/// Forgets `key`.
pub async fn release(db: &Db, account: &str, key: &str) -> Result<(), sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM idempotency_keys WHERE account_id = $1 AND idem_key = $2")
        .bind(account).bind(key).execute(p).await.map(|_| ()))
}
