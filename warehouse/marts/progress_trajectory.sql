-- One row per unit and month from January 2020 to the latest month received: households of completed plan rows (all plan years) against the ledger's households built in or before 2000 and the even path to that goal by December 2025.
with

plan as (
    select plan_row_id, county_code, households from core.plan_rows
),

links as (
    select from_id as report_row_id, to_id as plan_row_id from core.identity_links where kind = 'report_plan' and is_match
),

report_rows as (
    select report_row_id, report_month, finish_date from core.report_rows
),

ledger as (
    select county_code, households, build_year from core.ledger_communities
),

counties as (
    select county_code, county_name, sort_order from staging.counties
),

reports as (
    select l.plan_row_id, r.report_month, max(r.finish_date) as finish_date
    from report_rows as r
    inner join links as l using (report_row_id)
    group by all
),

as_of as (
    select max(report_month) as latest_month from report_rows
),

months as (
    select cast(t.m as date) as report_month
    from as_of
    cross join lateral unnest(generate_series(date '2020-01-01', as_of.latest_month, interval 1 month)) as t(m)
),

-- the ledger's communities built in or before 2000: the households the 2025 goal covers
targets as (
    select county_code, cast(coalesce(sum(households), 0) as bigint) as target_households
    from ledger
    where build_year <= 2000
    group by all
),

units as (
    select c.county_code, c.county_name, c.sort_order, coalesce(t.target_households, 0) as target_households
    from counties as c
    left join targets as t using (county_code)
),

grid as (
    select p.plan_row_id, p.county_code, p.households, m.report_month
    from plan as p
    cross join months as m
),

state as (
    select g.*, r.finish_date
    from grid as g
    asof left join reports as r
        on g.plan_row_id = r.plan_row_id and g.report_month >= r.report_month
),

completed as (
    select
        county_code,
        report_month,
        cast(coalesce(sum(households) filter (where finish_date <= last_day(report_month)), 0) as bigint) as completed_households,
        count(*) filter (where finish_date <= last_day(report_month)) as count_completed_communities
    from state
    group by all
),

final as (
    select
        u.county_code,
        u.county_name,
        u.sort_order,
        m.report_month,
        coalesce(c.completed_households, 0) as completed_households,
        coalesce(c.count_completed_communities, 0) as count_completed_communities,
        u.target_households,
        -- the even path: the goal spread over the 72 months of 2020–2025
        round(u.target_households * least(72, date_diff('month', date '2019-12-01', m.report_month)) / 72.0, 1) as path_households
    from units as u
    cross join months as m
    left join completed as c using (county_code, report_month)
    where u.target_households > 0 or c.completed_households > 0
)

select * from final
