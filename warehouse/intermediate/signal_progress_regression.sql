-- One row per current monthly-report row, evaluated by PROGRESS_REGRESSION (is_hit: 形象进度 falls by more than the margin, or 累计完成投资 falls, from the project's previous report); intermediate.signal_first_flagged picks the row that stands for each project.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select max(value) filter (where key = 'PROGRESS_REGRESSION.max_drop_points') as max_drop_points
    from marts.signal_thresholds
),

checked as (
    select
        r.*,
        t.max_drop_points,
        r.prev_report_row_id is not null
            and ((r.pct_progress is not null and r.prev_pct_progress is not null)
                 or (r.invest_done_wan_yuan is not null and r.prev_invest_done_wan_yuan is not null)) as is_assessable,
        coalesce(r.prev_pct_progress - r.pct_progress > t.max_drop_points + 1e-9, false) as is_progress_drop,
        coalesce(r.invest_done_wan_yuan < r.prev_invest_done_wan_yuan - 1e-6, false) as is_invest_drop
    from reports as r
    cross join thresholds as t
),

hits as (
    select *, is_assessable and (is_progress_drop or is_invest_drop) as is_hit
    from checked
),

final as (
    select
        md5('PROGRESS_REGRESSION|' || report_row_id) as signal_id,
        'PROGRESS_REGRESSION' as rule,
        is_assessable,
        is_hit,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        least(1.0, 0.5 + greatest(coalesce(prev_pct_progress - pct_progress, 0) / 100,
                                  coalesce((prev_invest_done_wan_yuan - invest_done_wan_yuan) / nullif(prev_invest_done_wan_yuan, 0), 0))) as score,
        concat_ws(';',
            case when is_progress_drop then printf('形象进度 %.1f%% → %.1f%%(下降 %.1f 个百分点)',
                 prev_pct_progress, pct_progress, prev_pct_progress - pct_progress) end,
            case when is_invest_drop then printf('累计完成投资 %.2f → %.2f 万元', prev_invest_done_wan_yuan, invest_done_wan_yuan) end,
            printf('%s 月报 %s 第%d行,上期 %s 第%d行', period, file_name, row_number, prev_file_name, prev_row_number)
        ) as evidence,
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
