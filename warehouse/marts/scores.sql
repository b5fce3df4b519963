-- One row per county, scoring year, kind (annual | biennial) and indicator (the codes of evaluation.md, then total): value, points, maximum points, grade, and the scheme version and as-of label it was computed with; written by pipelines/scoring.py.
-- key: county_code, year, kind, indicator
create table if not exists marts.scores (
    county_code     varchar not null,
    county_name     varchar not null,
    sort_order      integer not null,    -- counties.csv order
    year            integer not null,
    kind            varchar not null,    -- annual | biennial
    indicator       varchar not null,    -- start_rate … reporting_rate | annual_prev … five_year_progress | total
    indicator_name  varchar not null,    -- Chinese label
    line_order      integer not null,    -- export order within county, year and kind
    value           double,              -- null when not applicable (or, for annual_prev/annual_curr, not scored)
    points          double,              -- null when not applicable or not a scoring line
    max_points      double,              -- null only for annual_prev / annual_curr
    is_applicable   boolean not null,
    grade           varchar,             -- on the total row only
    scheme_version  varchar not null,
    as_of_label     varchar not null,    -- 截至YYYY-MM for a year still in progress, else empty
    computed_at     timestamp not null
);
