//! Use cases of signing in to the web app: password users (argon2id, strength checked with
//! zxcvbn), a TOTP second factor (RFC 6238) for every role that can read identity, server-side
//! sessions stored by the hash of their cookie (idle 30 minutes, at most 12 hours), ADMIN
//! invitations (expiring, single use), and the sign-in log auditors read.
//!
//! A session stands for its account exactly as a bearer token does: the [`Principal`] it
//! yields carries the account's role and scope and the session's id in place of a token id,
//! so every use case, the policy and the audit metadata treat both the same.

use super::{App, Caller};
use crate::access::{policy, tokens, CaseScope, Op, Principal};
use crate::app::accounts::NewAccount;
use crate::error::ApiError;
use crate::privacy::crypto::{self, Key};
use crate::store::web as store;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use domain::values::Role;
use domain::Sealed;
use uuid::Uuid;

type Res<T> = Result<T, ApiError>;

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::minutes(30);
/// A session ends this long after sign-in, however busy.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// An invitation link works this long.
pub const INVITATION_VALID: Duration = Duration::days(3);
/// Shortest password accepted (the strength estimator decides beyond that).
pub const MIN_PASSWORD: usize = 10;

/// What the sign-in log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOutcome {
    SignedIn,
    FailedPassword,
    FailedOtp,
    Throttled,
    SignedOut,
    SignedOutEverywhere,
    /// An ADMIN ended every session of the account (revoked access or deactivated it).
    RevokedByAdmin,
}

impl SignInOutcome {
    pub const ALL: &'static [SignInOutcome] = &[
        SignInOutcome::SignedIn,
        SignInOutcome::FailedPassword,
        SignInOutcome::FailedOtp,
        SignInOutcome::Throttled,
        SignInOutcome::SignedOut,
        SignInOutcome::SignedOutEverywhere,
        SignInOutcome::RevokedByAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignInOutcome::SignedIn => "SIGNED_IN",
            SignInOutcome::FailedPassword => "FAILED_PASSWORD",
            SignInOutcome::FailedOtp => "FAILED_OTP",
            SignInOutcome::Throttled => "THROTTLED",
            SignInOutcome::SignedOut => "SIGNED_OUT",
            SignInOutcome::SignedOutEverywhere => "SIGNED_OUT_EVERYWHERE",
            SignInOutcome::RevokedByAdmin => "REVOKED_BY_ADMIN",
        }
    }
}

/// Why a password was refused, for the form to say in the user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeakPassword {
    TooShort,
    Guessable,
}

/// A session just made: the cookie value is shown once (to the browser) and stored only as
/// its hash.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf_token: String,
}

/// A live session, as a request presents it.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub principal: Principal,
    pub username: String,
    pub csrf_token: String,
    /// The password was right, the second factor is still to come.
    pub pending: bool,
    /// The session waits for the user to confirm a newly offered second factor.
    pub enrolling: bool,
    pub created_at: DateTime<Utc>,
}

/// What a correct password leads to.
#[derive(Debug, Clone)]
pub enum PasswordStep {
    /// Signed in.
    Done(NewSession),
    /// A second factor is needed: the session is pending until [`App::confirm_otp`].
    NeedOtp(NewSession),
    /// The wrong username or password (said the same for both).
    Refused,
}

/// One row of the sign-in log.
#[derive(Debug, Clone)]
pub struct SignInEntry {
    pub at: DateTime<Utc>,
    pub username: String,
    pub account_id: Option<Uuid>,
    pub outcome: String,
    pub client_address: Option<String>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A username as stored: trimmed, lower case, 3–64 letters, digits, `.`, `-`, `_`.
pub fn parse_username(raw: &str) -> Res<String> {
    let u = raw.trim().to_lowercase();
    let ok =
        (3..=64).contains(&u.chars().count()) && u.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !ok {
        return Err(ApiError::BadInput("a username is 3 to 64 letters, digits, dots, dashes or underscores".into()));
    }
    Ok(u)
}

/// Checks a new password: long enough, and not guessable by zxcvbn's estimate (score 3 of 4
/// at least), counting the username and role as things an attacker knows.
pub fn check_password(password: &str, username: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(WeakPassword::TooShort);
    }
    let score = zxcvbn::zxcvbn(password, &[username, "probono", "ledger"]).score();
    if (score as u8) < 3 {
        return Err(WeakPassword::Guessable);
    }
    Ok(())
}

fn hash_password(password: &str) -> Res<String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(ApiError::internal)
}

fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A hash to verify against when the username is unknown, so both cases take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that opens nothing").unwrap_or_default())
}

