-- One row per current monthly-report row, evaluated by PROGRESS_JUMP (is_hit: 形象进度 rises by more than the limit from the project's previous report, for a project of enough households); intermediate.signal_first_flagged picks the row that stands for each project.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select
        max(value) filter (where key = 'PROGRESS_JUMP.max_rise_points') as max_rise_points,
        max(value) filter (where key = 'PROGRESS_JUMP.min_households') as min_households
    from marts.signal_thresholds
),

checked as (
    select
        r.*,
        t.max_rise_points,
        t.min_households,
        coalesce(r.households, r.plan_households) as project_households,
        -- "in one month": from the project's previous monthly report to this one
        r.prev_report_row_id is not null and r.pct_progress is not null and r.prev_pct_progress is not null
            and coalesce(r.households, r.plan_households) is not null as is_assessable
    from reports as r
    cross join thresholds as t
),

hits as (
    select
        *,
        coalesce(is_assessable and project_households >= min_households
                 and pct_progress - prev_pct_progress > max_rise_points + 1e-9, false) as is_hit
    from checked
),

final as (
    select
        md5('PROGRESS_JUMP|' || report_row_id) as signal_id,
        'PROGRESS_JUMP' as rule,
        is_assessable,
        is_hit,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        least(1.0, 0.5 + (coalesce(pct_progress - prev_pct_progress, 0) - max_rise_points) / 40) as score,
        printf('形象进度 %.1f%% → %.1f%%(一个月上升 %.1f 个百分点 > %d),户数 %d;%s 月报 %s 第%d行,上期 %s 第%d行',
               prev_pct_progress, pct_progress, pct_progress - prev_pct_progress,
               cast(max_rise_points as integer), project_households, period, file_name, row_number,
               prev_file_name, prev_row_number) as evidence,
        file_name,
        sheet_name,
        row_number,
        [prev_report_row_id, report_row_id] as row_ids,
        plan_row_id,
        project_key,
        report_row_id,
        report_seq
    from hits
)

select * from final
