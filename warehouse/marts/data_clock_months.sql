-- One row per calendar month from January of the first plan year or report month received up to the later of the latest due month and the latest month received: its report deadline and whether it is due by the data clock (marts.data_clock).
-- key: report_month
with

clock as (
    select * from marts.data_clock
),

bounds as (
    select
        least(
            (select make_date(min(plan_year), 1, 1) from core.plan_rows),
            (select min(cast(period || '-01' as date)) from core.submissions where kind = 'monthly')
        ) as first_month,
        greatest(c.latest_due_month, c.latest_report_month) as last_month
    from clock as c
),

months as (
    select cast(unnest(generate_series(b.first_month, b.last_month, interval 1 month)) as date) as report_month
    from bounds as b
    where b.first_month is not null and b.last_month is not null
),

final as (
    select
        m.report_month,
        year(m.report_month) as report_year,
        -- the deadline: day `report_due_day` of the next month; a report first filled after it is late
        cast(m.report_month + interval 1 month + to_days(c.report_due_day - 1) as date) as due_date,
        coalesce(m.report_month <= c.latest_due_month, false) as is_due
    from months as m
    cross join clock as c
)

select * from final
