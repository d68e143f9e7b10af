//! Backups that restore: `probono backup` writes a consistent copy of a running ledger,
//! `probono restore` puts one into a new database and proves it is whole — the read models
//! rebuilt from its events (checkpoints reset), every data key opened with the master key,
//! every hash chain verified. The raw copies are `store::backup`'s.
//!
//! A backup never contains the master key nor the key-epoch file: both are backed up apart
//! (docs/operations.md#keys), and a restore needs them beside the restored database, or
//! named by `--master-key-file` (the key-epoch file beside it). A backup taken before an
//! erasure is under an epoch that erasure destroyed: no identity in it opens again
//! (docs/adr/0009-key-epochs.md); `--without-identities` restores the rest.

use super::{App, StartupError};
use crate::audit;
use crate::config::StoreArgs;
use crate::error::ApiError;
use crate::privacy::crypto::{CryptoError, Key, MasterKey};
use crate::privacy::epochs;
use crate::privacy::keys::{self, KeyError, WrappedRow};
use crate::store::backup::{self as copy, Contents, CopyError, Format};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why a backup or restore failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Copy(#[from] CopyError),
    #[error("{0}")]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Key(#[from] CryptoError),
    #[error("the master key file {path} is missing. A backup holds no master key: copy the key this ledger was written with (kept apart from its backups) to {path}, or point --master-key-file at it, then run the restore again")]
    NoMasterKey { path: String },
    #[error("PROBONO_MASTER_KEY_FILE (or --master-key-file) is required to restore into PostgreSQL: the restore checks that it opens the ledger's data keys")]
    MasterKeyRequired,
    #[error("{target} already holds a ledger with {events} events. Restore into a new database (a new SQLite file, or a database made with `createdb`), or pass --force to replace it, after stopping every server that uses it")]
    NotEmpty { target: String, events: i64 },
    #[error("{path} is {format}; it restores only into a {wanted} database, not {target}")]
    WrongBackend { path: String, format: &'static str, wanted: &'static str, target: String },
    #[error("the master key in {path} does not open the data key of case {case_id} in the backup; nothing was changed. Point --master-key-file at the key the backed-up ledger was written with")]
    WrongKeyForBackup { path: String, case_id: String },
    #[error("the ledger was restored, but the master key in {path} does not open the data key of case {case_id}: no server will start with it. Point PROBONO_MASTER_KEY_FILE at the key the backed-up ledger was written with")]
    WrongKeyAfterRestore { path: String, case_id: String },
    #[error("the backup's {count} data keys are wrapped under key epoch {epoch}, which {file} no longer holds (it holds {held}): an erasure after the backup destroyed that epoch, so no client identity in this backup can be read again, erased or not; nothing was changed. Restore a backup taken after the latest erasure, or pass --without-identities to restore the events, statistics and audit trail with every identity of this backup unreadable")]
    StaleEpoch { epoch: i64, count: i64, file: String, held: String },
    #[error("the key-epoch file {path} is missing, so the master key does not open the data keys of the backup; nothing was changed. A backup holds neither key file: copy this ledger's master key and its key-epoch file (kept apart) beside each other, point --master-key-file at the key, and run the restore again")]
    NoEpochFile { path: String },
    #[error("{0}")]
    Keys(KeyError),
    #[error("{}: {}", .0.code(), .0.message())]
    Api(ApiError),
    #[error("{0}")]
    Database(#[from] projections::Error),
}

impl From<ApiError> for BackupError {
    fn from(e: ApiError) -> Self {
        BackupError::Api(e)
    }
}

/// What `probono backup` wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub out: PathBuf,
    pub format: Format,
    /// What the copy holds (counted in the copy, or in the dump's own snapshot).
    pub contents: Contents,
    pub bytes: u64,
    pub sha256: String,
    /// Where the master key this backup needs is expected (not read, and not in the copy).
    pub master_key_file: Option<PathBuf>,
    pub elapsed: Duration,
}

/// Writes a consistent copy of the ledger in `store` to the new file `out` (mode 0600)
/// while servers keep running. Reads only: no migration, no master key.
pub async fn backup(store: &StoreArgs, out: &Path) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let url = &store.database_url;
    let (format, contents) = if copy::is_postgres(url) {
        (Format::PgCustom, copy::pg_backup(url, out).await?)
    } else if url.starts_with("sqlite:") {
        (Format::Sqlite, copy::sqlite_backup(url, out).await?)
    } else {
        return Err(CopyError::UnsupportedUrl(url.clone()).into());
    };
    let (bytes, sha256) = digest(out)?;
    Ok(BackupReport {
        out: out.to_path_buf(),
        format,
        contents,
        bytes,
        sha256,
        master_key_file: store.master_key_path().map(|(p, _)| p),
        elapsed: started.elapsed(),
    })
}

