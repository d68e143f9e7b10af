//! The web app's sign-in tables (`migrations/*/0010_web_accounts.sql`): users (username,
//! argon2id hash, sealed TOTP secret), sessions stored by the hash of their cookie,
//! one-time invitations, and the sign-in log. Timestamps are RFC 3339 text in UTC, compared
//! as text.

use projections::Db;

type Res<T> = Result<T, sqlx::Error>;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub username: String,
    pub account_id: String,
    pub password_hash: String,
    pub totp_sealed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub session_id: String,
    pub account_id: String,
    pub csrf_token: String,
    pub pending: i64,
    pub created_at: String,
    pub last_seen_at: String,
}

/// A session with what a request needs of its user, in one query.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LiveSessionRow {
    pub session_id: String,
    pub account_id: String,
    pub csrf_token: String,
    pub pending: i64,
    pub created_at: String,
    pub last_seen_at: String,
    pub enrolling: i64,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvitationRow {
    pub account_id: String,
    pub expires_at: String,
    pub used_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInRow {
    pub id: String,
    pub at: String,
    pub username: String,
    pub account_id: Option<String>,
    pub outcome: String,
    pub client_address: Option<String>,
}

/// Inserts a user; `false` when the username or the account already has one.
pub async fn insert_user(db: &Db, u: &UserRow, now: &str) -> Res<bool> {
    let n = projections::on_db!(db, p => sqlx::query(
        "INSERT INTO web_users (username, account_id, password_hash, totp_sealed, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING")
        .bind(&u.username).bind(&u.account_id).bind(&u.password_hash).bind(&u.totp_sealed).bind(now)
        .execute(p).await?.rows_affected());
    Ok(n == 1)
}

pub async fn user_by_name(db: &Db, username: &str) -> Res<Option<UserRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, UserRow>(
        "SELECT username, account_id, password_hash, totp_sealed FROM web_users WHERE username = $1")
        .bind(username).fetch_optional(p).await)
}

pub async fn user_by_account(db: &Db, account_id: &str) -> Res<Option<UserRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, UserRow>(
        "SELECT username, account_id, password_hash, totp_sealed FROM web_users WHERE account_id = $1")
        .bind(account_id).fetch_optional(p).await)
}

/// Stores the sealed TOTP secret of a user who has none yet; `false` when one was set first.
pub async fn set_totp(db: &Db, account_id: &str, sealed: &str) -> Res<bool> {
    let n = projections::on_db!(db, p => sqlx::query(
        "UPDATE web_users SET totp_sealed = $2 WHERE account_id = $1 AND totp_sealed IS NULL")
        .bind(account_id).bind(sealed).execute(p).await?.rows_affected());
    Ok(n == 1)
}

pub async fn insert_session(db: &Db, id_hash: &str, s: &SessionRow) -> Res<()> {
    projections::on_db!(db, p => sqlx::query(
        "INSERT INTO web_sessions (id_hash, session_id, account_id, csrf_token, pending, created_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(id_hash).bind(&s.session_id).bind(&s.account_id).bind(&s.csrf_token).bind(s.pending)
        .bind(&s.created_at).bind(&s.last_seen_at).execute(p).await.map(|_| ()))
}

pub async fn session(db: &Db, id_hash: &str) -> Res<Option<SessionRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, SessionRow>(
        "SELECT session_id, account_id, csrf_token, pending, created_at, last_seen_at FROM web_sessions WHERE id_hash = $1")
        .bind(id_hash).fetch_optional(p).await)
}

pub async fn live_session(db: &Db, id_hash: &str) -> Res<Option<LiveSessionRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, LiveSessionRow>(
        "SELECT s.session_id, s.account_id, s.csrf_token, s.pending, s.created_at, s.last_seen_at, \
         CAST(CASE WHEN s.totp_pending IS NULL THEN 0 ELSE 1 END AS bigint) AS enrolling, u.username \
         FROM web_sessions s JOIN web_users u ON u.account_id = s.account_id WHERE s.id_hash = $1")
        .bind(id_hash).fetch_optional(p).await)
}

pub async fn touch_session(db: &Db, id_hash: &str, now: &str) -> Res<()> {
    projections::on_db!(db, p => sqlx::query("UPDATE web_sessions SET last_seen_at = $2 WHERE id_hash = $1")
        .bind(id_hash).bind(now).execute(p).await.map(|_| ()))
}

/// Marks a session's second factor as given.
pub async fn complete_session(db: &Db, id_hash: &str) -> Res<()> {
    projections::on_db!(db, p => sqlx::query("UPDATE web_sessions SET pending = 0 WHERE id_hash = $1")
        .bind(id_hash).execute(p).await.map(|_| ()))
}

