-- Key epochs (docs/adr/0009-key-epochs.md): data keys are wrapped under the key-encryption
-- key (KEK) of an epoch; the KEKs live in a file beside the master key, never here. An
-- erasure starts a new epoch, re-wraps every surviving data key and destroys the old KEK, so
-- a copy of a deleted row (heap, WAL, backups) opens nothing. NULL: wrapped directly under
-- the master key by a version before epochs (re-wrapped at the next start).
ALTER TABLE data_keys ADD COLUMN kek_epoch bigint;

-- The epoch new data keys are wrapped under: one row, locked FOR UPDATE by an epoch change
-- and FOR SHARE by an intake storing its key, so no key is ever wrapped under an old epoch.
CREATE TABLE key_epochs
(
    id         smallint PRIMARY KEY CHECK (id = 1),
    current    bigint      NOT NULL CHECK (current > 0),
    changed_at timestamptz NOT NULL DEFAULT now()
);
