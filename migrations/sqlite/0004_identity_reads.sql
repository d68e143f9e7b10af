-- The identity-read log: one row per decryption of a client's identity for a response
-- (who, as which role, when, which case, which fields, why). It holds no identity itself.
-- Append-only: the application only inserts, and triggers refuse UPDATE and DELETE.
CREATE TABLE identity_reads
(
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  read_at    text NOT NULL,
  account_id text NOT NULL,
  role       text NOT NULL,
  case_id    text NOT NULL,
  fields     text NOT NULL,
  purpose    text,
  request_id text NOT NULL
) STRICT;
CREATE INDEX identity_reads_case ON identity_reads (case_id, id);
CREATE INDEX identity_reads_account ON identity_reads (account_id, id);

CREATE TRIGGER identity_reads_no_update BEFORE UPDATE ON identity_reads
BEGIN
  SELECT RAISE(ABORT, 'identity_reads is append-only');
END;
CREATE TRIGGER identity_reads_no_delete BEFORE DELETE ON identity_reads
BEGIN
  SELECT RAISE(ABORT, 'identity_reads is append-only');
END;
