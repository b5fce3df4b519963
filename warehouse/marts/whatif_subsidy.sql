-- One row per county and plan year with central subsidy: the what-if split of the performance-linked share of the central subsidy by annual score (formula in pipelines/whatif.py); written by pipelines/scoring.py.
-- key: county_code, year
create table if not exists marts.whatif_subsidy (
    county_code                 varchar not null,
    county_name                 varchar not null,
    sort_order                  integer not null,
    year                        integer not null,
    central_subsidy_wan_yuan    double not null,   -- Σ 中央补助资金 of the county's plan rows of the year
    performance_share           double not null,   -- e.g. 0.2
    base_share_wan_yuan         double not null,   -- performance_share × own central subsidy (the part at stake)
    score                       double,            -- annual total, null when not scored
    weight                      double not null,   -- central subsidy × score / 100
    share_wan_yuan              double not null,   -- pool × weight / Σ weight
    change_wan_yuan             double not null,   -- share − base share
    scheme_version              varchar not null,
    as_of_label                 varchar not null
);
