-- Who decrypted which client's identity, when, which fields and why. Append-only and not a
-- read model: a rebuild never touches it. It holds no identity, only the fact of a read.
CREATE TABLE identity_reads
(
    id             text PRIMARY KEY,
    read_at        text NOT NULL,
    case_id        text NOT NULL,
    account_id     text NOT NULL,
    role           text NOT NULL,
    fields         text NOT NULL,
    purpose        text,
    correlation_id text
);
CREATE INDEX identity_reads_case ON identity_reads (case_id, read_at);
CREATE INDEX identity_reads_account ON identity_reads (account_id, read_at);
