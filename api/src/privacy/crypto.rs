//! Field-level encryption of client identity (AES-256-GCM).
//!
//! Each case has its own random data key; the data key is stored only wrapped (encrypted)
//! by the master key, which lives outside the database (a file named by
//! `PROBONO_MASTER_KEY_FILE`). Destroying a case's wrapped data key makes every copy of its
//! identity ciphertext unreadable: that is how erasure works without rewriting events.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use domain::Sealed;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

pub const ALG: &str = "A256GCM";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("master key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("decryption failed (wrong key or altered data)")]
    Decrypt,
    #[error("malformed envelope")]
    Malformed,
}

/// A 256-bit key whose bytes never appear in `Debug` output or logs.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

impl Key {
    /// Wraps (encrypts) another key under this one, bound to `aad`.
    pub(crate) fn wrap_key(&self, aad: &str, key: &Key) -> String {
        let (nonce, ct) = self.encrypt(&key.0, aad.as_bytes());
        B64.encode([nonce, ct].concat())
    }

    /// Opens what [`Key::wrap_key`] wrapped with the same `aad`.
    pub(crate) fn unwrap_key(&self, aad: &str, wrapped: &str) -> Result<Key, CryptoError> {
        let raw = B64.decode(wrapped).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 {
            return Err(CryptoError::Malformed);
        }
        let pt = self.decrypt(&raw[..12], &raw[12..], aad.as_bytes())?;
        let arr: [u8; 32] = pt.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(Key(arr))
    }

    pub(crate) fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub(crate) fn from_hex(text: &str) -> Option<Key> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(Key(bytes.try_into().ok()?))
    }

    pub fn random() -> Key {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Key(k)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    fn encrypt(&self, plaintext: &[u8], aad: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        // AES-GCM encryption only fails for inputs larger than 64 GiB.
        let ct = self.cipher().encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad }).unwrap_or_default();
        (nonce.to_vec(), ct)
    }

    fn decrypt(&self, nonce: &[u8], ct: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if nonce.len() != 12 {
            return Err(CryptoError::Malformed);
        }
        self.cipher().decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad }).map_err(|_| CryptoError::Decrypt)
    }
}

/// The key that wraps every data key.
#[derive(Debug, Clone)]
pub struct MasterKey {
    key: Key,
    id: String,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        let id =
            hex::encode(&Sha256::new().chain_update(b"probono master key id\n").chain_update(bytes).finalize()[..8]);
        MasterKey { key: Key(bytes), id }
    }

    /// A short fingerprint that names the key without revealing it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Reads a key file: 64 hexadecimal characters.
    pub fn load(path: &Path) -> Result<MasterKey, CryptoError> {
        let err = |reason: String| CryptoError::KeyFile { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let bytes = hex::decode(text.trim()).map_err(|_| err("expected 64 hexadecimal characters".into()))?;
        let arr: [u8; 32] =
            bytes.try_into().map_err(|_| err("expected a 256-bit key (64 hexadecimal characters)".into()))?;
        Ok(MasterKey::from_bytes(arr))
    }

    /// Loads the key file, or creates it (mode 0600) when `create` and it does not exist.
    pub fn load_or_create(path: &Path, create: bool) -> Result<(MasterKey, bool), CryptoError> {
        if path.exists() || !create {
            return Ok((MasterKey::load(path)?, false));
        }
        let err = |reason: String| CryptoError::KeyFile { path: path.display().to_string(), reason };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
        }
        let key = Key::random();
        write_private(path, &hex::encode(key.0)).map_err(|e| err(e.to_string()))?;
        Ok((MasterKey::from_bytes(key.0), true))
    }

    /// Writes a new random key file (mode 0600); fails if the file exists.
    pub fn generate(path: &Path) -> Result<MasterKey, CryptoError> {
        let err = |reason: String| CryptoError::KeyFile { path: path.display().to_string(), reason };
        let key = Key::random();
        write_private(path, &hex::encode(key.0)).map_err(|e| err(e.to_string()))?;
        Ok(MasterKey::from_bytes(key.0))
    }

    /// Wraps a data key for storage, bound to its case.
    pub fn wrap(&self, case_id: &str, dk: &Key) -> String {
        let (nonce, ct) = self.key.encrypt(&dk.0, format!("probono data key\n{case_id}").as_bytes());
        B64.encode([nonce, ct].concat())
    }

    /// Seals a small secret (the key-epoch file) under the master key, bound to `aad`.
    pub(crate) fn seal_blob(&self, aad: &str, plaintext: &[u8]) -> String {
        let (nonce, ct) = self.key.encrypt(plaintext, aad.as_bytes());
        B64.encode([nonce, ct].concat())
    }

    /// Opens what [`MasterKey::seal_blob`] sealed.
    pub(crate) fn open_blob(&self, aad: &str, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let raw = B64.decode(sealed).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 {
            return Err(CryptoError::Malformed);
        }
        self.key.decrypt(&raw[..12], &raw[12..], aad.as_bytes())
    }

    pub fn unwrap(&self, case_id: &str, wrapped: &str) -> Result<Key, CryptoError> {
        let raw = B64.decode(wrapped).map_err(|_| CryptoError::Malformed)?;
        if raw.len() < 12 {
            return Err(CryptoError::Malformed);
        }
        let pt = self.key.decrypt(&raw[..12], &raw[12..], format!("probono data key\n{case_id}").as_bytes())?;
        let arr: [u8; 32] = pt.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(Key(arr))
    }
}

