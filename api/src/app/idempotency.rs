//! Idempotency-Key (IETF HTTP idempotency-key draft) for mutations: a client that lost the
//! answer of a change (a time-out, a flaky mobile connection) sends it again with the same
//! key and body, and gets the first answer while nothing is recorded twice. Keys belong to
//! the account that sent them and are kept 24 hours.

use super::{App, Caller};
use crate::error::ApiError;
use crate::store::idempotency as store;
use chrono::{Duration, SecondsFormat, Utc};

type Res<T> = Result<T, ApiError>;

/// How long a key is remembered.
pub const KEEP: Duration = Duration::hours(24);

/// A first request that has not recorded its answer after this long died with its process
/// (requests time out far sooner); its key may be claimed again.
pub const ABANDONED: Duration = Duration::minutes(2);

/// What a request under an Idempotency-Key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use of the key: run the request, then [`App::finish_idempotent`].
    New,
    /// The same request ran before: its answer (HTTP status and JSON body), or `None` when
    /// that answer held a secret and was not kept.
    Replay { status: u16, response: Option<String> },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key has not finished.
    InFlight,
}

/// A key as the draft allows it: 1–255 visible ASCII characters (quotes of a structured
/// string removed).
pub fn parse_key(raw: &str) -> Res<String> {
    let k = raw.trim();
    let k = k.strip_prefix('"').and_then(|k| k.strip_suffix('"')).unwrap_or(k);
    if k.is_empty() || k.len() > 255 || !k.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ApiError::BadInput(
            "Idempotency-Key must be 1 to 255 visible ASCII characters (for example a UUID)".into(),
        ));
    }
    Ok(k.to_string())
}

impl App {
    /// Claims `key` for the caller's request whose body hashes to `request_hash`.
    #[tracing::instrument(skip_all)]
    pub async fn claim_idempotent(&self, caller: &Caller, key: &str, request_hash: &str) -> Res<Claim> {
        let account = caller.principal.account_id.to_string();
        let now = Utc::now();
        let cutoff = (now - KEEP).to_rfc3339_opts(SecondsFormat::Micros, true);
        store::expire(&self.db, &account, &cutoff).await?;
        let stamp = now.to_rfc3339_opts(SecondsFormat::Micros, true);
        if store::claim(&self.db, &account, key, request_hash, &stamp).await? {
            return Ok(Claim::New);
        }
        let Some(stored) = store::get(&self.db, &account, key).await? else {
            // Expired and removed between the two statements: claim it anew.
            return Ok(if store::claim(&self.db, &account, key, request_hash, &stamp).await? {
                Claim::New
            } else {
                Claim::InFlight
            });
        };
        if stored.request_hash != request_hash {
            return Ok(Claim::Mismatch);
        }
        if stored.status.is_none() && stored.created_at < (now - ABANDONED).to_rfc3339_opts(SecondsFormat::Micros, true)
        {
            store::release(&self.db, &account, key).await?;
            return Ok(if store::claim(&self.db, &account, key, request_hash, &stamp).await? {
                Claim::New
            } else {
                Claim::InFlight
            });
        }
        Ok(match stored.status {
            None => Claim::InFlight,
            Some(status) => Claim::Replay { status: status as u16, response: stored.response },
        })
    }

    /// Forgets `key` after a request whose failure says nothing about the change (a conflict,
    /// the store unavailable, an internal error), so that the client's retry runs it.
    pub async fn release_idempotent(&self, caller: &Caller, key: &str) -> Res<()> {
        let account = caller.principal.account_id.to_string();
        Ok(store::release(&self.db, &account, key).await?)
    }

    /// Records the answer of a request that claimed `key` (`None`: it held a secret).
    pub async fn finish_idempotent(&self, caller: &Caller, key: &str, status: u16, response: Option<&str>) -> Res<()> {
        let account = caller.principal.account_id.to_string();
        Ok(store::finish(&self.db, &account, key, i64::from(status), response).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert_eq!(parse_key(" \"8e6b-42\" ").unwrap(), "8e6b-42");
        assert_eq!(parse_key("form-1f3a").unwrap(), "form-1f3a");
        for bad in ["", "\"\"", "has space", "ключ", &"k".repeat(256)] {
            assert_eq!(parse_key(bad).unwrap_err().code(), "BAD_USER_INPUT", "{bad:?}");
        }
    }
}
