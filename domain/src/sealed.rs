//! Encrypted values as the domain sees them: opaque. The edge seals and opens them with a
//! per-case data key (see `api::crypto`); the domain only carries them, so that no
//! plaintext identity can ever be written into an event.

use serde::{Deserialize, Serialize};

/// An authenticated-encryption envelope. `nonce` and `ciphertext` are base64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Algorithm label, so that a future cipher can be told apart.
    pub alg: String,
    pub nonce: String,
    pub ciphertext: String,
}

impl Sealed {
    pub fn is_well_formed(&self) -> bool {
        !self.alg.is_empty() && !self.nonce.is_empty() && !self.ciphertext.is_empty()
    }
}
