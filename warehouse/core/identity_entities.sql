-- One row per current plan row, key plan_row_id: the real community it belongs to after identity resolution (entity_id shared by every plan row of the same community, across years and counties), written by pipelines/identity.
-- key: plan_row_id
create table if not exists core.identity_entities (
    plan_row_id     varchar not null,
    entity_id       varchar not null,     -- the plan_row_id of the community's earliest entry
    matched_row_id  varchar,              -- the plan row it was joined to, null when alone
    link_id         varchar,              -- core.identity_links row of that pair: score, fields that agreed, why
    method          varchar not null      -- alone | ledger | rules | splink
);
