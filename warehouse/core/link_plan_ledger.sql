-- One row per current plan row: the ledger community of its county it is linked to (null when none), written by pipelines/linking.py.
-- key: plan_row_id
create table if not exists core.link_plan_ledger (
    plan_row_id     varchar not null,
    community_id    varchar,             -- core.ledger_communities.community_id, null when no match
    score           double not null,     -- 0–1, how strongly the fields agreed
    matched_fields  varchar not null,    -- Chinese, e.g. 名称:一致(1.00);地址:0.86;建成年份:±2年;户数:+4%
    method          varchar not null,    -- exact_name | fuzzy | none
    candidates      integer not null     -- ledger communities of the county considered
);