pub async fn delete_session(db: &Db, id_hash: &str) -> Res<()> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1")
        .bind(id_hash).execute(p).await.map(|_| ()))
}

/// Ends every session of an account; returns how many there were.
pub async fn delete_account_sessions(db: &Db, account_id: &str) -> Res<u64> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM web_sessions WHERE account_id = $1")
        .bind(account_id).execute(p).await.map(|r| r.rows_affected()))
}

/// Forgets sessions idle since before `idle_cutoff` or created before `absolute_cutoff`.
pub async fn expire_sessions(db: &Db, idle_cutoff: &str, absolute_cutoff: &str) -> Res<()> {
    projections::on_db!(db, p => sqlx::query("DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_cutoff).bind(absolute_cutoff).execute(p).await.map(|_| ()))
}

pub async fn insert_invitation(
    db: &Db,
    token_hash: &str,
    account_id: &str,
    by: &str,
    now: &str,
    expires: &str,
) -> Res<()> {
    projections::on_db!(db, p => sqlx::query(
        "INSERT INTO web_invitations (token_hash, account_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(token_hash).bind(account_id).bind(by).bind(now).bind(expires).execute(p).await.map(|_| ()))
}

pub async fn invitation(db: &Db, token_hash: &str) -> Res<Option<InvitationRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, InvitationRow>(
        "SELECT account_id, expires_at, used_at FROM web_invitations WHERE token_hash = $1")
        .bind(token_hash).fetch_optional(p).await)
}

/// Uses an invitation once: `false` when it was used (or expired) already.
pub async fn use_invitation(db: &Db, token_hash: &str, now: &str) -> Res<bool> {
    let n = projections::on_db!(db, p => sqlx::query(
        "UPDATE web_invitations SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
        .bind(token_hash).bind(now).execute(p).await?.rows_affected());
    Ok(n == 1)
}

pub async fn record_sign_in(db: &Db, r: &SignInRow) -> Res<()> {
    projections::on_db!(db, p => sqlx::query(
        "INSERT INTO web_sign_ins (id, at, username, account_id, outcome, client_address) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&r.id).bind(&r.at).bind(&r.username).bind(&r.account_id).bind(&r.outcome).bind(&r.client_address)
        .execute(p).await.map(|_| ()))
}

/// The newest `first` sign-in log rows.
pub async fn sign_ins(db: &Db, first: i64) -> Res<Vec<SignInRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, SignInRow>(
        "SELECT id, at, username, account_id, outcome, client_address FROM web_sign_ins ORDER BY at DESC LIMIT $1")
        .bind(first).fetch_all(p).await)
}

/// The newest `first` sign-in log rows of one account.
pub async fn sign_ins_of(db: &Db, account_id: &str, first: i64) -> Res<Vec<SignInRow>> {
    projections::on_db!(db, p => sqlx::query_as::<_, SignInRow>(
        "SELECT id, at, username, account_id, outcome, client_address FROM web_sign_ins WHERE account_id = $1 \
         ORDER BY at DESC LIMIT $2")
        .bind(account_id).bind(first).fetch_all(p).await)
}

/// Sets (or clears) the sealed second-factor secret a pending session is enrolling.
pub async fn set_session_enrolment(db: &Db, id_hash: &str, sealed: Option<&str>) -> Res<()> {
    projections::on_db!(db, p => sqlx::query("UPDATE web_sessions SET totp_pending = $2 WHERE id_hash = $1")
        .bind(id_hash).bind(sealed).execute(p).await.map(|_| ()))
}

pub async fn session_enrolment(db: &Db, id_hash: &str) -> Res<Option<String>> {
    let row: Option<(Option<String>,)> = projections::on_db!(db, p => sqlx::query_as(
        "SELECT totp_pending FROM web_sessions WHERE id_hash = $1")
        .bind(id_hash).fetch_optional(p).await)?;
    Ok(row.and_then(|r| r.0))
}

/// Uses up a TOTP step: `false` when this step (or a later one) was accepted before, so a
/// code seen over someone's shoulder cannot be used again.
pub async fn use_totp_step(db: &Db, account_id: &str, step: i64) -> Res<bool> {
    let n = projections::on_db!(db, p => sqlx::query(
        "UPDATE web_users SET totp_last_step = $2 WHERE account_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)")
        .bind(account_id).bind(step).execute(p).await?.rows_affected());
    Ok(n == 1)
}