/// Whether an account of this role can ever read a client's identity (then it needs a second
/// factor): asked of the one policy with the widest scope such an account could have.
pub fn reads_identity(role: Role) -> bool {
    let (org, lawyer) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let p = Principal {
        account_id: Uuid::nil(),
        name: String::new(),
        role,
        organization_id: Some(org),
        lawyer_id: Some(lawyer),
        token_id: Uuid::nil(),
        approved: true,
    };
    let scope =
        CaseScope { organization_id: org, lawyer_id: Some(lawyer), data_sharing: true, accepted: true, closed: false };
    policy::allowed(&p, Op::ReadIdentity, Some(&scope))
}

fn totp(secret: &[u8]) -> Res<totp_rs::Totp> {
    totp_rs::Builder::new().with_secret(secret.to_vec()).build().map_err(ApiError::internal)
}

/// The current TOTP code for a base32 secret (what an authenticator app shows).
pub fn totp_code(secret_base32: &str) -> Option<String> {
    totp_code_at(secret_base32, chrono::Utc::now().timestamp().max(0) as u64)
}

/// The TOTP code for a base32 secret at a Unix time.
pub fn totp_code_at(secret_base32: &str, unix_time: u64) -> Option<String> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    let t = totp(secret.as_bytes()).ok()?;
    Some(t.generate(unix_time).to_string())
}

impl App {
    /// Seals a TOTP secret under a key of its own, wrapped by the master key and bound to
    /// the account: a copy of the table gives no second factor away.
    fn seal_secret(&self, account_id: &str, secret: &[u8]) -> Res<String> {
        let dk = Key::random();
        let wrapped = self.master_key.wrap(&format!("totp {account_id}"), &dk);
        let sealed = crypto::seal(&dk, account_id, "totp", secret);
        let json = serde_json::to_string(&(wrapped, sealed)).map_err(ApiError::internal)?;
        Ok(json)
    }

    fn open_secret(&self, account_id: &str, stored: &str) -> Res<Vec<u8>> {
        let (wrapped, sealed): (String, Sealed) = serde_json::from_str(stored).map_err(ApiError::internal)?;
        let dk = self.master_key.unwrap(&format!("totp {account_id}"), &wrapped).map_err(ApiError::internal)?;
        crypto::open(&dk, account_id, "totp", &sealed).map_err(ApiError::internal)
    }

    /// Gives an existing account a username and password (the demo seed). ADMIN only.
    pub async fn add_user(&self, caller: &Caller, account_id: Uuid, username: &str, password: &str) -> Res<String> {
        caller.allow(Op::CreateAccessToken)?;
        if self.account(account_id).await?.is_none() {
            return Err(ApiError::NotFound(format!("no account {account_id}")));
        }
        self.insert_user(account_id, username, password).await
    }

    /// Stores a username and password for an account (`probono user create`, the demo seed
    /// and an accepted invitation come here).
    async fn insert_user(&self, account_id: Uuid, username: &str, password: &str) -> Res<String> {
        let username = parse_username(username)?;
        check_password(password, &username).map_err(|w| {
            ApiError::BadInput(match w {
                WeakPassword::TooShort => format!("the password must have at least {MIN_PASSWORD} characters"),
                WeakPassword::Guessable => "the password is too easy to guess; use four or more unrelated words".into(),
            })
        })?;
        let row = store::UserRow {
            username: username.clone(),
            account_id: account_id.to_string(),
            password_hash: hash_password(password)?,
            totp_sealed: None,
        };
        if !store::insert_user(&self.db, &row, &stamp(Utc::now())).await? {
            return Err(ApiError::Rule(format!("the username {username} is taken, or the account already has one")));
        }
        Ok(username)
    }

    /// `probono user create`: an account of `input.role` and scope, signed in to with
    /// `username` and `password`. ADMIN only.
    #[tracing::instrument(skip_all, fields(role = %input.role))]
    pub async fn create_user(&self, caller: &Caller, input: NewAccount, username: &str, password: &str) -> Res<Uuid> {
        caller.allow(Op::CreateAccessToken)?;
        let username = parse_username(username)?;
        if store::user_by_name(&self.db, &username).await?.is_some() {
            return Err(ApiError::Rule(format!("the username {username} is taken")));
        }
        check_password(password, &username).map_err(|_| {
            ApiError::BadInput(format!(
                "the password is too weak: at least {MIN_PASSWORD} characters and hard to guess (four or more unrelated words)"
            ))
        })?;
        let account_id = self.create_account_record(caller, &input).await?;
        self.insert_user(account_id, &username, password).await?;
        Ok(account_id)
    }

