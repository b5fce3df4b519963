-- One row per monthly-report data row as submitted (cumulative to the end of report_month); is_rejected marks a quarantined row.
-- key: file_id, sheet_name, row_number
create table if not exists staging.report_rows (
    file_id                  integer not null,
    sheet_name               varchar not null,
    row_number               integer not null,
    is_rejected              boolean not null,
    county_code              varchar,
    county_raw               varchar,
    report_month             date,       -- first day of the month
    fill_date                date,
    plan_year                integer,
    project_code             varchar,
    name                     varchar,
    households               integer,
    total_invest_wan_yuan    double,
    central_subsidy_wan_yuan double,     -- null when the column is absent or empty
    region_subsidy_wan_yuan  double,
    start_date               date,
    pct_progress             double,     -- 0–100
    invest_done_wan_yuan     double,
    paid_wan_yuan            double,     -- missing = 0
    finish_date              date,
    accept_date              date,
    pct_satisfaction         double,     -- 0–100
    has_property_mgmt        boolean,
    elevators                integer,
    remark                   varchar
);
