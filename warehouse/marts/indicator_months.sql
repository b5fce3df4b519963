-- One row per county, scoring year Y and month of Y up to the last month received from any county (all twelve when Y is complete): whether the county's monthly report for that month arrived and the fill date of its first submission.
with

counties as (
    select county_code from staging.counties
),

years as (
    select distinct score_year, as_of_month from marts.indicator_rows
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
    select y.score_year, make_date(y.score_year, m.month, 1) as report_month
    from years as y
    cross join (select unnest(generate_series(1, 12)) as month) as m
    -- months after the last month received are left out of the reporting indicator
    where y.as_of_month is null or make_date(y.score_year, m.month, 1) <= y.as_of_month
),

final as (
    select
        c.county_code,
        m.score_year,
        m.report_month,
        s.report_month is not null as has_report,
        s.fill_date as first_fill_date
    from counties as c
    cross join months as m
    left join submissions as s using (county_code, report_month)
)

select * from final