    /// An ADMIN invites a person: the account is made now, and the returned secret (for the
    /// link `/app/invitations/{secret}`) lets its holder choose a username and password once,
    /// within [`INVITATION_VALID`].
    #[tracing::instrument(skip_all, fields(role = %input.role))]
    pub async fn invite(&self, caller: &Caller, input: NewAccount) -> Res<(Uuid, String)> {
        caller.allow(Op::CreateAccessToken)?;
        let account_id = self.create_account_record(caller, &input).await?;
        let (secret, hash) = tokens::new_token();
        let now = Utc::now();
        store::insert_invitation(
            &self.db,
            &hash,
            &account_id.to_string(),
            &caller.principal.account_id.to_string(),
            &stamp(now),
            &stamp(now + INVITATION_VALID),
        )
        .await?;
        Ok((account_id, secret))
    }

    /// Whether an invitation link still works (unused, unexpired).
    pub async fn invitation_open(&self, secret: &str) -> Res<bool> {
        let Some(row) = store::invitation(&self.db, &tokens::hash_token(secret)).await? else { return Ok(false) };
        Ok(row.used_at.is_none() && parse_stamp(&row.expires_at).is_some_and(|e| e > Utc::now()))
    }

    /// Accepts an invitation: the account gets its username and password; the link is spent.
    #[tracing::instrument(skip_all)]
    pub async fn accept_invitation(&self, secret: &str, username: &str, password: &str) -> Res<String> {
        let hash = tokens::hash_token(secret);
        let row = store::invitation(&self.db, &hash).await?.ok_or_else(invitation_gone)?;
        let username = parse_username(username)?;
        if store::user_by_name(&self.db, &username).await?.is_some() {
            return Err(ApiError::Rule(format!("the username {username} is taken")));
        }
        check_password(password, &username).map_err(|_| ApiError::BadInput("the password is too weak".into()))?;
        if !store::use_invitation(&self.db, &hash, &stamp(Utc::now())).await? {
            return Err(invitation_gone());
        }
        let account_id: Uuid = row.account_id.parse().map_err(ApiError::internal)?;
        self.insert_user(account_id, &username, password).await
    }

