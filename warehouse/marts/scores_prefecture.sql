-- One row per scoring year and annual indicator (then total) for the prefecture as one unit: the scored counties' counts and sums added up, scored with the same formulas; written by pipelines/scoring.py.
-- key: year, kind, indicator
create table if not exists marts.scores_prefecture (
    year            integer not null,
    kind            varchar not null,    -- annual
    indicator       varchar not null,
    indicator_name  varchar not null,
    line_order      integer not null,
    value           double,
    points          double,
    max_points      double,
    is_applicable   boolean not null,
    grade           varchar,             -- on the total row only
    count_counties  integer not null,    -- counties scored that year
    scheme_version  varchar not null,
    as_of_label     varchar not null,
    computed_at     timestamp not null
);
