-- One row per county and month of year Y (January up to the latest month received from any county) for a county with projects in Y's plan, assessed by MISSING_REPORT: no report for that month.
with

plan_years as (
    select distinct county_code, county_name, plan_year from core.plan_rows where plan_year is not null
),

monthly as (
    select county_code, cast(period || '-01' as date) as report_month
    from core.submissions
    where kind = 'monthly'
),

latest as (
    select max(report_month) as latest_month from monthly
),

expected as (
    select
        p.county_code,
        p.county_name,
        p.plan_year,
        cast(unnest(generate_series(make_date(p.plan_year, 1, 1),
                                    least(make_date(p.plan_year, 12, 1), l.latest_month),
                                    interval 1 month)) as date) as report_month
    from plan_years as p
    cross join latest as l
    where l.latest_month >= make_date(p.plan_year, 1, 1)
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
        printf('%s 有 %d 年度计划项目,未收到 %s 月报(各县市已报至 %s)',
               e.county_name, e.plan_year, strftime(e.report_month, '%Y年%m月'), strftime(l.latest_month, '%Y-%m')) as evidence,
        cast(null as varchar) as file_name,
        cast(null as varchar) as sheet_name,
        cast(null as integer) as row_number,
        cast([] as varchar[]) as row_ids,
        cast(null as varchar) as plan_row_id,
        cast(null as varchar) as project_key
    from expected as e
    cross join latest as l
    left join received as r using (county_code, report_month)
)

select * from final