    /// Checks a username and password and opens a session (pending when a second factor is
    /// due). A refusal is recorded; so is a sign-in.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_password(
        &self,
        username: &str,
        password: &str,
        require_totp: bool,
        client: Option<&str>,
    ) -> Res<PasswordStep> {
        let typed: String = username.trim().chars().take(64).collect();
        let user = match parse_username(username) {
            Ok(u) => store::user_by_name(&self.db, &u).await?,
            Err(_) => None,
        };
        let Some(user) = user else {
            let _ = verify_password(password, decoy_hash());
            self.log_sign_in(&typed, None, SignInOutcome::FailedPassword, client).await?;
            return Ok(PasswordStep::Refused);
        };
        let account_id: Uuid = user.account_id.parse().map_err(ApiError::internal)?;
        let account = self.account(account_id).await?;
        let hash = user.password_hash.clone();
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.map_err(ApiError::internal)?;
        let Some(account) = account.filter(|a| ok && !a.disabled) else {
            self.log_sign_in(&user.username, Some(account_id), SignInOutcome::FailedPassword, client).await?;
            return Ok(PasswordStep::Refused);
        };
        let needs_otp = require_totp && reads_identity(account.role);
        let session = self.open_session(account_id, needs_otp).await?;
        if needs_otp {
            return Ok(PasswordStep::NeedOtp(session));
        }
        self.log_sign_in(&user.username, Some(account_id), SignInOutcome::SignedIn, client).await?;
        Ok(PasswordStep::Done(session))
    }

    async fn open_session(&self, account_id: Uuid, pending: bool) -> Res<NewSession> {
        let (cookie, id_hash) = tokens::new_token();
        let (csrf_token, _) = tokens::new_token();
        let now = stamp(Utc::now());
        let row = store::SessionRow {
            session_id: Uuid::new_v4().to_string(),
            account_id: account_id.to_string(),
            csrf_token: csrf_token.clone(),
            pending: i64::from(pending),
            created_at: now.clone(),
            last_seen_at: now,
        };
        store::insert_session(&self.db, &id_hash, &row).await?;
        Ok(NewSession { cookie, csrf_token })
    }

    /// The session a cookie stands for, if it is live; refreshes its idle timer.
    pub async fn web_session(&self, cookie: &str) -> Res<Option<WebSession>> {
        let id_hash = tokens::hash_token(cookie);
        let now = Utc::now();
        // Expired sessions are swept at most once a minute (each request checks its own
        // session's times below, so a stale row never opens anything meanwhile).
        static LAST_SWEEP: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
        let last = LAST_SWEEP.load(std::sync::atomic::Ordering::Relaxed);
        if now.timestamp() - last >= 60 {
            LAST_SWEEP.store(now.timestamp(), std::sync::atomic::Ordering::Relaxed);
            store::expire_sessions(&self.db, &stamp(now - IDLE), &stamp(now - ABSOLUTE)).await?;
        }
        let Some(row) = store::live_session(&self.db, &id_hash).await? else { return Ok(None) };
        let (Some(created), Some(seen)) = (parse_stamp(&row.created_at), parse_stamp(&row.last_seen_at)) else {
            return Ok(None);
        };
        if seen < now - IDLE || created < now - ABSOLUTE {
            store::delete_session(&self.db, &id_hash).await?;
            return Ok(None);
        }
        let account_id: Uuid = row.account_id.parse().map_err(ApiError::internal)?;
        let Some(account) = self.account(account_id).await?.filter(|a| !a.disabled) else { return Ok(None) };
        // The idle timer moves in steps of 15 seconds: not every page view is a write.
        if now - seen >= Duration::seconds(15) {
            store::touch_session(&self.db, &id_hash, &stamp(now)).await?;
        }
        let enrolling = row.enrolling != 0;
        Ok(Some(WebSession {
            principal: Principal {
                account_id,
                name: account.name.clone(),
                role: account.role,
                organization_id: account.organization_id,
                lawyer_id: account.lawyer_id,
                token_id: row.session_id.parse().map_err(ApiError::internal)?,
                approved: account.approved,
            },
            username: row.username,
            csrf_token: row.csrf_token,
            pending: row.pending != 0,
            enrolling,
            created_at: created,
        }))
    }

    /// For a pending session whose user has no second factor yet: a new secret (base32, to
    /// type into an authenticator app), kept sealed with the session until confirmed.
    pub async fn offer_totp(&self, cookie: &str) -> Res<Option<String>> {
        let id_hash = tokens::hash_token(cookie);
        let Some(row) = store::session(&self.db, &id_hash).await? else { return Ok(None) };
        let Some(user) = store::user_by_account(&self.db, &row.account_id).await? else { return Ok(None) };
        if user.totp_sealed.is_some() || row.pending == 0 {
            return Ok(None);
        }
        // The same secret on every render until confirmed: a mistyped code does not change it.
        if let Some(e) = store::session_enrolment(&self.db, &id_hash).await? {
            let bytes = self.open_secret(&row.account_id, &e)?;
            return Ok(Some(totp_rs::Secret::from(bytes.as_slice()).to_base32()));
        }
        let secret = totp_rs::Secret::generate();
        let sealed = self.seal_secret(&row.account_id, secret.as_bytes())?;
        store::set_session_enrolment(&self.db, &id_hash, Some(&sealed)).await?;
        Ok(Some(secret.to_base32()))
    }

    /// Checks the second factor of a pending session: on success the session is complete
    /// (and a secret being enrolled becomes the user's). Recorded either way.
    #[tracing::instrument(skip_all)]
    pub async fn confirm_otp(&self, cookie: &str, code: &str, client: Option<&str>) -> Res<bool> {
        let id_hash = tokens::hash_token(cookie);
        let Some(row) = store::session(&self.db, &id_hash).await? else { return Ok(false) };
        let Some(user) = store::user_by_account(&self.db, &row.account_id).await? else { return Ok(false) };
        let enrolment = store::session_enrolment(&self.db, &id_hash).await?;
        let secret = match (&user.totp_sealed, &enrolment) {
            (Some(s), _) => self.open_secret(&row.account_id, s)?,
            (None, Some(e)) => self.open_secret(&row.account_id, e)?,
            (None, None) => return Ok(false),
        };
        let code: String = code.chars().filter(|c| c.is_ascii_digit()).collect();
        let account_id = row.account_id.parse().ok();
        let fresh = match totp(&secret)?.check_current(&code) {
            Some(step) => store::use_totp_step(&self.db, &row.account_id, step as i64).await?,
            None => false,
        };
        if !fresh {
            self.log_sign_in(&user.username, account_id, SignInOutcome::FailedOtp, client).await?;
            return Ok(false);
        }
        if user.totp_sealed.is_none() {
            if let Some(e) = enrolment {
                store::set_totp(&self.db, &row.account_id, &e).await?;
            }
        }
        store::set_session_enrolment(&self.db, &id_hash, None).await?;
        store::complete_session(&self.db, &id_hash).await?;
        self.log_sign_in(&user.username, account_id, SignInOutcome::SignedIn, client).await?;
        Ok(true)
    }

    /// Ends this session (`everywhere`: every session of its account).
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, cookie: &str, everywhere: bool, client: Option<&str>) -> Res<()> {
        let id_hash = tokens::hash_token(cookie);
        let Some(row) = store::session(&self.db, &id_hash).await? else { return Ok(()) };
        let username = store::user_by_account(&self.db, &row.account_id).await?.map(|u| u.username).unwrap_or_default();
        let account_id = row.account_id.parse().ok();
        if everywhere {
            store::delete_account_sessions(&self.db, &row.account_id).await?;
            self.log_sign_in(&username, account_id, SignInOutcome::SignedOutEverywhere, client).await
        } else {
            store::delete_session(&self.db, &id_hash).await?;
            self.log_sign_in(&username, account_id, SignInOutcome::SignedOut, client).await
        }
    }

    /// Records a sign-in event (the edge records throttled attempts here too).
    pub async fn log_sign_in(
        &self,
        username: &str,
        account_id: Option<Uuid>,
        outcome: SignInOutcome,
        client: Option<&str>,
    ) -> Res<()> {
        let row = store::SignInRow {
            id: Uuid::new_v4().to_string(),
            at: stamp(Utc::now()),
            username: username.chars().take(64).collect(),
            account_id: account_id.map(|a| a.to_string()),
            outcome: outcome.as_str().into(),
            client_address: client.map(str::to_string),
        };
        tracing::info!(outcome = outcome.as_str(), ?account_id, "web sign-in event");
        Ok(store::record_sign_in(&self.db, &row).await?)
    }

    /// The newest sign-ins, failures and sign-outs. AUDITOR and ADMIN.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_log(&self, caller: &Caller, first: i64) -> Res<Vec<SignInEntry>> {
        self.sign_in_history(caller, None, first).await
    }

    /// The newest sign-ins, failures and sign-outs, of one account when given (at most
    /// `first`, 1–1000). AUDITOR and ADMIN.
    #[tracing::instrument(skip_all)]
    pub async fn sign_in_history(
        &self,
        caller: &Caller,
        account_id: Option<Uuid>,
        first: i64,
    ) -> Res<Vec<SignInEntry>> {
        caller.allow(Op::ReadSignInLog)?;
        if !(1..=1000).contains(&first) {
            return Err(ApiError::BadInput("first must be between 1 and 1000".into()));
        }
        let rows = match account_id {
            Some(a) => store::sign_ins_of(&self.db, &a.to_string(), first).await?,
            None => store::sign_ins(&self.db, first).await?,
        };
        Ok(rows
            .into_iter()
            .map(|r| SignInEntry {
                at: parse_stamp(&r.at).unwrap_or_default(),
                username: r.username,
                account_id: r.account_id.and_then(|a| a.parse().ok()),
                outcome: r.outcome,
                client_address: r.client_address,
            })
            .collect())
    }
}

