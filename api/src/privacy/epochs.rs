//! The key-epoch file: the key-encryption keys (KEKs) that wrap the data keys, one per
//! epoch, sealed under the master key in a file beside it (`master.key` →
//! `master.key.epochs`). It lives outside the database on purpose: a KEK destroyed in a
//! table would live on in the WAL and in backups, like the data keys it is there to shred
//! (docs/adr/0009-key-epochs.md).
//!
//! The file is replaced atomically — a new file written, fsynced and renamed over the old,
//! then the folder fsynced — and the replaced file's bytes are overwritten with zeros
//! (best effort: a copy-on-write file system or an SSD may keep the old blocks).
//!
//! ```text
//! {"format":"probono key epochs 1","master_key_id":"<id>","sealed":"<base64 nonce‖AES-GCM>"}
//! sealed plaintext: {"epochs":{"<epoch>":"<64 hex>", …}}
//! ```

use super::crypto::{Key, MasterKey};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const FORMAT: &str = "probono key epochs 1";

/// Why the key-epoch file could not be read or written. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EpochFileError {
    #[error("the key-epoch file {path} is sealed under master key {sealed_by}, not {given} (the one given): point PROBONO_MASTER_KEY_FILE at the master key this ledger runs with (after an interrupted `keys rotate`, the new one)")]
    OtherMasterKey { path: String, sealed_by: String, given: String },
    #[error("the key-epoch file {path} does not open with the master key {given}: it was altered or damaged; restore it from its latest copy")]
    Damaged { path: String, given: String },
    #[error("the key-epoch file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("the key-epoch file {path} could not be written: {error}")]
    Write { path: String, error: std::io::Error },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    format: String,
    master_key_id: String,
    sealed: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Plain {
    epochs: BTreeMap<i64, String>,
}

/// Where the key-epoch file of a master key file is.
pub fn path_for(master_key_file: &Path) -> PathBuf {
    let mut name = master_key_file.as_os_str().to_owned();
    name.push(".epochs");
    PathBuf::from(name)
}

fn aad(master: &MasterKey) -> String {
    format!("{FORMAT}\n{}", master.id())
}

/// The KEKs in the file at `path`, or `None` when there is no file.
pub fn read(path: &Path, master: &MasterKey) -> Result<Option<BTreeMap<i64, Key>>, EpochFileError> {
    let unreadable = |reason: String| EpochFileError::Unreadable { path: path.display().to_string(), reason };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e.to_string())),
    };
    let env: Envelope = serde_json::from_str(&text).map_err(|_| unreadable("not a key-epoch file".into()))?;
    if env.format != FORMAT {
        return Err(unreadable(format!("unknown format {:?}", env.format)));
    }
    if env.master_key_id != master.id() {
        return Err(EpochFileError::OtherMasterKey {
            path: path.display().to_string(),
            sealed_by: env.master_key_id,
            given: master.id().to_string(),
        });
    }
    let damaged = || EpochFileError::Damaged { path: path.display().to_string(), given: master.id().to_string() };
    let plain = master.open_blob(&aad(master), &env.sealed).map_err(|_| damaged())?;
    let plain: Plain = serde_json::from_slice(&plain).map_err(|_| damaged())?;
    let mut keks = BTreeMap::new();
    for (epoch, hex) in plain.epochs {
        keks.insert(epoch, Key::from_hex(&hex).ok_or_else(damaged)?);
    }
    Ok(Some(keks))
}

/// Replaces the file at `path` with one holding exactly `keks`, sealed under `master`:
/// written beside it (mode 0600), fsynced, renamed over it, the folder fsynced; then the
/// replaced file's bytes are overwritten. A crash leaves either the old file or the new.
pub fn write(path: &Path, master: &MasterKey, keks: &BTreeMap<i64, Key>) -> Result<(), EpochFileError> {
    let werr = |error| EpochFileError::Write { path: path.display().to_string(), error };
    let plain = Plain { epochs: keks.iter().map(|(e, k)| (*e, k.to_hex())).collect() };
    let mut plain = serde_json::to_vec(&plain).map_err(|e| werr(std::io::Error::other(e)))?;
    let env = Envelope {
        format: FORMAT.into(),
        master_key_id: master.id().into(),
        sealed: master.seal_blob(&aad(master), &plain),
    };
    plain.iter_mut().for_each(|b| *b = 0);
    let text = serde_json::to_string(&env).map_err(|e| werr(std::io::Error::other(e)))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.new-{}", uuid::Uuid::new_v4().simple()));
    super::crypto::write_private(&tmp, &text).map_err(werr)?;
    // Held open across the rename, so its bytes can be overwritten once it has no name.
    let old = std::fs::OpenOptions::new().write(true).open(path).ok();
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(werr(e));
    }
    sync_dir(dir).map_err(werr)?;
    if let Some(f) = old {
        overwrite(f);
    }
    Ok(())
}

/// Removes the file at `path` after overwriting its bytes (a key-epoch file left behind by
/// a rotation to another master key). A missing file is not an error.
pub fn destroy(path: &Path) -> Result<(), EpochFileError> {
    let werr = |error| EpochFileError::Write { path: path.display().to_string(), error };
    match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => {
            overwrite(f);
            std::fs::remove_file(path).map_err(werr)?;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            sync_dir(dir).map_err(werr)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(werr(e)),
    }
}

fn overwrite(mut f: std::fs::File) {
    use std::io::{Seek, Write};
    let len = f.metadata().map(|m| m.len()).unwrap_or(0) as usize;
    let zeros = vec![0u8; len];
    let ok = f.rewind().is_ok() && f.write_all(&zeros).is_ok() && f.sync_all().is_ok();
    if !ok {
        tracing::warn!("could not overwrite a replaced key-epoch file; its blocks are freed, not zeroed");
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reopens_only_with_its_master_key_and_keeps_only_what_was_written() {
        let dir = std::env::temp_dir().join(format!("probono-epochs-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = path_for(&dir.join("master.key"));
        assert_eq!(path, dir.join("master.key.epochs"));
        let mk = MasterKey::from_bytes([3; 32]);
        assert!(read(&path, &mk).unwrap().is_none());
        let (k1, k2) = (Key::random(), Key::random());
        write(&path, &mk, &BTreeMap::from([(1, k1.clone()), (2, k2.clone())])).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&k1.to_hex()) && !text.contains(&k2.to_hex()), "the KEKs are sealed");
        let back = read(&path, &mk).unwrap().unwrap();
        assert_eq!(back.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(back[&2].to_hex(), k2.to_hex());
        write(&path, &mk, &BTreeMap::from([(2, k2.clone())])).unwrap();
        assert_eq!(read(&path, &mk).unwrap().unwrap().keys().copied().collect::<Vec<_>>(), vec![2]);
        let other = MasterKey::from_bytes([4; 32]);
        assert!(matches!(read(&path, &other), Err(EpochFileError::OtherMasterKey { .. })));
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file stays behind");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        destroy(&path).unwrap();
        assert!(!path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
