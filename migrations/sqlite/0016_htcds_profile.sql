-- The HTCDS profile and a guardian's consent (ADR 0016): whether a case has a profile
-- recorded, and who consented on a minor's behalf (NULL: nobody recorded), so the HTCDS
-- export and oversight can select cases without decoding every document.
ALTER TABLE rm_case ADD COLUMN htcds_profile integer NOT NULL DEFAULT 0;
ALTER TABLE rm_case ADD COLUMN guardian_consent text;
