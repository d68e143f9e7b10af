//! Where data keys live: the `data_keys` table, one wrapped key per case, each wrapped
//! under the key-encryption key (KEK) of a key epoch ([`KeyRing`]). The KEKs are in the
//! key-epoch file beside the master key ([`super::epochs`]), never in the database. An
//! erasure deletes the case's row *and* starts a new epoch: every surviving data key is
//! re-wrapped under a new KEK and the old KEK is destroyed, so a copy of the deleted row left
//! in a heap page, the WAL, a backup or a snapshot opens nothing (docs/adr/0009-key-epochs.md).

use super::crypto::{Key, MasterKey};
use super::epochs::{self, EpochFileError};
use projections::db::Tx;
use projections::Db;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// Why a key operation failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the data key of case {0} does not open with the current master key")]
    WrongMasterKey(String),
    #[error("{count} data keys are wrapped under key epoch {epoch}, which the key-epoch file {file} does not hold (it holds {held}): the master key and this file do not open the data keys. If this database was restored from a backup taken before a later erasure, that erasure destroyed the epoch and no identity in the backup can be read again (docs/operations.md#backups-and-restores: restore a newer backup, or `probono restore --without-identities`); otherwise point PROBONO_MASTER_KEY_FILE at this ledger's master key, with its .epochs file beside it")]
    EpochGone { epoch: i64, count: i64, file: String, held: String },
    #[error("the key-epoch file {file} is missing, but the database holds {count} data keys wrapped under key epochs: the master key does not open the data keys without it. Restore {file} from its latest copy (kept apart, like the master key), or point PROBONO_MASTER_KEY_FILE at this ledger's master key; no new file was made, since it would make every identity unreadable")]
    LostEpochFile { file: String, count: i64 },
    #[error("{0}")]
    File(#[from] EpochFileError),
    #[error(transparent)]
    Database(#[from] projections::Error),
}

impl From<sqlx::Error> for KeyError {
    fn from(e: sqlx::Error) -> Self {
        KeyError::Database(e.into())
    }
}

/// One stored data key, as it is in the table (or in a backup).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WrappedRow {
    pub case_id: String,
    pub wrapped_key: String,
    /// `None`: wrapped directly under the master key (before key epochs).
    pub kek_epoch: Option<i64>,
}

/// What binds a wrapped data key to its case and epoch.
fn aad(epoch: i64, case_id: &str) -> String {
    format!("probono data key\nepoch {epoch}\n{case_id}")
}

/// Serialises changes of the key structure across instances (PostgreSQL: a transaction
/// advisory lock; SQLite: `BEGIN IMMEDIATE` already holds the single write lock).
const KEY_LOCK: i64 = 0x7072_6f62_6b65_7973; // "probkeys"

async fn lock_keys(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if let Tx::Postgres(c) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(KEY_LOCK).execute(&mut **c).await?;
    }
    Ok(())
}

async fn current_epoch(tx: &mut Tx, lock: &str) -> Result<Option<i64>, sqlx::Error> {
    match tx {
        Tx::Postgres(c) => {
            sqlx::query_scalar(&format!("SELECT current FROM key_epochs WHERE id = 1 {lock}"))
                .fetch_optional(&mut **c)
                .await
        }
        Tx::Sqlite(c) => {
            sqlx::query_scalar("SELECT current FROM key_epochs WHERE id = 1").fetch_optional(&mut **c).await
        }
    }
}

async fn set_current_epoch(tx: &mut Tx, epoch: i64) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Postgres(c) => sqlx::query(
            "INSERT INTO key_epochs (id, current) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET current = excluded.current, changed_at = now()",
        )
        .bind(epoch)
        .execute(&mut **c)
        .await
        .map(|_| ()),
        Tx::Sqlite(c) => sqlx::query(
            "INSERT INTO key_epochs (id, current) VALUES (1, $1) \
             ON CONFLICT (id) DO UPDATE SET current = excluded.current, \
             changed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        )
        .bind(epoch)
        .execute(&mut **c)
        .await
        .map(|_| ()),
    }
}

