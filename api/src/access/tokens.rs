//! Bearer tokens: 256 random bits, shown once, stored only as a SHA-256 hash, tied to an
//! account (role and scope), revocable and optionally expiring.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "pbl_";

/// A new secret token and the hash that is stored in its place.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token in an `Authorization: Bearer …` header value, when it has the shape of one of
/// ours (anything else is refused before any look-up).
pub fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| t.starts_with(PREFIX) && t.len() < 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_as_hashes() {
        let (a, ha) = new_token();
        let (b, hb) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert_eq!(URL_SAFE_NO_PAD.decode(&a[PREFIX.len()..]).unwrap().len(), 32);
        assert_eq!(ha, hash_token(&a));
        assert_ne!(ha, hb);
        assert!(!ha.contains(&a[PREFIX.len()..]));
    }

    #[test]
    fn only_well_formed_bearer_headers_carry_a_token() {
        let (t, _) = new_token();
        assert_eq!(bearer(Some(&format!("Bearer {t}"))), Some(t.as_str()));
        assert_eq!(bearer(Some(&format!("bearer {t} "))), Some(t.as_str()));
        assert_eq!(bearer(Some(&t)), None);
        assert_eq!(bearer(Some("Bearer abc")), None);
        assert_eq!(bearer(Some(&format!("Bearer pbl_{}", "x".repeat(200)))), None);
        assert_eq!(bearer(None), None);
    }
}
