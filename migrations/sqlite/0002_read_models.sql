-- Read models, rebuilt from the event log by the projector. Portable types only, so
-- the same DDL serves PostgreSQL and SQLite. No column holds plaintext client identity.
CREATE TABLE rm_checkpoint
(
    name        text PRIMARY KEY,
    tx          bigint NOT NULL,
    position    bigint NOT NULL,
    updated_at  text   NOT NULL
);

CREATE TABLE rm_case
(
    id               text PRIMARY KEY,
    organization_id  text   NOT NULL,
    lawyer_id        text,
    status           text   NOT NULL,
    region           text,
    gender           text   NOT NULL,
    identified_on    text   NOT NULL,
    opened_seq       bigint NOT NULL,
    erased           integer NOT NULL DEFAULT 0,
    doc              text   NOT NULL
);
CREATE UNIQUE INDEX rm_case_order ON rm_case (opened_seq);
CREATE INDEX rm_case_org ON rm_case (organization_id);
CREATE INDEX rm_case_lawyer ON rm_case (lawyer_id);

CREATE TABLE rm_case_exploitation
(
    case_id text NOT NULL,
    exploitation_type text NOT NULL,
    PRIMARY KEY (case_id, exploitation_type)
);

CREATE TABLE rm_report
(
    report_id         text PRIMARY KEY,
    case_id           text NOT NULL,
    filed_on          text NOT NULL,
    initial_code      text,
    initial_category  text,
    current_code      text,
    current_category  text,
    refused           integer NOT NULL DEFAULT 0
);
CREATE INDEX rm_report_case ON rm_report (case_id);

CREATE TABLE rm_lawyer
(
    id            text PRIMARY KEY,
    full_name     text NOT NULL,
    gender        text NOT NULL,
    status        text NOT NULL,
    region        text NOT NULL,
    active        integer NOT NULL,
    trained       integer NOT NULL,
    registered_seq bigint NOT NULL,
    doc           text NOT NULL
);

CREATE TABLE rm_organization
(
    id    text PRIMARY KEY,
    name  text NOT NULL,
    kind  text NOT NULL,
    registered_seq bigint NOT NULL
);

CREATE TABLE rm_account
(
    id              text PRIMARY KEY,
    name            text NOT NULL,
    role            text NOT NULL,
    organization_id text,
    lawyer_id       text,
    disabled        integer NOT NULL DEFAULT 0,
    created_at      text NOT NULL
);

CREATE TABLE rm_token
(
    token_hash  text PRIMARY KEY,
    token_id    text NOT NULL,
    account_id  text NOT NULL,
    issued_at   text NOT NULL,
    expires_at  text,
    revoked     integer NOT NULL DEFAULT 0
);

CREATE TABLE rm_offense
(
    code      text PRIMARY KEY,
    edition   text NOT NULL,
    article   text NOT NULL,
    title_en  text NOT NULL,
    title_ru  text,
    title_ky  text,
    category  text NOT NULL,
    source    text,
    retired   integer NOT NULL DEFAULT 0
);