async fn rows_in(tx: &mut Tx) -> Result<Vec<WrappedRow>, sqlx::Error> {
    projections::on_tx!(tx, c => sqlx::query_as("SELECT case_id, wrapped_key, kek_epoch FROM data_keys")
        .fetch_all(&mut **c).await)
}

/// Writes re-wrapped keys, all under `epoch`.
async fn rewrite(tx: &mut Tx, epoch: i64, rows: &[(String, String)]) -> Result<(), sqlx::Error> {
    match tx {
        Tx::Postgres(c) => {
            let (ids, keys): (Vec<&str>, Vec<&str>) = rows.iter().map(|(c, w)| (c.as_str(), w.as_str())).unzip();
            sqlx::query(
                "UPDATE data_keys d SET wrapped_key = v.w, kek_epoch = $3 \
                 FROM unnest($1::text[], $2::text[]) AS v(c, w) WHERE d.case_id = v.c",
            )
            .bind(ids)
            .bind(keys)
            .bind(epoch)
            .execute(&mut **c)
            .await?;
        }
        Tx::Sqlite(c) => {
            // One statement over a JSON array of {c, w}, not one per key.
            let batch: Vec<serde_json::Value> =
                rows.iter().map(|(c, w)| serde_json::json!({ "c": c, "w": w })).collect();
            sqlx::query(
                "UPDATE data_keys SET wrapped_key = json_extract(j.value, '$.w'), kek_epoch = $2 \
                 FROM json_each($1) AS j WHERE data_keys.case_id = json_extract(j.value, '$.c')",
            )
            .bind(serde_json::Value::Array(batch).to_string())
            .bind(epoch)
            .execute(&mut **c)
            .await?;
        }
    }
    Ok(())
}

fn held(keks: &BTreeMap<i64, Key>) -> String {
    if keks.is_empty() {
        "no epoch".into()
    } else {
        let list: Vec<String> = keks.keys().map(|e| e.to_string()).collect();
        format!("epoch {}", list.join(", "))
    }
}

/// Opens one wrapped data key with a master key and the KEKs of a key-epoch file.
pub fn open_row(master: &MasterKey, keks: &BTreeMap<i64, Key>, row: &WrappedRow) -> Result<Key, KeyError> {
    let wrong = || KeyError::WrongMasterKey(row.case_id.clone());
    match row.kek_epoch {
        None => master.unwrap(&row.case_id, &row.wrapped_key).map_err(|_| wrong()),
        Some(e) => match keks.get(&e) {
            Some(kek) => kek.unwrap_key(&aad(e, &row.case_id), &row.wrapped_key).map_err(|_| wrong()),
            None => Err(KeyError::EpochGone { epoch: e, count: 1, file: String::new(), held: held(keks) }),
        },
    }
}

/// Opens every row (nothing is kept); returns how many opened. Fails on the first that
/// does not: e.g. a restored ledger with another ledger's key files, or a backup whose
/// epoch a later erasure destroyed ([`KeyError::EpochGone`], counting the rows of that epoch).
pub fn open_rows(
    master: &MasterKey,
    keks: &BTreeMap<i64, Key>,
    file: &Path,
    rows: &[WrappedRow],
) -> Result<usize, KeyError> {
    for row in rows {
        if let Err(e) = open_row(master, keks, row) {
            return Err(match e {
                KeyError::EpochGone { epoch, held, .. } => KeyError::EpochGone {
                    epoch,
                    count: rows.iter().filter(|r| r.kek_epoch == Some(epoch)).count() as i64,
                    file: file.display().to_string(),
                    held,
                },
                other => other,
            });
        }
    }
    Ok(rows.len())
}

