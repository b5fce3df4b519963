-- One row per unit and month from January of the goal's start year to the latest due month of the data clock: households of completed plan rows (all plan years) against the ledger's households built in or before the goal's build year and the even path to that goal by December of its end year (program.toml [goal]).
-- key: county_code, report_month
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

goal as (
    select
        cast(max(value) filter (where key = 'goal.built_until') as integer) as built_until,
        cast(max(value) filter (where key = 'goal.start_year') as integer) as start_year,
        cast(max(value) filter (where key = 'goal.end_year') as integer) as end_year
    from marts.settings
),

reports as (
    select l.plan_row_id, r.report_month, max(r.finish_date) as finish_date
    from report_rows as r
    inner join links as l using (report_row_id)
    group by all
),

months as (
    select cast(t.m as date) as report_month
    from goal as g
    cross join marts.data_clock as k
    cross join lateral unnest(generate_series(make_date(g.start_year, 1, 1), k.latest_due_month, interval 1 month)) as t(m)
),

-- the ledger's communities built in or before the goal's year: the households the goal covers
targets as (
    select l.county_code, cast(coalesce(sum(l.households), 0) as bigint) as target_households
    from ledger as l
    cross join goal as g
    where l.build_year <= g.built_until
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
        -- the even path: the goal spread over the months from January of its start year to December of its end year
        round(u.target_households * least(12 * (g.end_year - g.start_year + 1),
                                          date_diff('month', make_date(g.start_year - 1, 12, 1), m.report_month))
              / (12.0 * (g.end_year - g.start_year + 1)), 1) as path_households
    from units as u
    cross join months as m
    cross join goal as g
    left join completed as c using (county_code, report_month)
    where u.target_households > 0 or c.completed_households > 0
)

select * from final
