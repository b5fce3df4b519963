-- One row per county and report month with a monthly report, assessed by LATE_REPORT: its first submission was filled after the month's deadline, the due day of the next month (marts.data_clock_months; no fill date: not assessable).
-- key: signal_id
with

first_submissions as (
    select * from core.submissions where kind = 'monthly' and is_first_submission
),

counties as (
    select county_code, county_name from staging.counties
),

-- the deadline of every month, by the data clock
deadlines as (
    select report_month, due_date from marts.data_clock_months
),

checked as (
    select
        s.*,
        c.county_name,
        cast(s.period || '-01' as date) as report_month,
        d.due_date
    from first_submissions as s
    left join deadlines as d on d.report_month = cast(s.period || '-01' as date)
    left join counties as c using (county_code)
),

final as (
    select
        md5('LATE_REPORT|' || county_code || '|' || period) as signal_id,
        'LATE_REPORT' as rule,
        fill_date is not null as is_assessable,
        coalesce(fill_date > due_date, false) as is_flagged,
        county_code,
        county_name,
        cast(null as integer) as plan_year,
        period,
        cast(null as varchar) as community_name,
        least(1.0, 0.5 + date_diff('day', due_date, fill_date) / 60) as score,
        printf('%s 月报首次报送的填报日期 %s,晚于 %s(迟 %d 天);文件 %s',
               strftime(report_month, '%Y年%m月'), strftime(fill_date, '%Y-%m-%d'), strftime(due_date, '%Y-%m-%d'),
               date_diff('day', due_date, fill_date), file_name) as evidence,
        file_name,
        cast(null as varchar) as sheet_name,
        cast(null as integer) as row_number,
        [file_hash] as row_ids,
        cast(null as varchar) as plan_row_id,
        cast(null as varchar) as project_key
    from checked
)

select * from final
