//! One request's context: its language, the session behind its cookie, the CSRF token of
//! its form, sign-in throttling, and the Idempotency-Key a form carries from its render.

use super::forms::Form;
use super::i18n::{Lang, Tr};
use super::WebState;
use crate::access::Op;
use crate::app::idempotency::Claim;
use crate::app::sign_in::WebSession;
use crate::app::Caller;
use crate::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use governor::{DefaultKeyedRateLimiter, Quota};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::num::NonZeroU32;

pub const SESSION_COOKIE: &str = "pbl_session";
pub const LANG_COOKIE: &str = "pbl_lang";
/// The sign-in form's CSRF token, before there is a session (double submit).
pub const PRE_COOKIE: &str = "pbl_pre";

/// Sign-in attempts allowed per username and per client address (`governor`'s keyed GCRA).
pub struct Throttle {
    by_user: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<String>,
}

impl Default for Throttle {
    fn default() -> Self {
        // 10 attempts per username, then one every 12 s; 30 per address, then one every 2 s.
        let per_user = Quota::per_minute(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN));
        let per_address = Quota::per_minute(NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN));
        Throttle {
            by_user: DefaultKeyedRateLimiter::keyed(per_user),
            by_address: DefaultKeyedRateLimiter::keyed(per_address),
        }
    }
}

impl Throttle {
    /// Takes one attempt for this username and address; `false` when either is spent.
    pub fn attempt(&self, username: &str, address: Option<&str>) -> bool {
        let user_ok = self.by_user.check_key(&username.trim().to_lowercase()).is_ok();
        let addr_ok = address.is_none_or(|a| self.by_address.check_key(&a.to_string()).is_ok());
        if self.by_user.len() > 10_000 {
            self.by_user.retain_recent();
        }
        if self.by_address.len() > 10_000 {
            self.by_address.retain_recent();
        }
        user_ok && addr_ok
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// A `Set-Cookie` value: HttpOnly, Secure, SameSite=Strict, for the whole site.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite=Strict{age}"))
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The language a request asks for: `?lang=`, else the remembered cookie, else
/// `Accept-Language`.
pub fn lang_of(headers: &HeaderMap, query: Option<&str>) -> Lang {
    query_lang(query).or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse)).unwrap_or_else(|| {
        Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
    })
}

pub fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v))
}

/// Whether a state-changing request comes from a page of this server.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` even from our own
    // pages; the Fetch Metadata header then says where the request came from.
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).filter(|o| *o != "null") {
        Some(origin) => {
            let authority = origin.split_once("://").map(|(_, a)| a);
            matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
        }
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("same-origin"),
    }
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What every handler knows about its request.
pub struct Ctx {
    pub tr: Tr,
    pub state: WebState,
    pub session: Option<WebSession>,
    pub cookie: Option<String>,
    pub client: Option<String>,
    pub headers: HeaderMap,
    pub path: String,
}

impl FromRequestParts<WebState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query();
        let lang = lang_of(&parts.headers, query);
        let client = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        let cookie = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let session = match &cookie {
            Some(c) => state.app.web_session(c).await.unwrap_or_else(|e| {
                tracing::warn!(code = e.code(), "session look-up failed");
                None
            }),
            None => None,
        };
        Ok(Ctx {
            tr: Tr(lang),
            state: state.clone(),
            session,
            cookie,
            client,
            headers: parts.headers.clone(),
            path: parts.uri.path().to_string(),
        })
    }
}

// A refusal here is the page to answer with: handlers return it as it is, so it is not boxed.
#[allow(clippy::result_large_err)]
impl Ctx {
    pub fn t(&self, id: &str) -> String {
        self.tr.t(id)
    }

    /// The signed-in session (second factor given), or a redirect to sign in.
    pub fn signed_in(&self) -> Result<&WebSession, Response> {
        match &self.session {
            Some(s) if !s.pending => Ok(s),
            _ => Err(Redirect::to("/app/sign-in").into_response()),
        }
    }

    /// The caller of the use cases: the session's principal and a fresh correlation id.
    pub fn caller(&self) -> Result<Caller, Response> {
        let s = self.signed_in()?;
        Ok(Caller::new(s.principal.clone(), uuid::Uuid::new_v4().to_string()))
    }

    /// Whether the signed-in user's role may do `op` at all (case scope aside).
    pub fn may(&self, op: Op) -> bool {
        self.session.as_ref().is_some_and(|s| crate::access::policy::allowed(&s.principal, op, None))
    }

    /// The session's CSRF token (for forms).
    pub fn csrf(&self) -> String {
        self.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default()
    }

