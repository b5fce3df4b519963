-- One row per signal ever computed (append-only, kept across refreshes): its natural key (rule, county, plan year, period, community as submitted), so that a verdict follows the same finding into a resubmitted file; written by pipelines/signals/engine.py.
-- key: signal_id
create table if not exists raw.signal_keys (
    signal_id      varchar not null,
    rule           varchar not null,
    county_code    varchar not null,
    plan_year      integer,
    period         varchar,
    community_name varchar,
    first_seen_at  timestamp not null
);
