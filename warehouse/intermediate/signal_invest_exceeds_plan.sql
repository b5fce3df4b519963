-- One row per current monthly-report row, evaluated by INVEST_EXCEEDS_PLAN (is_hit: work done beyond the planned total by more than the margin); intermediate.signal_first_flagged picks the row that stands for each project.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select max(value) filter (where key = 'INVEST_EXCEEDS_PLAN.pct_over') as pct_over
    from marts.signal_thresholds
),

checked as (
    select
        r.*,
        t.pct_over,
        coalesce(r.total_invest_wan_yuan, r.plan_total_invest_wan_yuan) as total_invest,
        r.invest_done_wan_yuan is not null
            and coalesce(r.total_invest_wan_yuan, r.plan_total_invest_wan_yuan) > 0 as is_assessable
    from reports as r
    cross join thresholds as t
),

hits as (
    select *, coalesce(is_assessable and invest_done_wan_yuan > total_invest * (1 + pct_over) + 1e-9, false) as is_hit
    from checked
),

final as (
    select
        md5('INVEST_EXCEEDS_PLAN|' || report_row_id) as signal_id,
        'INVEST_EXCEEDS_PLAN' as rule,
        is_assessable,
        is_hit,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        least(1.0, 0.5 + (invest_done_wan_yuan / nullif(total_invest, 0) - 1 - pct_over)) as score,
        printf('累计完成投资 %.2f 万元 > 计划总投资 %.2f 万元(+%d%%,上限 +%d%%);月报 %s 第%d行',
               invest_done_wan_yuan, total_invest,
               cast(round((invest_done_wan_yuan / nullif(total_invest, 0) - 1) * 100) as integer),
               cast(round(pct_over * 100) as integer), file_name, row_number) as evidence,
        file_name,
        sheet_name,
        row_number,
        [report_row_id] as row_ids,
        plan_row_id,
        project_key,
        report_row_id,
        report_seq
    from hits
)

select * from final
