-- One row per unit with plan rows in a year and month of that year up to the latest month received from any unit: whether its monthly report arrived, and whether its first submission was on time (filled by the 5th of the next month).
with

plan_units as (
    select distinct county_code, plan_year from core.plan_rows
),

submissions as (
    select county_code, cast(period || '-01' as date) as report_month, fill_date, is_first_submission, count_submissions
    from core.submissions
    where kind = 'monthly'
),

counties as (
    select county_code, county_name, sort_order from staging.counties
),

as_of as (
    select max(report_month) as latest_month from submissions
),

months as (
    select u.county_code, u.plan_year, cast(t.m as date) as report_month
    from plan_units as u
    cross join as_of
    cross join lateral unnest(generate_series(
        make_date(u.plan_year, 1, 1),
        least(make_date(u.plan_year, 12, 1), as_of.latest_month),
        interval 1 month
    )) as t(m)
),

firsts as (
    select county_code, report_month, fill_date as first_fill_date, count_submissions
    from submissions
    where is_first_submission
),

final as (
    select
        m.county_code,
        c.county_name,
        c.sort_order,
        m.plan_year,
        m.report_month,
        f.report_month is not null as has_report,
        f.first_fill_date,
        coalesce(f.count_submissions, 0) as count_submissions,
        -- the deadline is the 5th of the next month; a report without a fill date counts as on time
        cast(m.report_month + interval 1 month + interval 4 day as date) as due_date,
        coalesce(f.first_fill_date > m.report_month + interval 1 month + interval 4 day, false) as is_late
    from months as m
    left join firsts as f using (county_code, report_month)
    left join counties as c using (county_code)
)

select * from final
