//! The sealed part of a client's record: its wire format inside the ciphertext, and the
//! sealing and opening of it. Changing a field's name here makes old records unreadable.

use super::crypto::{self, CryptoError, Key};
use domain::Sealed;
use serde::{Deserialize, Serialize};

/// What `seal`/`open` bind a ciphertext to, besides the case id.
const IDENTITY: &str = "identity";
const NOTE: &str = "note";

/// The client's identity, as stored encrypted.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPlain {
    pub full_name: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
    pub contact: Option<String>,
    pub document_number: Option<String>,
    pub narrative: Option<String>,
}

/// Never print an identity, not even in a debug log.
impl std::fmt::Debug for IdentityPlain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityPlain(<sealed>)")
    }
}

pub fn seal_identity(dk: &Key, case_id: &str, identity: &IdentityPlain) -> Sealed {
    // Serialising a struct of strings cannot fail.
    let bytes = serde_json::to_vec(identity).unwrap_or_default();
    crypto::seal(dk, case_id, IDENTITY, &bytes)
}

pub fn open_identity(dk: &Key, case_id: &str, sealed: &Sealed) -> Result<IdentityPlain, CryptoError> {
    let plain = crypto::open(dk, case_id, IDENTITY, sealed)?;
    serde_json::from_slice(&plain).map_err(|_| CryptoError::Malformed)
}

/// A lawyer's note on a legal action, sealed like identity.
pub fn seal_note(dk: &Key, case_id: &str, note: &str) -> Sealed {
    crypto::seal(dk, case_id, NOTE, note.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_opens_only_for_its_case_and_never_prints() {
        let dk = Key::random();
        let id = IdentityPlain { full_name: "Asel Test".into(), ..Default::default() };
        let sealed = seal_identity(&dk, "case-1", &id);
        assert_eq!(open_identity(&dk, "case-1", &sealed).unwrap(), id);
        assert!(open_identity(&dk, "case-2", &sealed).is_err());
        assert!(!format!("{id:?}").contains("Asel"));
    }
}
