-- The event store: sqlite-es's `events` table, extended. `position` is the rowid; under
-- SQLite's single writer rowids are assigned in commit order, so a catch-up reader can
-- trust them. AUTOINCREMENT guarantees a position is never reused.
CREATE TABLE events
(
  position       INTEGER PRIMARY KEY AUTOINCREMENT,
  aggregate_type text                          NOT NULL,
  aggregate_id   text                          NOT NULL,
  sequence       integer CHECK (sequence >= 0) NOT NULL,
  event_type     text                          NOT NULL,
  event_version  text                          NOT NULL,
  payload        text                          NOT NULL,
  metadata       text                          NOT NULL,
  recorded_at    text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  prev_hash      text NOT NULL DEFAULT '',
  hash           text NOT NULL DEFAULT '',
  UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

CREATE TABLE snapshots
(
  aggregate_type   text                                  NOT NULL,
  aggregate_id     text                                  NOT NULL,
  last_sequence    integer CHECK (last_sequence >= 0)    NOT NULL,
  current_snapshot integer CHECK (current_snapshot >= 0) NOT NULL,
  payload          text                                  NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
) STRICT;

CREATE TABLE data_keys
(
  case_id       text PRIMARY KEY,
  wrapped_key   text NOT NULL,
  master_key_id text NOT NULL,
  created_at    text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