/// Whether a wrapped data key opens with the key files on disk now: the master key file
/// and the key-epoch file beside it, read afresh (what anyone holding them could do with a
/// copy of the row).
pub fn opens_with_key_files(master_key_file: &Path, row: &WrappedRow) -> bool {
    let Ok(master) = MasterKey::load(master_key_file) else { return false };
    let keks = epochs::read(&epochs::path_for(master_key_file), &master).ok().flatten().unwrap_or_default();
    open_row(&master, &keks, row).is_ok()
}

/// Every stored data key. A database from before key epochs (a backup not yet migrated)
/// has no `kek_epoch`: its keys are under the master key.
pub async fn stored_rows(db: &Db) -> Result<Vec<WrappedRow>, sqlx::Error> {
    match projections::on_db!(db, p => sqlx::query_as("SELECT case_id, wrapped_key, kek_epoch FROM data_keys").fetch_all(p).await)
    {
        Ok(rows) => Ok(rows),
        Err(sqlx::Error::Database(e)) if e.message().contains("kek_epoch") => {
            projections::on_db!(db, p => sqlx::query_as(
            "SELECT case_id, wrapped_key, NULL AS kek_epoch FROM data_keys").fetch_all(p).await)
        }
        Err(e) => Err(e),
    }
}

/// How many data keys are stored.
pub async fn stored_keys(db: &Db) -> Result<i64, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query_scalar("SELECT count(*) FROM data_keys").fetch_one(p).await)
}

/// A case's stored data key, or `None` once destroyed.
#[tracing::instrument(skip_all, fields(case_id))]
pub async fn get_data_key_row(db: &Db, case_id: &str) -> Result<Option<WrappedRow>, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query_as("SELECT case_id, wrapped_key, kek_epoch FROM data_keys WHERE case_id = $1")
        .bind(case_id).fetch_optional(p).await)
}

/// A case's wrapped data key, or `None` once destroyed.
pub async fn get_data_key(db: &Db, case_id: &str) -> Result<Option<String>, sqlx::Error> {
    Ok(get_data_key_row(db, case_id).await?.map(|r| r.wrapped_key))
}

/// For a restore of a backup from before an erasure (`--without-identities`): deletes the
/// data keys under epochs the key-epoch file no longer holds (no one can open them) and
/// moves the epoch row to the file's newest. Returns how many were deleted.
pub async fn drop_destroyed_epochs(db: &Db, keks: &BTreeMap<i64, Key>) -> Result<u64, KeyError> {
    let mut tx = db.begin_write().await?;
    let rows = rows_in(&mut tx).await?;
    let mut dropped = 0;
    for row in rows.iter().filter(|r| r.kek_epoch.is_some_and(|e| !keks.contains_key(&e))) {
        dropped += projections::on_tx!(&mut tx, c => sqlx::query("DELETE FROM data_keys WHERE case_id = $1")
            .bind(&row.case_id).execute(&mut **c).await?.rows_affected());
    }
    match keks.keys().next_back() {
        Some(newest) => set_current_epoch(&mut tx, *newest).await?,
        None => {
            projections::on_tx!(&mut tx, c => sqlx::query("DELETE FROM key_epochs").execute(&mut **c).await.map(|_| ())?)
        }
    }
    tx.commit().await?;
    scrub_deleted_keys(db).await;
    Ok(dropped)
}

/// What an epoch change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochChange {
    /// The new epoch.
    pub epoch: i64,
    /// Surviving data keys re-wrapped under it.
    pub rewrapped: usize,
    /// The erased case's data key existed and was deleted.
    pub erased: bool,
}

/// The master key and the KEKs of the key epochs: everything that opens data keys.
pub struct KeyRing {
    master: MasterKey,
    file: PathBuf,
    /// The KEKs this process holds (the current epoch; during a change, also the one before).
    keks: RwLock<BTreeMap<i64, Key>>,
    /// One epoch change at a time in this process (across processes: the database lock).
    changing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("master", &self.master.id()).field("file", &self.file).finish_non_exhaustive()
    }
}

