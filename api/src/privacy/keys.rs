//! Where data keys live: the `data_keys` table, one wrapped key per case. Destroying a
//! case's row is crypto-shredding; rotating re-wraps every row under a new master key.

use super::crypto::{Key, MasterKey};
use projections::Db;

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the data key of case {0} does not open with the current master key")]
    WrongMasterKey(String),
    #[error(transparent)]
    Database(#[from] projections::Error),
}

impl From<sqlx::Error> for KeyError {
    fn from(e: sqlx::Error) -> Self {
        KeyError::Database(e.into())
    }
}

/// How many data keys are stored, and one of them (to check a master key against).
pub async fn stored_keys(db: &Db) -> Result<(i64, Option<(String, String)>), sqlx::Error> {
    let n: i64 = projections::on_db!(db, p => sqlx::query_scalar("SELECT count(*) FROM data_keys").fetch_one(p).await?);
    let sample: Option<(String, String)> = projections::on_db!(db, p => sqlx::query_as(
        "SELECT case_id, wrapped_key FROM data_keys ORDER BY created_at DESC LIMIT 1").fetch_optional(p).await?);
    Ok((n, sample))
}

/// Stores a case's wrapped data key.
#[tracing::instrument(skip_all, fields(case_id))]
pub async fn put_data_key(db: &Db, case_id: &str, wrapped: &str, master_key_id: &str) -> Result<(), sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("INSERT INTO data_keys (case_id, wrapped_key, master_key_id) VALUES ($1, $2, $3)")
        .bind(case_id).bind(wrapped).bind(master_key_id).execute(p).await.map(|_| ()))
}

/// A case's wrapped data key, or `None` once destroyed.
#[tracing::instrument(skip_all, fields(case_id))]
pub async fn get_data_key(db: &Db, case_id: &str) -> Result<Option<String>, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query_scalar("SELECT wrapped_key FROM data_keys WHERE case_id = $1")
        .bind(case_id).fetch_optional(p).await)
}

/// Makes, wraps and stores a new data key for a case.
pub async fn new_data_key(db: &Db, master: &MasterKey, case_id: &str) -> Result<Key, sqlx::Error> {
    let dk = Key::random();
    put_data_key(db, case_id, &master.wrap(case_id, &dk), master.id()).await?;
    Ok(dk)
}

/// A case's data key, or `None` when it was destroyed (erased client).
pub async fn data_key(db: &Db, master: &MasterKey, case_id: &str) -> Result<Option<Key>, KeyError> {
    match get_data_key(db, case_id).await? {
        None => Ok(None),
        Some(w) => master.unwrap(case_id, &w).map(Some).map_err(|_| KeyError::WrongMasterKey(case_id.to_string())),
    }
}

/// Opens every stored data key with `master` (nothing is kept); returns how many opened.
/// Fails on the first that does not: e.g. a restored ledger with another ledger's key.
pub async fn check_all(db: &Db, master: &MasterKey) -> Result<usize, KeyError> {
    let rows: Vec<(String, String)> =
        projections::on_db!(db, p => sqlx::query_as("SELECT case_id, wrapped_key FROM data_keys").fetch_all(p).await?);
    check_wrapped(master, &rows)
}

/// [`check_all`] over `(case_id, wrapped_key)` pairs read from elsewhere (a backup).
pub fn check_wrapped(master: &MasterKey, rows: &[(String, String)]) -> Result<usize, KeyError> {
    for (case_id, wrapped) in rows {
        master.unwrap(case_id, wrapped).map_err(|_| KeyError::WrongMasterKey(case_id.clone()))?;
    }
    Ok(rows.len())
}

/// After data keys were deleted or rewritten: on SQLite, copies every page of the
/// write-ahead log into the database and empties the log, so no old image of a key page
/// survives in the files (`secure_delete` zeroes the page itself). On PostgreSQL a deleted
/// row lives until vacuum and in WAL and backups, where the wrapped key is useless without
/// the master key; rotating the master key and destroying the old one shreds those copies.
pub async fn scrub_deleted_keys(db: &Db) {
    let Db::Sqlite(pool) = db else { return };
    for _ in 0..3 {
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(pool).await {
            Ok((0, _, _)) => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            Err(e) => {
                tracing::warn!(error = %e, "write-ahead log checkpoint after a key change failed");
                return;
            }
        }
    }
    tracing::warn!("write-ahead log still busy after a key change; it is truncated at the next checkpoint");
}

/// Destroys a case's data key (crypto-shredding). Returns whether one existed.
#[tracing::instrument(skip_all, fields(case_id))]
pub async fn destroy_data_key(db: &Db, case_id: &str) -> Result<bool, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM data_keys WHERE case_id = $1")
        .bind(case_id).execute(p).await.map(|r| r.rows_affected() > 0))
}

/// Re-wraps every data key from `old` to `new` in one transaction; returns how many. Fails,
/// changing nothing, if any key does not open with `old`.
pub async fn rotate_master_key(db: &Db, old: &MasterKey, new: &MasterKey) -> Result<usize, KeyError> {
    let rows: Vec<(String, String)> =
        projections::on_db!(db, p => sqlx::query_as("SELECT case_id, wrapped_key FROM data_keys").fetch_all(p).await?);
    let mut rewrapped = Vec::with_capacity(rows.len());
    for (case_id, wrapped) in &rows {
        let dk = old.unwrap(case_id, wrapped).map_err(|_| KeyError::WrongMasterKey(case_id.clone()))?;
        rewrapped.push((case_id.clone(), new.wrap(case_id, &dk)));
    }
    let mut tx = db.begin_write().await?;
    for (case_id, wrapped) in &rewrapped {
        projections::on_tx!(&mut tx, c => sqlx::query("UPDATE data_keys SET wrapped_key = $1, master_key_id = $2 WHERE case_id = $3")
            .bind(wrapped).bind(new.id()).bind(case_id).execute(&mut **c).await?.rows_affected());
    }
    tx.commit().await?;
    scrub_deleted_keys(db).await;
    Ok(rewrapped.len())
}
