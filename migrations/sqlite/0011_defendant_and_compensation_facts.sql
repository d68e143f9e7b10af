-- Counts of defendants (persons) fall under the defendant's own gender: the
-- DEFENDANT_GENDER dimension of outcomeStats. NULL for every other fact.
ALTER TABLE rm_fact ADD COLUMN defendant_gender text;
-- Compensation facts carry their amount (whole units) and currency, summed per currency
-- by compensationTotals. NULL for every other fact.
ALTER TABLE rm_fact ADD COLUMN amount bigint;
ALTER TABLE rm_fact ADD COLUMN currency text;