impl KeyRing {
    /// What a server does at start-up, in one transaction under the key lock: reads the
    /// key-epoch file beside `master_file` and checks that it and `master` open the stored
    /// data keys (one of each epoch); makes the first epoch when no data key needs an older
    /// one (a new ledger, or one from before key epochs); re-wraps keys from before key
    /// epochs; and destroys KEKs no data key needs any more (finishing an epoch change a
    /// crash interrupted). Never makes a file while data keys need one.
    pub async fn open(db: &Db, master: MasterKey, master_file: &Path) -> Result<KeyRing, KeyError> {
        let file = epochs::path_for(master_file);
        let mut tx = db.begin_write().await?;
        lock_keys(&mut tx).await?;
        let current = current_epoch(&mut tx, "FOR UPDATE").await?;
        let rows = rows_in(&mut tx).await?;
        let mut keks = match epochs::read(&file, &master)? {
            Some(k) => k,
            None => {
                let under_epochs = rows.iter().filter(|r| r.kek_epoch.is_some()).count() as i64;
                if under_epochs > 0 {
                    return Err(KeyError::LostEpochFile { file: file.display().to_string(), count: under_epochs });
                }
                let first = current.unwrap_or(0) + 1;
                let keks = BTreeMap::from([(first, Key::random())]);
                epochs::write(&file, &master, &keks)?;
                tracing::warn!(
                    file = %file.display(), epoch = first,
                    "made the key-epoch file; keep a copy apart with the master key, and replace that copy after every erasure"
                );
                keks
            }
        };
        let current = match current {
            Some(c) => c,
            // A ledger from before key epochs (or a new one): the file's newest epoch.
            None => *keks.keys().next_back().unwrap_or(&1),
        };
        if !keks.contains_key(&current) {
            let count = rows.iter().filter(|r| r.kek_epoch == Some(current)).count() as i64;
            return Err(KeyError::EpochGone {
                epoch: current,
                count,
                file: file.display().to_string(),
                held: held(&keks),
            });
        }
        // One key of each epoch (and of the master key) must open, or nothing starts.
        let mut seen = std::collections::BTreeSet::new();
        let sample: Vec<WrappedRow> = rows.iter().filter(|r| seen.insert(r.kek_epoch)).cloned().collect();
        open_rows(&master, &keks, &file, &sample)?;
        // Keys from before key epochs move into the current one.
        let legacy: Vec<&WrappedRow> = rows.iter().filter(|r| r.kek_epoch.is_none()).collect();
        if !legacy.is_empty() {
            let kek = &keks[&current];
            let mut moved = Vec::with_capacity(legacy.len());
            for row in &legacy {
                let dk = open_row(&master, &keks, row)?;
                moved.push((row.case_id.clone(), kek.wrap_key(&aad(current, &row.case_id), &dk)));
            }
            rewrite(&mut tx, current, &moved).await?;
            tracing::warn!(
                keys = moved.len(), epoch = current,
                "re-wrapped data keys from before key epochs; rotate the master key once (`probono keys rotate`) so old copies of them open nothing"
            );
        }
        set_current_epoch(&mut tx, current).await?;
        tx.commit().await?;
        // KEKs no stored key needs are destroyed (after a crash between the steps of an
        // epoch change, or an intake that was never opened).
        let used: std::collections::BTreeSet<i64> = rows.iter().filter_map(|r| r.kek_epoch).chain([current]).collect();
        let unused: Vec<i64> = keks.keys().copied().filter(|e| !used.contains(e)).collect();
        if !unused.is_empty() {
            keks.retain(|e, _| used.contains(e));
            epochs::write(&file, &master, &keks)?;
            tracing::warn!(?unused, "destroyed key epochs no data key needs (an interrupted epoch change)");
        }
        Ok(KeyRing { master, file, keks: RwLock::new(keks), changing: tokio::sync::Mutex::new(()) })
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The key-epoch file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The newest epoch this process holds.
    pub fn epoch(&self) -> i64 {
        self.keks.read().map(|k| k.keys().next_back().copied().unwrap_or(0)).unwrap_or(0)
    }

    /// The KEK of `epoch`; the file is read again when this process does not hold it (another
    /// instance changed the epoch), keeping only what the file holds.
    fn kek(&self, epoch: i64) -> Result<Option<Key>, KeyError> {
        if let Some(k) = self.keks.read().ok().and_then(|k| k.get(&epoch).cloned()) {
            return Ok(Some(k));
        }
        let fresh = epochs::read(&self.file, &self.master)?.unwrap_or_default();
        let found = fresh.get(&epoch).cloned();
        if let Ok(mut held) = self.keks.write() {
            *held = fresh;
        }
        Ok(found)
    }

    fn open_stored(&self, row: &WrappedRow) -> Result<Option<Key>, KeyError> {
        let wrong = || KeyError::WrongMasterKey(row.case_id.clone());
        match row.kek_epoch {
            None => self.master.unwrap(&row.case_id, &row.wrapped_key).map(Some).map_err(|_| wrong()),
            Some(e) => match self.kek(e)? {
                Some(kek) => kek.unwrap_key(&aad(e, &row.case_id), &row.wrapped_key).map(Some).map_err(|_| wrong()),
                None => Ok(None),
            },
        }
    }

    /// A case's data key, or `None` when it was destroyed (erased client).
    pub async fn data_key(&self, db: &Db, case_id: &str) -> Result<Option<Key>, KeyError> {
        // Read again once if the row's epoch was replaced between reading it and its KEK.
        for _ in 0..2 {
            let Some(row) = get_data_key_row(db, case_id).await? else { return Ok(None) };
            if let Some(k) = self.open_stored(&row)? {
                return Ok(Some(k));
            }
        }
        let row = get_data_key_row(db, case_id).await?;
        let epoch = row.and_then(|r| r.kek_epoch).unwrap_or_default();
        let keks = self.keks.read().map(|k| held(&k)).unwrap_or_default();
        Err(KeyError::EpochGone { epoch, count: 1, file: self.file.display().to_string(), held: keks })
    }

    /// Makes, wraps under the current epoch and stores a new data key for a case. The
    /// epoch row is read under a share lock (PostgreSQL; SQLite: the write lock), so an
    /// epoch change waits for the insert or the insert sees the new epoch — no key is ever
    /// stored under an epoch about to be destroyed.
    #[tracing::instrument(skip_all, fields(case_id))]
    pub async fn new_data_key(&self, db: &Db, case_id: &str) -> Result<Key, KeyError> {
        let dk = Key::random();
        let mut tx = db.begin_write().await?;
        let epoch = current_epoch(&mut tx, "FOR SHARE").await?.unwrap_or(0);
        let kek = self.kek(epoch)?.ok_or_else(|| KeyError::EpochGone {
            epoch,
            count: 0,
            file: self.file.display().to_string(),
            held: self.keks.read().map(|k| held(&k)).unwrap_or_default(),
        })?;
        let wrapped = kek.wrap_key(&aad(epoch, case_id), &dk);
        projections::on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO data_keys (case_id, wrapped_key, master_key_id, kek_epoch) VALUES ($1, $2, $3, $4)")
            .bind(case_id).bind(&wrapped).bind(self.master.id()).bind(epoch).execute(&mut **c).await.map(|_| ())?);
        tx.commit().await?;
        Ok(dk)
    }

