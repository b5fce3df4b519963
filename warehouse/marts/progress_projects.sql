-- One row per plan row (project): its plan and its state in the latest report linked to it up to the latest due month of the data clock, for the drill-down from a county to its projects.
-- key: plan_row_id
with

plan as (
    select plan_row_id, county_code, county_name, plan_year, name, households, total_invest_wan_yuan,
        coalesce(central_subsidy_wan_yuan, 0) + coalesce(region_subsidy_wan_yuan, 0) as subsidy_wan_yuan,
        planned_start_date, planned_end_date
    from core.plan_rows
),

links as (
    select from_id as report_row_id, to_id as plan_row_id from core.identity_links where kind = 'report_plan' and is_match
),

clock as (
    select latest_due_month from marts.data_clock
),

latest_report as (
    select l.plan_row_id, r.report_month, r.start_date, r.pct_progress, r.invest_done_wan_yuan, r.paid_wan_yuan,
        r.finish_date
    from core.report_rows as r
    inner join links as l using (report_row_id)
    cross join clock as c
    where c.latest_due_month is null or r.report_month <= c.latest_due_month
    qualify row_number() over (partition by l.plan_row_id order by r.report_month desc) = 1
),

final as (
    select
        p.*,
        r.report_month as latest_report_month,
        r.start_date,
        r.pct_progress,
        r.invest_done_wan_yuan,
        r.paid_wan_yuan,
        r.finish_date,
        coalesce(r.start_date <= last_day(r.report_month), false) or coalesce(r.pct_progress > 0, false) as is_started,
        r.finish_date is not null as is_completed,
        100.0 * r.invest_done_wan_yuan / nullif(p.total_invest_wan_yuan, 0) as pct_invest_done
    from plan as p
    left join latest_report as r using (plan_row_id)
)

select * from final