fn invitation_gone() -> ApiError {
    ApiError::NotFound(
        "this invitation link was used already or has expired; ask an administrator for a new one".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_strong_ones_pass() {
        assert_eq!(check_password("short", "anna"), Err(WeakPassword::TooShort));
        assert_eq!(check_password("password123", "anna"), Err(WeakPassword::Guessable));
        assert_eq!(check_password("anna.anna.anna", "anna"), Err(WeakPassword::Guessable));
        assert_eq!(check_password("copper kettle winter orchard", "anna"), Ok(()));
    }

    #[test]
    fn passwords_are_argon2id_and_verify_only_themselves() {
        let h = hash_password("copper kettle winter orchard").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("copper kettle winter orchard", &h));
        assert!(!verify_password("copper kettle winter orchart", &h));
    }

    #[test]
    fn usernames_are_normalised_and_bounded() {
        assert_eq!(parse_username("  Aida.K ").unwrap(), "aida.k");
        for bad in ["ab", "with space", "a/b", &"x".repeat(65)] {
            assert!(parse_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_roles_that_can_read_identity_are_the_policys() {
        assert!(reads_identity(Role::IntakeWorker));
        assert!(reads_identity(Role::Lawyer));
        assert!(reads_identity(Role::Coordinator));
        assert!(!reads_identity(Role::Auditor));
        assert!(!reads_identity(Role::Admin));
    }

    #[test]
    fn a_totp_code_checks_against_its_secret() {
        let s = totp_rs::Secret::generate();
        let code = totp_code(&s.to_base32()).unwrap();
        assert_eq!(code.len(), 6);
        assert!(totp(s.as_bytes()).unwrap().check_current(&code).is_some());
    }
}