    /// Crypto-shredding against every copy: deletes the case's data key and moves every
    /// surviving one to a new epoch whose KEK replaces the old one in the key-epoch file.
    #[tracing::instrument(skip_all, fields(case_id))]
    pub async fn erase(&self, db: &Db, case_id: &str) -> Result<EpochChange, KeyError> {
        self.new_epoch(db, Some(case_id), None).await
    }

    /// Re-wraps every data key from the current master key and key-epoch file to `new`
    /// and a new epoch in the key-epoch file beside `new_file`, and destroys this one. The
    /// running process keeps the old master key: restart every instance with the new one.
    pub async fn rotate_master_key(&self, db: &Db, new: &MasterKey, new_file: &Path) -> Result<EpochChange, KeyError> {
        self.new_epoch(db, None, Some((new, new_file))).await
    }

    /// Starts a new epoch: (1) the new KEK is written to the key-epoch file beside the
    /// current one (fsynced); (2) one transaction deletes the erased key, re-wraps every
    /// other under the new KEK and moves the epoch row; (3) the file is rewritten with the
    /// new KEK only. A crash after (1) leaves an unused KEK, after (2) an old one: start-up
    /// destroys either. Nothing changes if any data key does not open.
    async fn new_epoch(
        &self,
        db: &Db,
        erase: Option<&str>,
        to: Option<(&MasterKey, &Path)>,
    ) -> Result<EpochChange, KeyError> {
        let _one = self.changing.lock().await;
        let (master, file) = match to {
            Some((m, f)) => (m, epochs::path_for(f)),
            None => (&self.master, self.file.clone()),
        };
        let mut tx = db.begin_write().await?;
        lock_keys(&mut tx).await?;
        let current = current_epoch(&mut tx, "FOR UPDATE").await?.unwrap_or(0);
        // The file as it is now (another instance may have changed the epoch).
        let keks = epochs::read(&self.file, &self.master)?.unwrap_or_default();
        let erased = match erase {
            Some(case_id) => projections::on_tx!(&mut tx, c => sqlx::query("DELETE FROM data_keys WHERE case_id = $1")
                .bind(case_id).execute(&mut **c).await?.rows_affected() > 0),
            None => false,
        };
        let rows = rows_in(&mut tx).await?;
        let next = current.max(keks.keys().next_back().copied().unwrap_or(0)) + 1;
        let kek = Key::random();
        // Nothing changes unless every surviving key opens.
        open_rows(&self.master, &keks, &self.file, &rows)?;
        let mut moved = Vec::with_capacity(rows.len());
        for row in &rows {
            let dk = open_row(&self.master, &keks, row)?;
            moved.push((row.case_id.clone(), kek.wrap_key(&aad(next, &row.case_id), &dk)));
        }
        // (1) The new KEK on disk, beside the old ones the database still needs until (2)
        // commits (for a new master key: in the new file, sealed under it).
        let mut both = keks.clone();
        both.insert(next, kek.clone());
        epochs::write(&file, master, &both)?;
        // (2) The database moves to the new epoch.
        rewrite(&mut tx, next, &moved).await?;
        set_current_epoch(&mut tx, next).await?;
        tx.commit().await?;
        if let Ok(mut held) = self.keks.write() {
            *held = BTreeMap::from([(next, kek.clone())]);
        }
        // (3) The old KEKs are destroyed.
        epochs::write(&file, master, &BTreeMap::from([(next, kek)]))?;
        if to.is_some() && file != self.file {
            epochs::destroy(&self.file)?;
        }
        scrub_deleted_keys(db).await;
        tracing::info!(epoch = next, rewrapped = moved.len(), "new key epoch; the previous one is destroyed");
        Ok(EpochChange { epoch: next, rewrapped: moved.len(), erased })
    }
}

/// After data keys were deleted or rewritten: on SQLite, copies every page of the
/// write-ahead log into the database and empties the log, so no old image of a key page
/// survives in the files (`secure_delete` zeroes the page itself). On PostgreSQL a deleted
/// row lives until vacuum and in WAL and backups, where it is wrapped under a destroyed
/// epoch's KEK and opens nothing.
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

/// Deletes the data key of a case that was never opened (its intake failed): no event
/// holds a ciphertext under it, so no new epoch is needed. Returns whether one existed.
#[tracing::instrument(skip_all, fields(case_id))]
pub async fn discard_unused_data_key(db: &Db, case_id: &str) -> Result<bool, sqlx::Error> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM data_keys WHERE case_id = $1")
        .bind(case_id).execute(p).await.map(|r| r.rows_affected() > 0))
}
