-- One row per reporting unit: the newest month it has reported and its newest 填报日期, beside the data clock's latest due month (the dashboard shows every unit's).
-- key: county_code
with

counties as (
    select county_code, county_name, sort_order from staging.counties
),

submissions as (
    select county_code, kind, period, fill_date from core.submissions
),

clock as (
    select * from marts.data_clock
),

per_county as (
    select
        county_code,
        max(case when kind = 'monthly' then cast(period || '-01' as date) end) as latest_report_month,
        max(fill_date) as latest_fill_date,
        count(distinct case when kind = 'monthly' then period end) as count_months_reported
    from submissions
    group by county_code
),

final as (
    select
        c.county_code,
        c.county_name,
        c.sort_order,
        p.latest_report_month,
        p.latest_fill_date,
        coalesce(p.count_months_reported, 0) as count_months_reported,
        k.latest_due_month,
        -- reported up to the latest due month (or beyond it: a unit may report before the deadline)
        coalesce(p.latest_report_month >= k.latest_due_month, false) as is_up_to_date,
        case when k.latest_due_month > p.latest_report_month
             then date_diff('month', p.latest_report_month, k.latest_due_month) end as count_months_behind
    from counties as c
    cross join clock as k
    left join per_county as p using (county_code)
)

select * from final
