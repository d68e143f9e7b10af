-- The event store: postgres-es's `events` table, extended. Columns postgres-es does not
-- insert have defaults. `position` orders events within a transaction, `transaction_id`
-- orders transactions: catch-up readers read only below the oldest running transaction
-- (pg_snapshot_xmin) and checkpoint the pair, so no event that commits late is skipped.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        jsonb                        NOT NULL,
    metadata       jsonb                        NOT NULL,
    position       bigserial                    NOT NULL,
    transaction_id xid8        DEFAULT pg_current_xact_id() NOT NULL,
    recorded_at    timestamptz DEFAULT now()    NOT NULL,
    prev_hash      text                         NOT NULL DEFAULT '',
    hash           text                         NOT NULL DEFAULT '',
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE UNIQUE INDEX events_global_order ON events (transaction_id, position);

-- postgres-es reads this table when snapshots are configured; we keep it for
-- compatibility and write no identity into it.
CREATE TABLE snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          jsonb                                NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);

-- Per-case data keys, wrapped by the master key. Mutable on purpose: erasing a client
-- deletes the row (crypto-shredding); rotating the master key rewrites `wrapped_key`.
CREATE TABLE data_keys
(
    case_id       text PRIMARY KEY,
    wrapped_key   text        NOT NULL,
    master_key_id text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