/// The size and SHA-256 of a file, to record beside the backup and check after a transfer.
pub fn digest(path: &Path) -> Result<(u64, String), BackupError> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let file_error = |error| CopyError::File { path: path.display().to_string(), error };
    let mut f = std::fs::File::open(path).map_err(file_error)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(file_error)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((total, hex::encode(h.finalize())))
}

/// What `probono restore` did and verified.
#[derive(Debug)]
pub struct RestoreReport {
    pub from: PathBuf,
    pub format: Format,
    pub bytes: u64,
    pub sha256: String,
    /// The target, without a password.
    pub target: String,
    /// With `--force` over a ledger: how many events it held, and (SQLite) where it was moved.
    pub replaced: Option<(i64, Option<PathBuf>)>,
    /// What the restored ledger holds.
    pub contents: Contents,
    /// SQLite: the copy passed `PRAGMA quick_check` before it was put in place.
    pub integrity_checked: bool,
    /// PostgreSQL: transactions whose ids were renumbered into the restored log order.
    pub transactions_renumbered: i64,
    pub master_key_file: PathBuf,
    pub master_key_id: String,
    pub data_keys_opened: usize,
    /// With `--without-identities`: data keys of the backup under a destroyed epoch, removed.
    pub identities_dropped: u64,
    /// The key epoch the restored ledger wraps data keys under.
    pub key_epoch: i64,
    /// Events the read-model rebuild replayed (its checkpoint is reset to the last).
    pub rebuilt_events: u64,
    pub verification: audit::Outcome,
    /// The copy into place (file copy or pg_restore), and the whole restore.
    pub copy_elapsed: Duration,
    pub elapsed: Duration,
}

impl RestoreReport {
    /// Every hash chain of the restored ledger holds.
    pub fn ok(&self) -> bool {
        self.verification.chains_hold()
    }
}

fn wrong_key(e: KeyError, path: &Path, restored: bool) -> BackupError {
    match e {
        KeyError::WrongMasterKey(case_id) if restored => {
            BackupError::WrongKeyAfterRestore { path: path.display().to_string(), case_id }
        }
        KeyError::WrongMasterKey(case_id) => {
            BackupError::WrongKeyForBackup { path: path.display().to_string(), case_id }
        }
        KeyError::EpochGone { epoch, count, file, held } if !restored => {
            BackupError::StaleEpoch { epoch, count, file, held }
        }
        KeyError::Database(e) => e.into(),
        other => BackupError::Keys(other),
    }
}

/// Opens the backup's data keys with the key files; with `without_identities`, keys of a
/// destroyed epoch are counted instead of refused. Returns how many opened, and the epochs
/// that did not.
fn check_backup_keys(
    master: &MasterKey,
    keks: &BTreeMap<i64, Key>,
    file: &Path,
    key_path: &Path,
    rows: &[WrappedRow],
    without_identities: bool,
) -> Result<usize, BackupError> {
    if keks.is_empty() && rows.iter().any(|r| r.kek_epoch.is_some()) {
        return Err(BackupError::NoEpochFile { path: file.display().to_string() });
    }
    let openable: Vec<WrappedRow> = if without_identities {
        rows.iter().filter(|r| r.kek_epoch.is_none_or(|e| keks.contains_key(&e))).cloned().collect()
    } else {
        rows.to_vec()
    };
    keys::open_rows(master, keks, file, &openable).map_err(|e| wrong_key(e, key_path, false))
}

