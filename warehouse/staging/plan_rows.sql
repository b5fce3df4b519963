-- One row per plan data row as submitted, typed and normalised (money in 万元, area in m²); is_rejected marks a quarantined row.
-- key: file_id, sheet_name, row_number
create table if not exists staging.plan_rows (
    file_id                  integer not null,
    sheet_name               varchar not null,
    row_number               integer not null,
    is_rejected              boolean not null,
    county_code              varchar,
    county_raw               varchar,
    plan_year                integer,
    street                   varchar,
    community                varchar,
    name                     varchar,
    address                  varchar,
    build_year               integer,
    buildings                integer,
    households               integer,
    area_m2                  double,
    categories               varchar,    -- normalised: 基础类/完善类/提升类 joined by '+', in that order
    content                  varchar,
    total_invest_wan_yuan    double,
    central_subsidy_wan_yuan double,     -- missing = 0
    region_subsidy_wan_yuan  double,     -- missing = 0
    local_funds_wan_yuan     double,     -- missing = 0
    resident_funds_wan_yuan  double,     -- missing = 0
    social_funds_wan_yuan    double,     -- missing = 0
    utility_funds_wan_yuan   double,     -- missing = 0
    elevators                integer,
    planned_start_date       date,
    planned_end_date         date,
    notice_start_date        date,
    notice_end_date          date,
    notice_days_given        integer,    -- 公示天数 as written
    notice_days              integer,    -- 公示天数 when given, else Mon–Fri days from start to end inclusive
    fill_date                date
);
