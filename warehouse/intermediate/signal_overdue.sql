-- One row per centrally subsidised project of plan year Y in its county's November report of Y, assessed by OVERDUE once that November is due by the data clock: not finished by the deadline of its plan year.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select
        max(value) filter (where key = 'OVERDUE.deadline_month') as deadline_month,
        max(value) filter (where key = 'OVERDUE.deadline_day') as deadline_day
    from marts.signal_thresholds
),

-- a November report handed in before its own deadline may still be completed or corrected: it is
-- judged once November is a due month of the data clock (marts.data_clock_months)
due_months as (
    select report_month from marts.data_clock_months where is_due
),

november as (
    select
        r.*,
        coalesce(r.central_subsidy_wan_yuan, r.plan_central_subsidy_wan_yuan) as central_subsidy,
        make_date(r.plan_year, cast(t.deadline_month as integer), cast(t.deadline_day as integer)) as deadline_date,
        row_number() over (partition by r.project_key order by r.row_number) as dup_rank
    from reports as r
    cross join thresholds as t
    where r.plan_year is not null
      and r.report_month = make_date(r.plan_year, cast(t.deadline_month as integer), 1)
      and coalesce(r.central_subsidy_wan_yuan, r.plan_central_subsidy_wan_yuan) > 0
),

final as (
    select
        md5('OVERDUE|' || report_row_id) as signal_id,
        'OVERDUE' as rule,
        report_month in (select report_month from due_months) as is_assessable,
        report_month in (select report_month from due_months)
            and (finish_date is null or finish_date > deadline_date) as is_flagged,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        -- the less was done, the stronger
        least(1.0, 0.5 + 0.5 * (1 - coalesce(pct_progress, 0) / 100)) as score,
        printf('中央补助资金 %.2f 万元,%s 截至 %s 未完工(%s,形象进度 %s%%);%s 月报 %s 第%d行',
               central_subsidy, cast(plan_year as varchar), strftime(deadline_date, '%Y-%m-%d'),
               case when finish_date is null then '无完工日期' else '完工日期 ' || strftime(finish_date, '%Y-%m-%d') end,
               coalesce(cast(round(pct_progress, 1) as varchar), '—'), period, file_name, row_number) as evidence,
        file_name,
        sheet_name,
        row_number,
        [report_row_id] as row_ids,
        plan_row_id,
        project_key
    from november
    where dup_rank = 1
)

select * from final
