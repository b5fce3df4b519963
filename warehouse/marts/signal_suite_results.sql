-- One row per expectation evaluated by the signal suites (expectations/signals.py) in the last signal run, written by pipelines/signals.py.
-- key: suite_name, expectation, column_name
create table if not exists marts.signal_suite_results (
    suite_name       varchar not null,
    expectation      varchar not null,   -- expectation class (snake_case type)
    rule             varchar not null,
    description      varchar not null,   -- Chinese
    column_name      varchar,
    kwargs           json,
    success          boolean not null,
    element_count    integer,
    missing_count    integer,
    unexpected_count integer,
    validated_at     timestamp not null
);
