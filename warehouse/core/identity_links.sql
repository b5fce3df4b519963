-- One row per compared pair kept by the identity engine (pipelines/identity), key link_id: for each current plan row its best ledger community of the county (kind plan_ledger), for each report row its best plan row of the county and plan year (report_plan), and plan-row pairs that are, or nearly are, the same community (plan_plan).
-- key: link_id
create table if not exists core.identity_links (
    link_id         varchar not null,     -- md5(kind | from_id | to_id)
    kind            varchar not null,     -- plan_ledger | report_plan | plan_plan
    from_id         varchar not null,     -- plan_row_id (plan_ledger, plan_plan) or report_row_id (report_plan)
    to_id           varchar,              -- community_id (plan_ledger) or plan_row_id; the closest candidate when not a match, null when none
    is_match        boolean not null,     -- the engine's decision: the same community
    score           double not null,      -- 0–1, how strongly the fields agreed
    agreed          varchar[] not null,   -- the fields that agreed (名称, 地址, 建成年份, 户数, 楼栋数, 建筑面积, 总投资, 项目编号, 台账小区)
    explanation     varchar not null,     -- Chinese, field by field, e.g. 名称:缩写一致「工行」=「工商银行」;地址:同路同门牌;建成年份:1990/1992(差2年)
    method          varchar not null,     -- rules | splink | project_code | none
    candidates      integer not null,     -- rows the blocking offered (plan_ledger, report_plan)
    project_key     varchar               -- report_plan: the plan row, else U:county:plan year:normalised name
);
