-- One row per unit, plan year and month (January of the plan year up to the latest due month of the data clock, at most December): that year's plan and its cumulative state at the end of the month.
-- key: county_code, plan_year, report_month
with

plan as (
    select
        plan_row_id,
        county_code,
        plan_year,
        households,
        total_invest_wan_yuan,
        coalesce(central_subsidy_wan_yuan, 0) + coalesce(region_subsidy_wan_yuan, 0) as subsidy_wan_yuan,
        planned_start_date,
        planned_end_date
    from core.plan_rows
),

links as (
    select from_id as report_row_id, to_id as plan_row_id from core.identity_links where kind = 'report_plan' and is_match
),

report_rows as (
    select report_row_id, report_month, start_date, pct_progress, invest_done_wan_yuan, paid_wan_yuan, finish_date
    from core.report_rows
),

counties as (
    select county_code, county_name, sort_order from staging.counties
),

-- one state per plan row and report month: when two report rows name the same plan row, the more advanced one
reports as (
    select l.plan_row_id, r.*
    from report_rows as r
    inner join links as l using (report_row_id)
    qualify row_number() over (
        partition by l.plan_row_id, r.report_month
        order by r.pct_progress desc nulls last, r.invest_done_wan_yuan desc nulls last, r.report_row_id
    ) = 1
),

-- the months of each plan year that are due by the data clock (marts.data_clock): every unit is
-- shown at the same month, whoever reported early
months as (
    select y.plan_year, m.report_month
    from (select distinct plan_year from plan) as y
    inner join marts.data_clock_months as m on m.report_year = y.plan_year and m.is_due
),

grid as (
    select p.*, m.report_month
    from plan as p
    inner join months as m using (plan_year)
),

-- the latest report of each plan row up to the month (reports are cumulative)
state as (
    select
        g.*,
        r.report_month as state_month,
        r.start_date,
        r.pct_progress,
        r.invest_done_wan_yuan,
        r.paid_wan_yuan,
        r.finish_date
    from grid as g
    asof left join reports as r
        on g.plan_row_id = r.plan_row_id and g.report_month >= r.report_month
),

flagged as (
    select
        *,
        coalesce(start_date <= last_day(report_month), false) or coalesce(pct_progress > 0, false) as is_started,
        coalesce(finish_date <= last_day(report_month), false) as is_completed,
        coalesce(planned_start_date <= last_day(report_month), false) as is_due_start,
        coalesce(planned_end_date <= last_day(report_month), false) as is_due_completion
    from state
),

final as (
    select
        f.county_code,
        c.county_name,
        c.sort_order,
        f.plan_year,
        f.report_month,
        count(*) as count_plan_communities,
        cast(coalesce(sum(f.households), 0) as bigint) as plan_households,
        coalesce(sum(f.total_invest_wan_yuan), 0) as plan_invest_wan_yuan,
        coalesce(sum(f.subsidy_wan_yuan), 0) as plan_subsidy_wan_yuan,
        count(*) filter (where f.state_month is not null) as count_reported_communities,
        count(*) filter (where f.is_started) as count_started_communities,
        cast(coalesce(sum(f.households) filter (where f.is_started), 0) as bigint) as started_households,
        count(*) filter (where f.is_completed) as count_completed_communities,
        cast(coalesce(sum(f.households) filter (where f.is_completed), 0) as bigint) as completed_households,
        coalesce(sum(f.invest_done_wan_yuan), 0) as invest_done_wan_yuan,
        coalesce(sum(f.paid_wan_yuan), 0) as paid_wan_yuan,
        count(*) filter (where f.is_due_start) as count_due_start_communities,
        count(*) filter (where f.is_due_completion) as count_due_completion_communities
    from flagged as f
    left join counties as c using (county_code)
    group by all
)

select * from final
