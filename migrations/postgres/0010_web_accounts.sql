-- The web app's sign-in (api::web, api::app::sign_in). Numbered 0010 to leave room: the
-- migrator applies files in order and a gap is harmless.
--
-- A web user is a username and password for an account (role and scope live on the
-- account's own stream). The password is an argon2id hash; the TOTP secret is sealed under
-- the master key (never stored in clear). Sessions are stored by the SHA-256 of the cookie
-- value, so a copy of this table opens no session. No row holds anything about a client.
CREATE TABLE web_users
(
    username      text PRIMARY KEY,
    account_id    text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    totp_sealed   text,
    -- The 30-second step of the last code accepted: a code is never accepted twice.
    totp_last_step bigint,
    created_at    text NOT NULL
);

CREATE TABLE web_sessions
(
    id_hash      text PRIMARY KEY,
    session_id   text NOT NULL UNIQUE,
    account_id   text NOT NULL,
    csrf_token   text NOT NULL,
    -- 1 while the password was right but the second factor is still to be given.
    pending      bigint NOT NULL,
    -- A second-factor secret offered at enrolment, sealed, until the user confirms a code.
    totp_pending text,
    created_at   text NOT NULL,
    last_seen_at text NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

-- One-time invitation links made by an ADMIN: the link carries a secret, stored here as its
-- SHA-256; it expires and works once.
CREATE TABLE web_invitations
(
    token_hash text PRIMARY KEY,
    account_id text NOT NULL,
    created_by text NOT NULL,
    created_at text NOT NULL,
    expires_at text NOT NULL,
    used_at    text
);

-- Every sign-in, failure and sign-out, for auditors. `username` is what was typed (cut to
-- 64 characters); `account_id` is set when it named an account.
CREATE TABLE web_sign_ins
(
    id             text PRIMARY KEY,
    at             text NOT NULL,
    username       text NOT NULL,
    account_id     text,
    outcome        text NOT NULL,
    client_address text
);
CREATE INDEX web_sign_ins_at ON web_sign_ins (at);
