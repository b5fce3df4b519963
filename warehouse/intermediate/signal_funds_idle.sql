-- One row per current monthly-report row, evaluated by FUNDS_IDLE (is_hit: funds paid but not started for N consecutive reports up to this one); intermediate.signal_first_flagged picks the row that stands for each project.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select max(value) filter (where key = 'FUNDS_IDLE.consecutive_months') as consecutive_months
    from marts.signal_thresholds
),

checked as (
    select
        r.*,
        r.pct_progress is not null as is_assessable,
        coalesce(r.paid_wan_yuan, 0) > 0 and r.start_date is null and coalesce(r.pct_progress, 0) = 0 as is_idle
    from reports as r
),

-- islands of consecutive idle reports of one project
islands as (
    select
        *,
        report_seq - row_number() over (partition by project_key, is_idle order by report_seq) as island
    from checked
),

runs as (
    select
        i.*,
        t.consecutive_months,
        row_number() over (partition by project_key, is_idle, island order by report_seq) as run_length,
        min(report_month) over (partition by project_key, is_idle, island) as idle_since,
        list(period) over (partition by project_key, is_idle, island order by report_seq) as idle_periods,
        list(report_row_id) over (partition by project_key, is_idle, island order by report_seq) as idle_row_ids
    from islands as i
    cross join thresholds as t
),

hits as (
    select *, coalesce(is_idle and run_length >= consecutive_months, false) as is_hit
    from runs
),

final as (
    select
        md5('FUNDS_IDLE|' || report_row_id) as signal_id,
        'FUNDS_IDLE' as rule,
        is_assessable,
        is_hit,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        -- the share of the planned investment already paid out while nothing moved
        least(1.0, 0.5 + 0.5 * coalesce(paid_wan_yuan / nullif(coalesce(total_invest_wan_yuan, plan_total_invest_wan_yuan), 0), 0)) as score,
        printf('已拨付 %.2f 万元,但连续 %d 期月报未开工(无开工日期、形象进度 0%%):%s;月报 %s 第%d行',
               paid_wan_yuan, cast(run_length as integer), array_to_string(idle_periods[-cast(consecutive_months as integer):], '、'),
               file_name, row_number) as evidence,
        file_name,
        sheet_name,
        row_number,
        idle_row_ids[-cast(consecutive_months as integer):] as row_ids,
        plan_row_id,
        project_key,
        report_row_id,
        report_seq
    from hits
)

select * from final
