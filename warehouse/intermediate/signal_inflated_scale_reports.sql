-- One row per current monthly-report row, evaluated by INFLATED_SCALE against its plan row (is_hit: its 户数 exceeds the plan's by the margin); intermediate.signal_first_flagged picks the row that stands for each project, which the report signal suite asserts on (intermediate.signal_report_checks).
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select
        max(value) filter (where key = 'INFLATED_SCALE.pct_over') as scale_pct_over,
        max(value) filter (where key = 'INFLATED_SCALE.min_households') as scale_min_households
    from marts.signal_thresholds
),

plan_rows as (
    select plan_row_id, file_name as plan_file_name, row_number as plan_row_number from core.plan_rows
),

checked as (
    select
        r.*,
        r.households is not null and r.plan_households is not null as is_assessable,
        coalesce(r.households > r.plan_households * (1 + t.scale_pct_over)
                 and r.households - r.plan_households >= t.scale_min_households, false) as is_hit
    from reports as r
    cross join thresholds as t
),

final as (
    select
        md5('INFLATED_SCALE|' || c.report_row_id) as signal_id,
        'INFLATED_SCALE' as rule,
        c.is_assessable,
        c.is_hit,
        c.county_code,
        c.county_name,
        c.plan_year,
        c.period,
        c.name as community_name,
        least(1.0, 0.4 + c.households / nullif(c.plan_households, 0) - 1) as score,
        printf('月报户数 %d > 计划户数 %d(%+d%%);%s 月报 %s 第%d行,计划 %s 第%d行',
               c.households, c.plan_households, cast(round((c.households / nullif(c.plan_households, 0) - 1) * 100) as integer),
               c.period, c.file_name, c.row_number, p.plan_file_name, p.plan_row_number) as evidence,
        c.file_name,
        c.sheet_name,
        c.row_number,
        list_filter([c.plan_row_id, c.report_row_id], lambda x: x is not null) as row_ids,
        c.plan_row_id,
        c.project_key,
        c.report_row_id,
        c.report_seq
    from checked as c
    left join plan_rows as p using (plan_row_id)
)

select * from final
