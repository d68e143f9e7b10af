-- Figures published by official sources (domain::figure), one row per (source, indicator,
-- year), the latest correction. `figure_value` NULL: the source has no figure (not zero).
CREATE TABLE rm_published_figure
(
    source       text   NOT NULL,
    indicator    text   NOT NULL,
    year         bigint NOT NULL,
    citation     text   NOT NULL,
    figure_value bigint,
    recorded_seq bigint NOT NULL,
    PRIMARY KEY (source, indicator, year)
);
