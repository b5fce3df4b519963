-- One row per monthly-reported project with the columns the report signal suite asserts on: its reported 户数 against its plan row, at its first report beyond the margin (else its latest report).
with

reports as (
    select * from marts.signal_report_sequence
),

thresholds as (
    select
        max(value) filter (where key = 'INFLATED_SCALE.pct_over') as scale_pct_over,
        max(value) filter (where key = 'INFLATED_SCALE.min_households') as scale_min_households
    from marts.signal_thresholds
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

units as (
    select
        *,
        min(report_seq) filter (where is_hit) over (partition by project_key) as first_hit_seq,
        max(report_seq) filter (where is_assessable) over (partition by project_key) as last_assessable_seq,
        max(report_seq) over (partition by project_key) as last_seq
    from checked
),

plan_rows as (
    select plan_row_id, file_name as plan_file_name, row_number as plan_row_number from core.plan_rows
),

final as (
    select
        u.report_row_id,
        u.project_key,
        u.plan_row_id,
        u.county_code,
        u.county_name,
        u.plan_year,
        u.period,
        u.name,
        u.file_name,
        u.sheet_name,
        u.row_number,
        u.households,
        u.plan_households,
        case when u.is_assessable then not u.is_hit end as is_households_within_plan,
        u.households / nullif(u.plan_households, 0) - 1 as households_excess_ratio,
        least(1.0, 0.4 + u.households / nullif(u.plan_households, 0) - 1) as inflated_scale_score,
        printf('月报户数 %d > 计划户数 %d(%+d%%);%s 月报 %s 第%d行,计划 %s 第%d行',
               u.households, u.plan_households, cast(round((u.households / nullif(u.plan_households, 0) - 1) * 100) as integer),
               u.period, u.file_name, u.row_number, p.plan_file_name, p.plan_row_number) as inflated_scale_evidence
    from units as u
    left join plan_rows as p using (plan_row_id)
    where u.report_seq = coalesce(u.first_hit_seq, u.last_assessable_seq, u.last_seq)
)

select * from final
