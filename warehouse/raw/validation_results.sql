-- One row per expectation evaluated in a Great Expectations validation run (one run per kind and batch).
-- key: batch_id, kind, expectation, column_name
create table if not exists raw.validation_results (
    batch_id        varchar not null,
    kind            varchar not null,
    suite_name      varchar not null,
    expectation     varchar not null,    -- expectation class
    description     varchar,             -- Chinese description
    column_name     varchar,
    success         boolean not null,
    element_count   integer,
    unexpected_count integer,
    validated_at    timestamp not null
);
