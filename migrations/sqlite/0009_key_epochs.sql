-- Key epochs (docs/adr/0009-key-epochs.md): data keys are wrapped under the key-encryption
-- key (KEK) of an epoch; the KEKs live in a file beside the master key, never here. An
-- erasure starts a new epoch, re-wraps every surviving data key and destroys the old KEK, so
-- a copy of a deleted row opens nothing. NULL: wrapped directly under the master key by a
-- version before epochs (re-wrapped at the next start).
ALTER TABLE data_keys ADD COLUMN kek_epoch integer;

-- The epoch new data keys are wrapped under (one row; writes are serialised by SQLite's
-- single writer, `BEGIN IMMEDIATE`).
CREATE TABLE key_epochs
(
  id         integer PRIMARY KEY CHECK (id = 1),
  current    integer NOT NULL CHECK (current > 0),
  changed_at text    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
