-- The identity-read log: one row per decryption of a client's identity for a response
-- (who, as which role, when, which case, which fields, why). It holds no identity itself.
-- Append-only: the application only inserts, and triggers refuse UPDATE, DELETE and
-- TRUNCATE, so a compromised or buggy application cannot quietly rewrite who read what.
CREATE TABLE identity_reads
(
    id         bigserial PRIMARY KEY,
    read_at    text NOT NULL,
    account_id text NOT NULL,
    role       text NOT NULL,
    case_id    text NOT NULL,
    fields     text NOT NULL,
    purpose    text,
    request_id text NOT NULL
);
CREATE INDEX identity_reads_case ON identity_reads (case_id, id);
CREATE INDEX identity_reads_account ON identity_reads (account_id, id);

CREATE FUNCTION identity_reads_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'identity_reads is append-only';
END
$$;
CREATE TRIGGER identity_reads_no_change BEFORE UPDATE OR DELETE ON identity_reads
    FOR EACH ROW EXECUTE FUNCTION identity_reads_append_only();
CREATE TRIGGER identity_reads_no_truncate BEFORE TRUNCATE ON identity_reads
    FOR EACH STATEMENT EXECUTE FUNCTION identity_reads_append_only();
