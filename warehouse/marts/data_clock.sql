-- One row per warehouse (a single row): the data clock (flags.md, "The data clock") that signals, scores, the report and the pages read: the as-of date (the newest 填报日期 among all submissions received, any county, any kind), the report due day and the latest due month.
-- key: (one row)
with

submissions as (
    select kind, period, fill_date from core.submissions
),

settings as (
    select cast(max(value) filter (where key = 'clock.report_due_day') as integer) as report_due_day
    from marts.settings
),

received as (
    select
        max(fill_date) as as_of_date,
        max(case when kind = 'monthly' then cast(period || '-01' as date) end) as latest_report_month
    from submissions
),

final as (
    select
        r.as_of_date,
        s.report_due_day,
        -- month M is due once its deadline, day `report_due_day` of month M+1, is on or before the
        -- as-of date: the latest such M is the month before the one holding as-of − (due day − 1);
        -- it may be later than any month received. Without any 填报日期: the latest month received.
        case
            when r.as_of_date is not null
                then cast(date_trunc('month', r.as_of_date - (s.report_due_day - 1)) - interval 1 month as date)
            else r.latest_report_month
        end as latest_due_month,
        r.latest_report_month,
        case when r.as_of_date is not null then 'fill_date'
             when r.latest_report_month is not null then 'report_month' end as clock_basis
    from received as r
    cross join settings as s
)

select * from final
