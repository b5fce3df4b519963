-- One row per county, scoring year Y and month of Y that is due by the data clock (up to the latest due month; all twelve when Y is complete): whether the county's monthly report for that month arrived, the fill date of its first submission and the month's deadline.
-- key: county_code, score_year, report_month
with

counties as (
    select county_code from staging.counties
),

years as (
    select distinct score_year from intermediate.indicator_rows
),

-- the months due by the data clock, with their deadlines
due_months as (
    select report_month, report_year, due_date from marts.data_clock_months where is_due
),

submissions as (
    select
        county_code,
        cast(period || '-01' as date) as report_month,
        fill_date
    from core.submissions
    where kind = 'monthly' and is_first_submission
),

months as (
    -- months after the latest due month are left out of the reporting indicator
    select y.score_year, m.report_month, m.due_date
    from years as y
    inner join due_months as m on m.report_year = y.score_year
),

final as (
    select
        c.county_code,
        m.score_year,
        m.report_month,
        s.report_month is not null as has_report,
        s.fill_date as first_fill_date,
        m.due_date
    from counties as c
    cross join months as m
    left join submissions as s using (county_code, report_month)
)

select * from final
