-- One row per current plan row: the real community it belongs to after entity resolution (entity_id shared by every plan row of the same community, across years and counties), written by pipelines/entity.py.
-- key: plan_row_id
create table if not exists marts.signal_entities (
    plan_row_id     varchar not null,
    entity_id       varchar not null,    -- the plan_row_id of the community's earliest entry
    community_id    varchar,             -- the ledger community (core.link_plan_ledger), when linked
    match_score     double not null,     -- strength of the weakest link that joined it to the entity (1 when alone)
    matched_row_id  varchar,             -- the plan row it was joined to, null when alone
    matched_fields  varchar not null,    -- Chinese, why it was joined (名称/地址/年代/规模)
    method          varchar not null     -- alone | ledger | rapidfuzz | splink
);
