-- One row per monthly-report row (current or superseded): the plan row it reports on (null when none) and the project it belongs to, written by pipelines/linking.py.
-- key: report_row_id
create table if not exists core.link_report_plan (
    report_row_id   varchar not null,
    plan_row_id     varchar,             -- core.plan_rows.plan_row_id, null when no plan row matches
    project_key     varchar not null,    -- plan_row_id when linked, else a key from county, plan year and normalised name
    score           double not null,
    matched_fields  varchar not null,
    method          varchar not null
);
