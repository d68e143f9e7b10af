-- The identity-read log is evidence: nothing may change or remove a row of it.
CREATE TRIGGER identity_reads_no_update BEFORE UPDATE ON identity_reads
BEGIN
  SELECT RAISE(ABORT, 'identity_reads is append-only');
END;
CREATE TRIGGER identity_reads_no_delete BEFORE DELETE ON identity_reads
BEGIN
  SELECT RAISE(ABORT, 'identity_reads is append-only');
END;