    /// Checks a posted form's CSRF token against the session's: a stale or missing one is
    /// refused with a page that says to open the form again.
    pub fn check_csrf(&self, form: &Form) -> Result<(), Response> {
        let ok = match (&self.session, form.get("csrf")) {
            (Some(s), Some(t)) => same_secret(&s.csrf_token, t),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(super::layout::refused(self.tr.lang(), axum::http::StatusCode::FORBIDDEN, "err-csrf"))
        }
    }

    /// Runs a form's change once per render: a second post of the same form (a double
    /// click, a retry after a lost answer) gets the first answer — a redirect to where the
    /// first one led — and records nothing (the Idempotency-Key of GraphQL, in a hidden
    /// field). `run` returns the address to go to next.
    pub async fn once<F>(&self, caller: &Caller, form: &Form, run: F) -> Result<Response, ApiError>
    where
        F: std::future::Future<Output = Result<String, ApiError>>,
    {
        let app = &self.state.app;
        let Some(key) = form.get("idempotencyKey") else {
            return Ok(Redirect::to(&run.await?).into_response());
        };
        let key = format!("web:{}", crate::app::idempotency::parse_key(key)?);
        let mut h = Sha256::new();
        h.update(self.path.as_bytes());
        let mut pairs: Vec<_> = form.pairs().iter().filter(|(k, _)| k != "csrf" && k != "idempotencyKey").collect();
        pairs.sort();
        for (k, v) in pairs {
            h.update([0]);
            h.update(k.as_bytes());
            h.update([1]);
            h.update(v.as_bytes());
        }
        let hash = hex::encode(h.finalize());
        match app.claim_idempotent(caller, &key, &hash).await? {
            Claim::New => match run.await {
                Ok(next) => {
                    app.finish_idempotent(caller, &key, 303, Some(&next)).await?;
                    Ok(Redirect::to(&next).into_response())
                }
                Err(e) => {
                    app.release_idempotent(caller, &key).await?;
                    Err(e)
                }
            },
            Claim::Replay { response, .. } => Ok(Redirect::to(response.as_deref().unwrap_or("/app")).into_response()),
            Claim::InFlight => Err(ApiError::Conflict),
            Claim::Mismatch => Err(ApiError::BadInput("this form was already sent with other values".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn only_this_origin_may_post() {
        assert!(same_origin(&h(&[("host", "ledger.example:8080"), ("origin", "https://ledger.example:8080")])));
        assert!(!same_origin(&h(&[("host", "ledger.example"), ("origin", "https://evil.example")])));
        assert!(!same_origin(&h(&[("host", "ledger.example"), ("origin", "null")])));
        assert!(same_origin(&h(&[("host", "ledger.example"), ("origin", "null"), ("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&h(&[("host", "ledger.example"), ("origin", "null"), ("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&h(&[("host", "ledger.example")])));
        assert!(same_origin(&h(&[("host", "ledger.example"), ("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&h(&[("host", "ledger.example"), ("sec-fetch-site", "cross-site")])));
    }

    #[test]
    fn cookies_are_read_by_name_and_set_strictly() {
        let m = h(&[("cookie", "a=1; pbl_session=abc; pbl_lang=ky")]);
        assert_eq!(cookie(&m, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&m, "missing"), None);
        let set = set_cookie(SESSION_COOKIE, "v", None);
        let s = set.to_str().unwrap();
        for part in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(s.contains(part), "{s}");
        }
    }

    #[test]
    fn the_language_comes_from_the_query_then_the_cookie_then_the_browser() {
        let m = h(&[("cookie", "pbl_lang=ky"), ("accept-language", "en")]);
        assert_eq!(lang_of(&m, Some("lang=en")), Lang::En);
        assert_eq!(lang_of(&m, None), Lang::Ky);
        assert_eq!(lang_of(&h(&[("accept-language", "en-GB")]), None), Lang::En);
        assert_eq!(lang_of(&h(&[]), Some("lang=xx")), Lang::Ru);
    }

    #[test]
    fn sign_in_is_throttled_per_username_and_per_address() {
        let t = Throttle::default();
        for _ in 0..10 {
            assert!(t.attempt("aida", Some("10.0.0.1")));
        }
        assert!(!t.attempt("AIDA", Some("10.0.0.2")), "the username's attempts are spent");
        assert!(t.attempt("bolot", Some("10.0.0.2")), "another username is not");
        let t = Throttle::default();
        let mut allowed = 0;
        for i in 0..40 {
            // Distinct usernames: only the address limit applies.
            if t.attempt(&format!("user{i}"), Some("10.0.0.9")) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 30, "one address gets 30 attempts a minute whatever the usernames");
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