/// Writes a new file (never over an existing one) readable only by its owner.
#[cfg(unix)]
pub(crate) fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

/// Seals `plaintext` with a case's data key. `purpose` separates identity from notes, so
/// one ciphertext cannot be passed off as the other.
pub fn seal(dk: &Key, case_id: &str, purpose: &str, plaintext: &[u8]) -> Sealed {
    let (nonce, ct) = dk.encrypt(plaintext, format!("probono {purpose}\n{case_id}").as_bytes());
    Sealed { alg: ALG.to_string(), nonce: B64.encode(nonce), ciphertext: B64.encode(ct) }
}

pub fn open(dk: &Key, case_id: &str, purpose: &str, sealed: &Sealed) -> Result<Vec<u8>, CryptoError> {
    if sealed.alg != ALG {
        return Err(CryptoError::Malformed);
    }
    let nonce = B64.decode(&sealed.nonce).map_err(|_| CryptoError::Malformed)?;
    let ct = B64.decode(&sealed.ciphertext).map_err(|_| CryptoError::Malformed)?;
    dk.decrypt(&nonce, &ct, format!("probono {purpose}\n{case_id}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_identity_opens_only_with_its_key_case_and_purpose() {
        let mk = MasterKey::from_bytes([7; 32]);
        let dk = Key::random();
        let wrapped = mk.wrap("case-1", &dk);
        let dk2 = mk.unwrap("case-1", &wrapped).unwrap();
        let s = seal(&dk, "case-1", "identity", b"Ainura");
        assert!(!s.ciphertext.contains("Ainura"));
        assert_eq!(open(&dk2, "case-1", "identity", &s).unwrap(), b"Ainura");
        assert!(open(&dk2, "case-2", "identity", &s).is_err());
        assert!(open(&dk2, "case-1", "note", &s).is_err());
        assert!(open(&Key::random(), "case-1", "identity", &s).is_err());
        assert!(mk.unwrap("case-2", &wrapped).is_err());
        assert!(MasterKey::from_bytes([8; 32]).unwrap("case-1", &wrapped).is_err());
    }

    #[test]
    fn a_generated_key_file_is_private_and_reloads() {
        let dir = std::env::temp_dir().join(format!("probono-key-{}", uuid::Uuid::new_v4()));
        let path = dir.join("master.key");
        let (k1, created) = MasterKey::load_or_create(&path, true).unwrap();
        assert!(created);
        let (k2, created) = MasterKey::load_or_create(&path, true).unwrap();
        assert!(!created);
        assert_eq!(k1.id(), k2.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(format!("{k1:?}").contains("redacted"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
