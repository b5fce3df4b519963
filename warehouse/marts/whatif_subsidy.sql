-- One row per pool, county and plan year with central subsidy: the what-if split of the performance-linked share of the central subsidy by annual score (formula in pipelines/scoring/whatif.py), once over every unit of the warehouse (pool 'all') and once within each prefecture (pool = its prefecture_code); written by pipelines/scoring/store.py.
-- key: pool, county_code, year
create table if not exists marts.whatif_subsidy (
    pool                        varchar not null,  -- 'all' (every unit of the warehouse) or a prefecture_code (its units only)
    county_code                 varchar not null,
    county_name                 varchar not null,
    sort_order                  integer not null,
    year                        integer not null,
    central_subsidy_wan_yuan    double not null,   -- Σ 中央补助资金 of the county's plan rows of the year
    performance_share           double not null,   -- e.g. 0.2
    base_share_wan_yuan         double not null,   -- performance_share × own central subsidy (the part at stake)
    score                       double,            -- annual total, null when not scored
    weight                      double not null,   -- central subsidy × score / 100
    share_wan_yuan              double not null,   -- pool × weight / Σ weight (Σ over the pool's counties)
    change_wan_yuan             double not null,   -- share − base share
    scheme_version              varchar not null,
    as_of_label                 varchar not null
);
