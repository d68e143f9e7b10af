-- The fact table behind outcomeStats: one row per countable occurrence
-- (projections::model::facts). Rewritten per case by the projector.
CREATE TABLE rm_fact
(
    case_id          text   NOT NULL,
    report_id        text,
    kind             text   NOT NULL,
    on_date          text   NOT NULL,
    year             bigint NOT NULL,
    gender           text   NOT NULL,
    age_group        text   NOT NULL,
    region           text,
    country          text,
    organization_id  text   NOT NULL,
    lawyer_id        text,
    lawyer_status    text,
    offense_category text,
    offense_code     text,
    authority        text
);
CREATE INDEX rm_fact_case ON rm_fact (case_id);
CREATE INDEX rm_fact_kind_date ON rm_fact (kind, on_date);
