-- One row per signal (风险线索) of flags.md on the current data: rule, where, the numbers and the rows behind it, written by pipelines/signals.py.
-- key: signal_id
create table if not exists marts.signals (
    signal_id        varchar not null, -- md5 of rule and the source row id (file hash, sheet, row) or county and period: stable across refreshes
    rule             varchar not null,
    class            varchar not null,
    severity         varchar not null,    -- high | medium | low
    county_code      varchar not null,
    county_name      varchar not null,
    plan_year        integer,
    period           varchar,             -- YYYY-MM for monthly signals
    community_name   varchar,             -- as submitted in the flagged row
    score            double not null,     -- 0–1
    evidence         varchar not null,    -- one line of Chinese with the numbers and rows
    file_name        varchar,
    sheet_name       varchar,
    row_number       integer,
    row_ids          varchar[] not null,  -- plan_row_id / report_row_id / community_id / file hash behind it
    plan_row_id      varchar,             -- the plan row concerned, when there is one
    entity_id        varchar,             -- the community after entity resolution (core.identity_entities), when known
    central_subsidy_wan_yuan double,      -- central subsidy at stake in the plan row concerned
    engine           varchar not null,    -- gx:<suite>/<expectation> | sql:<model>
    computed_at      timestamp not null
);
