-- One row per unit with plan rows in a year and month of that year that is due by the data clock (up to the latest due month, marts.data_clock): whether its monthly report arrived, and whether its first submission was on time (filled by the month's deadline, the due day of the next month).
-- key: county_code, plan_year, report_month
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

-- a month is expected from every unit only once its deadline has passed by the data clock
months as (
    select u.county_code, u.plan_year, m.report_month, m.due_date
    from plan_units as u
    inner join marts.data_clock_months as m on m.report_year = u.plan_year and m.is_due
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
        -- a report without a fill date counts as on time
        m.due_date,
        coalesce(f.first_fill_date > m.due_date, false) as is_late
    from months as m
    left join firsts as f using (county_code, report_month)
    left join counties as c using (county_code)
)

select * from final
