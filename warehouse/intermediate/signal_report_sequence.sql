-- One row per current monthly-report row, with its project (core.identity_links, report_plan), its plan row and the project's previous report: the base of the monthly signal rules.
-- key: report_row_id
with

report_rows as (
    select * from core.report_rows
),

links as (
    select from_id as report_row_id, case when is_match then to_id end as plan_row_id, project_key
    from core.identity_links where kind = 'report_plan'
),

plan_rows as (
    select
        plan_row_id,
        households as plan_households,
        total_invest_wan_yuan as plan_total_invest_wan_yuan,
        central_subsidy_wan_yuan as plan_central_subsidy_wan_yuan
    from core.plan_rows
),

with_project as (
    select
        r.*,
        l.plan_row_id,
        -- a report row the linker has not seen yet still belongs to a project: county, plan year and name
        coalesce(l.project_key, r.county_code || '|' || coalesce(cast(r.plan_year as varchar), '') || '|' || r.name) as project_key
    from report_rows as r
    left join links as l using (report_row_id)
),

final as (
    select
        p.*,
        pl.plan_households,
        pl.plan_total_invest_wan_yuan,
        pl.plan_central_subsidy_wan_yuan,
        strftime(p.report_month, '%Y-%m') as period,
        row_number() over w as report_seq,
        count(*) over (partition by p.project_key) as count_reports,
        lag(p.report_month) over w as prev_report_month,
        lag(p.pct_progress) over w as prev_pct_progress,
        lag(p.invest_done_wan_yuan) over w as prev_invest_done_wan_yuan,
        lag(p.report_row_id) over w as prev_report_row_id,
        lag(p.file_name) over w as prev_file_name,
        lag(p.row_number) over w as prev_row_number
    from with_project as p
    left join plan_rows as pl using (plan_row_id)
    window w as (partition by p.project_key order by p.report_month, p.row_number, p.report_row_id)
)

select * from final
