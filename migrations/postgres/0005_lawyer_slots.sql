-- The lawyers' caseloads, as the write side decides them: one row per open case assigned
-- to a lawyer, numbered 1..capacity per lawyer. An assignment inserts its row in the same
-- transaction as its event, and only while the lawyer has a free slot; two assignments
-- racing for the last slot pick the same number, and the unique key lets one through.
-- Not a read model: a rebuild never touches it.
CREATE TABLE lawyer_slots
(
    case_id   text PRIMARY KEY,
    lawyer_id text    NOT NULL,
    slot      integer NOT NULL,
    UNIQUE (lawyer_id, slot)
);

-- Ledgers written before this table: the open assigned cases, as the read models last saw them.
INSERT INTO lawyer_slots (case_id, lawyer_id, slot)
SELECT id, lawyer_id, ROW_NUMBER() OVER (PARTITION BY lawyer_id ORDER BY opened_seq)
FROM rm_case
WHERE lawyer_id IS NOT NULL AND status <> 'CLOSED';
