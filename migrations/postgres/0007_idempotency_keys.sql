-- Idempotency-Key (the IETF HTTP idempotency-key draft): a retried mutation with the same
-- key and body returns the first answer instead of recording the change again. Kept 24 h.
-- `response` is NULL while the first request runs, and stays NULL when its answer held a
-- secret (client identity, a bearer token): such answers are never stored.
CREATE TABLE idempotency_keys
(
    account_id   text NOT NULL,
    idem_key     text NOT NULL,
    request_hash text NOT NULL,
    created_at   text NOT NULL,
    status       bigint,
    response     text,
    PRIMARY KEY (account_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
