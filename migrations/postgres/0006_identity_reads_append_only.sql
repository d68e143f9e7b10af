-- The identity-read log is evidence: nothing may change or remove a row of it, not even the
-- server's own database user (only a superuser dropping the triggers could).
CREATE FUNCTION identity_reads_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'identity_reads is append-only';
END
$$;
CREATE TRIGGER identity_reads_no_change BEFORE UPDATE OR DELETE ON identity_reads
    FOR EACH ROW EXECUTE FUNCTION identity_reads_append_only();
CREATE TRIGGER identity_reads_no_truncate BEFORE TRUNCATE ON identity_reads
    FOR EACH STATEMENT EXECUTE FUNCTION identity_reads_append_only();
