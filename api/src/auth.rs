//! Bearer tokens: 256 random bits, shown once, stored only as a SHA-256 hash, tied to an
//! account (role and scope), revocable and optionally expiring.

use crate::error::ApiError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use domain::values::Role;
use domain::Actor;
use projections::{store, Db};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const PREFIX: &str = "pbl_";

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: Uuid,
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub lawyer_id: Option<Uuid>,
    /// False for a LAWYER account whose lawyer the coordinators deactivated: such an
    /// account keeps its token but no longer reaches the cases still assigned to it.
    pub lawyer_active: bool,
    pub token_id: Uuid,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: self.account_id,
            role: self.role,
            organization_id: self.organization_id,
            lawyer_id: self.lawyer_id,
        }
    }
}

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

fn parse_uuid(s: &Option<String>) -> Option<Uuid> {
    s.as_deref().and_then(|s| Uuid::parse_str(s).ok())
}

/// Resolves an `Authorization` header value to the caller, or `UNAUTHENTICATED`.
pub async fn authenticate(db: &Db, header: Option<&str>) -> Result<Principal, ApiError> {
    let token = header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| t.starts_with(PREFIX) && t.len() < 128)
        .ok_or(ApiError::Unauthenticated)?;
    let t = store::token_by_hash(db, &hash_token(token)).await?.ok_or(ApiError::Unauthenticated)?;
    if t.revoked {
        return Err(ApiError::Unauthenticated);
    }
    if let Some(exp) = t.expires_at.as_deref() {
        let expired = chrono::DateTime::parse_from_rfc3339(exp).map(|e| e <= chrono::Utc::now()).unwrap_or(true);
        if expired {
            return Err(ApiError::Unauthenticated);
        }
    }
    let a = store::account_by_id(db, &t.account_id).await?.ok_or(ApiError::Unauthenticated)?;
    if a.disabled {
        return Err(ApiError::Unauthenticated);
    }
    let role: Role = a.role.parse().map_err(ApiError::internal)?;
    let lawyer_active = match (&role, &a.lawyer_id) {
        (Role::Lawyer, Some(l)) => store::lawyer_by_id(db, l).await?.is_some_and(|l| l.active),
        _ => true,
    };
    Ok(Principal {
        account_id: Uuid::parse_str(&a.id).map_err(ApiError::internal)?,
        name: a.name,
        role,
        organization_id: parse_uuid(&a.organization_id),
        lawyer_id: parse_uuid(&a.lawyer_id),
        lawyer_active,
        token_id: Uuid::parse_str(&t.token_id).map_err(ApiError::internal)?,
    })
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
}
