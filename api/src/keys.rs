//! Master-key operations: generating a key file and rotating the key that wraps every
//! case's data key (`probono keys generate`, `probono keys rotate`). Operators' guide:
//! docs/operations.md, "Keys".

use crate::config::StoreArgs;
use crate::crypto::{CryptoError, Key, MasterKey};
use projections::db::DbOptions;
use projections::{on_tx, Db, Tx};
use std::path::Path;

/// Rows read and re-wrapped per round trip.
const BATCH: i64 = 500;
/// Case ids named in a refusal (more are counted, not listed).
const NAMED: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    Crypto(#[from] CryptoError),
    #[error("database: {0}")]
    Database(#[from] projections::Error),
    #[error("no current master key: give --master-key-file (or PROBONO_MASTER_KEY_FILE)")]
    MissingKey,
    #[error("the new master key is the key in use ({0}); generate a new one with `probono keys generate`")]
    SameKey(String),
    #[error(
        "{count} data key(s) cannot be unwrapped with the current master key {old} (cases {named}); \
         nothing was changed. Use the master key these were wrapped with as --master-key-file"
    )]
    Unreadable { count: usize, named: String, old: String },
}

impl From<sqlx::Error> for KeyError {
    fn from(e: sqlx::Error) -> Self {
        KeyError::Database(e.into())
    }
}

/// Writes a new random master key to `out` (64 hexadecimal characters, mode 0600). Refuses
/// to overwrite an existing file: that would lose the key it holds.
pub fn generate(out: &Path) -> Result<MasterKey, CryptoError> {
    MasterKey::generate(out)
}

/// `probono keys rotate`: re-wraps the data keys of the database `store` names from its
/// current master key (`--master-key-file`, or the default beside a SQLite database) to the
/// key in `new_key_file`. Neither key file is created or changed.
pub async fn rotate_store(store: &StoreArgs, new_key_file: &Path) -> Result<Rotation, KeyError> {
    let (old_path, _) = store.master_key_path().ok_or(KeyError::MissingKey)?;
    let old = MasterKey::load(&old_path)?;
    let new = MasterKey::load(new_key_file)?;
    let db = Db::connect(&store.database_url, &DbOptions { max_connections: 2, ..DbOptions::default() }).await?;
    db.migrate().await?;
    let result = rotate(&db, &old, &new).await;
    db.close().await;
    result
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    /// Data keys now wrapped by the new key that were wrapped by the old one.
    pub rewrapped: u64,
    /// Data keys that already were wrapped by the new key (a rotation run again, or keys a
    /// server on the new key wrote): checked, left as they are.
    pub already_new: u64,
}

/// Re-wraps every data key with `new`, in one transaction that locks out other writers of
/// `data_keys`: either every key moves to the new master key or none does. Refuses
/// (changing nothing) when any key opens with neither `old` nor, if it says so, `new`.
pub async fn rotate(db: &Db, old: &MasterKey, new: &MasterKey) -> Result<Rotation, KeyError> {
    if old.id() == new.id() {
        return Err(KeyError::SameKey(new.id().to_string()));
    }
    let mut tx = db.begin_write().await?;
    if let Tx::Postgres(c) = &mut tx {
        // Readers go on; intakes and erasures wait until the rotation commits, so no key
        // can be written with the old master key behind our back.
        sqlx::query("LOCK TABLE data_keys IN SHARE ROW EXCLUSIVE MODE").execute(&mut **c).await?;
    }
    let mut rotation =
        Rotation { old_key_id: old.id().to_string(), new_key_id: new.id().to_string(), rewrapped: 0, already_new: 0 };
    let mut unreadable: Vec<String> = Vec::new();
    let mut after = String::new();
    loop {
        let rows: Vec<(String, String, String)> = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT case_id, wrapped_key, master_key_id FROM data_keys WHERE case_id > $1 ORDER BY case_id LIMIT $2")
            .bind(&after).bind(BATCH).fetch_all(&mut **c).await?);
        let Some(last) = rows.last() else { break };
        after = last.0.clone();
        for (case_id, wrapped, key_id) in rows {
            // The recorded key id is a hint; the key that opens the wrapping decides.
            let with_new = (key_id == new.id()).then(|| new.unwrap(&case_id, &wrapped).ok()).flatten();
            if with_new.is_some() {
                rotation.already_new += 1;
                continue;
            }
            let dk: Key = match old.unwrap(&case_id, &wrapped) {
                Ok(k) => k,
                Err(_) => {
                    unreadable.push(case_id);
                    continue;
                }
            };
            if !unreadable.is_empty() {
                // Already refusing: just count what else cannot be read.
                continue;
            }
            let rewrapped = new.wrap(&case_id, &dk);
            on_tx!(&mut tx, c => sqlx::query("UPDATE data_keys SET wrapped_key = $1, master_key_id = $2 WHERE case_id = $3")
                .bind(&rewrapped).bind(new.id()).bind(&case_id).execute(&mut **c).await.map(|_| ()))?;
            rotation.rewrapped += 1;
        }
    }
    if !unreadable.is_empty() {
        // Dropping the transaction rolls it back.
        let mut named = unreadable.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
        if unreadable.len() > NAMED {
            named.push_str(", …");
        }
        return Err(KeyError::Unreadable { count: unreadable.len(), named, old: old.id().to_string() });
    }
    tx.commit().await?;
    // The old wrappings must not linger in the write-ahead log either.
    crate::ledger::scrub_deleted_keys(db).await;
    tracing::info!(
        old_key = %rotation.old_key_id,
        new_key = %rotation.new_key_id,
        rewrapped = rotation.rewrapped,
        already_new = rotation.already_new,
        "master key rotated"
    );
    Ok(rotation)
}

/// How many data keys the configured master key did not wrap, and one such key's id. A
/// server must not run on the wrong key: it could read no identity, and would wrap new
/// data keys with a key the others are not wrapped with.
pub async fn foreign_keys(db: &Db, master_key_id: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    let row: Option<(String,)> = projections::on_db!(db, p => sqlx::query_as(
        "SELECT master_key_id FROM data_keys WHERE master_key_id <> $1 LIMIT 1")
        .bind(master_key_id).fetch_optional(p).await?);
    let Some((other,)) = row else { return Ok(None) };
    let n: i64 = projections::on_db!(db, p => sqlx::query_scalar(
        "SELECT count(*) FROM data_keys WHERE master_key_id <> $1").bind(master_key_id).fetch_one(p).await?);
    Ok(Some((n, other)))
}
