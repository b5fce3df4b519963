-- One row per county with projects in year Y's plan and month of Y that is due by the data clock (January up to the latest due month, marts.data_clock), assessed by MISSING_REPORT: no report for that month.
-- key: signal_id
with

plan_years as (
    select distinct county_code, county_name, plan_year from core.plan_rows where plan_year is not null
),

monthly as (
    select county_code, cast(period || '-01' as date) as report_month
    from core.submissions
    where kind = 'monthly'
),

clock as (
    select as_of_date, latest_due_month from marts.data_clock
),

-- a county's report for a month is only missing once its deadline has passed by the data's own
-- clock: another county's early report never makes it look late
due_months as (
    select report_month, report_year, due_date from marts.data_clock_months where is_due
),

expected as (
    select p.county_code, p.county_name, p.plan_year, m.report_month, m.due_date
    from plan_years as p
    inner join due_months as m on m.report_year = p.plan_year
),

received as (
    select distinct county_code, report_month from monthly
),

final as (
    select
        md5('MISSING_REPORT|' || e.county_code || '|' || strftime(e.report_month, '%Y-%m')) as signal_id,
        'MISSING_REPORT' as rule,
        true as is_assessable,
        r.county_code is null as is_flagged,
        e.county_code,
        e.county_name,
        -- a county-level signal: flags.md leaves plan_year empty
        cast(null as integer) as plan_year,
        strftime(e.report_month, '%Y-%m') as period,
        cast(null as varchar) as community_name,
        1.0 as score,
        printf('%s 有 %d 年度计划项目,未收到 %s 月报(截止 %s;数据截至 %s,应报至 %s)',
               e.county_name, e.plan_year, strftime(e.report_month, '%Y年%m月'), strftime(e.due_date, '%Y-%m-%d'),
               coalesce(strftime(k.as_of_date, '%Y-%m-%d'), '无填报日期'), strftime(k.latest_due_month, '%Y-%m')) as evidence,
        cast(null as varchar) as file_name,
        cast(null as varchar) as sheet_name,
        cast(null as integer) as row_number,
        cast([] as varchar[]) as row_ids,
        cast(null as varchar) as plan_row_id,
        cast(null as varchar) as project_key
    from expected as e
    cross join clock as k
    left join received as r using (county_code, report_month)
)

select * from final