/// Restores the backup `from` into the database of `store`, which must hold no events
/// unless `force`; then migrates, resets the read models by a rebuild, opens every data key
/// with the master key and verifies every hash chain. Stop the servers of the target first.
pub async fn restore(
    store: &StoreArgs,
    from: &Path,
    force: bool,
    without_identities: bool,
) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    let url = &store.database_url;
    let target = copy::display_url(url);
    let format = Format::of(from)?;
    let wanted = match format {
        Format::Sqlite => ("sqlite://", url.starts_with("sqlite:")),
        Format::PgCustom => ("postgres://", copy::is_postgres(url)),
    };
    if !wanted.1 {
        return Err(BackupError::WrongBackend {
            path: from.display().to_string(),
            format: format.name(),
            wanted: wanted.0,
            target,
        });
    }
    // The key first: without it the restored identities could never be read again.
    let (key_path, _) = store.master_key_path().ok_or(BackupError::MasterKeyRequired)?;
    if !key_path.exists() {
        return Err(BackupError::NoMasterKey { path: key_path.display().to_string() });
    }
    let master = MasterKey::load(&key_path)?;
    let epoch_file = epochs::path_for(&key_path);
    let keks = epochs::read(&epoch_file, &master).map_err(|e| BackupError::Keys(e.into()))?.unwrap_or_default();
    let catalogue = <domain::offense::OffenseCatalogue as cqrs_es::Aggregate>::TYPE;
    let state = copy::target_state(url, catalogue).await?;
    let held = state.events;
    if held > 0 && !force {
        return Err(BackupError::NotEmpty { target, events: held });
    }
    let (bytes, sha256) = digest(from)?;

    let copy_started = Instant::now();
    let mut integrity_checked = false;
    let mut transactions_renumbered = 0;
    let mut moved_aside = None;
    match format {
        Format::Sqlite => {
            let file = copy::sqlite_file(url)?;
            let staged = copy::sqlite_stage(from, &file).await?;
            integrity_checked = true;
            // A wrong key is refused before anything at the target changes.
            let db = staged.open().await?;
            let rows = keys::stored_rows(&db).await.map_err(projections::Error::from);
            db.close().await;
            check_backup_keys(&master, &keks, &epoch_file, &key_path, &rows?, without_identities)?;
            moved_aside = copy::sqlite_put_in_place(staged, &file, held > 0)?;
        }
        Format::PgCustom => {
            let rows: Vec<WrappedRow> = copy::pg_dump_data_keys(from)
                .await?
                .into_iter()
                .map(|(case_id, wrapped_key, kek_epoch)| WrappedRow { case_id, wrapped_key, kek_epoch })
                .collect();
            check_backup_keys(&master, &keks, &epoch_file, &key_path, &rows, without_identities)?;
            copy::pg_restore(from, url, state.has_tables).await?;
            let opts = projections::db::DbOptions { max_connections: 1, ..Default::default() };
            let db = projections::Db::connect(url, &opts).await?;
            let renumbered = copy::renumber_restored_transactions(&db).await;
            db.close().await;
            transactions_renumbered = renumbered?;
        }
    }
    let copy_elapsed = copy_started.elapsed();
    let mut identities_dropped = 0;
    if without_identities {
        let opts = projections::db::DbOptions { max_connections: 1, ..Default::default() };
        let db = projections::Db::connect(url, &opts).await?;
        let dropped = keys::drop_destroyed_epochs(&db, &keks).await;
        db.close().await;
        identities_dropped = dropped.map_err(BackupError::Keys)?;
    }

    // What a server does at start-up: migrate (a backup of an older version catches up) and
    // refuse a master key that does not open the stored data keys.
    let app = App::open(store).await?;
    let result = async {
        let rebuilt_events = app.rebuild_read_models().await?;
        let rows = keys::stored_rows(&app.db).await.map_err(projections::Error::from)?;
        let keks = epochs::read(app.keyring.file(), &app.master_key)
            .map_err(|e| BackupError::Keys(e.into()))?
            .unwrap_or_default();
        let data_keys_opened = keys::open_rows(&app.master_key, &keks, app.keyring.file(), &rows)
            .map_err(|e| wrong_key(e, &key_path, true))?;
        let verification = audit::verify(&app.db, &audit::Scope::All, None, false).await?;
        let contents = copy::contents(&app.db).await?;
        Ok::<_, BackupError>((rebuilt_events, data_keys_opened, verification, contents))
    }
    .await;
    let master_key_id = app.master_key.id().to_string();
    let key_epoch = app.keyring.epoch();
    app.db.close().await;
    let (rebuilt_events, data_keys_opened, verification, contents) = result?;
    Ok(RestoreReport {
        from: from.to_path_buf(),
        format,
        bytes,
        sha256,
        target,
        replaced: (held > 0).then_some((held, moved_aside)),
        contents,
        integrity_checked,
        transactions_renumbered,
        master_key_file: key_path,
        master_key_id,
        data_keys_opened,
        identities_dropped,
        key_epoch,
        rebuilt_events,
        verification,
        copy_elapsed,
        elapsed: started.elapsed(),
    })
}
