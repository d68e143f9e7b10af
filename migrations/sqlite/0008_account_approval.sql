-- Second-person approval of accounts that can read client identity (intake workers,
-- lawyers, coordinators). Accounts created before approval existed carry no creator in
-- their AccountCreated event and count as approved, so existing rows are approved here and
-- a rebuild agrees.
ALTER TABLE rm_account ADD COLUMN created_by text;
ALTER TABLE rm_account ADD COLUMN approved integer NOT NULL DEFAULT 1;
ALTER TABLE rm_account ADD COLUMN approved_by text;
ALTER TABLE rm_account ADD COLUMN approved_at text;
