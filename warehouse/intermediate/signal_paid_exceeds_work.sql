-- One row per current monthly-report row, evaluated by PAID_EXCEEDS_WORK (is_hit: paid out beyond work done plus a share of the plan, or beyond the plan); intermediate.signal_first_flagged picks the row that stands for each project.
-- key: signal_id
with

reports as (
    select * from intermediate.signal_report_sequence
),

thresholds as (
    select max(value) filter (where key = 'PAID_EXCEEDS_WORK.pct_of_plan') as pct_of_plan
    from marts.signal_thresholds
),

checked as (
    select
        r.*,
        t.pct_of_plan,
        coalesce(r.total_invest_wan_yuan, r.plan_total_invest_wan_yuan) as total_invest,
        r.paid_wan_yuan is not null and r.invest_done_wan_yuan is not null
            and coalesce(r.total_invest_wan_yuan, r.plan_total_invest_wan_yuan) is not null as is_assessable
    from reports as r
    cross join thresholds as t
),

hits as (
    select
        *,
        coalesce(is_assessable and (
            paid_wan_yuan > invest_done_wan_yuan + pct_of_plan * total_invest + 1e-9
            or paid_wan_yuan > total_invest + 1e-9
        ), false) as is_hit
    from checked
),

final as (
    select
        md5('PAID_EXCEEDS_WORK|' || report_row_id) as signal_id,
        'PAID_EXCEEDS_WORK' as rule,
        is_assessable,
        is_hit,
        county_code,
        county_name,
        plan_year,
        period,
        name as community_name,
        -- how far the payment runs ahead of the allowed amount, relative to the plan
        least(1.0, 0.5 + greatest(paid_wan_yuan - least(invest_done_wan_yuan + pct_of_plan * total_invest, total_invest), 0)
                            / nullif(total_invest, 0)) as score,
        case when paid_wan_yuan > total_invest
            then printf('累计拨付 %.2f 万元 > 计划总投资 %.2f 万元;累计完成投资 %.2f 万元;月报 %s 第%d行',
                        paid_wan_yuan, total_invest, invest_done_wan_yuan, file_name, row_number)
            else printf('累计拨付 %.2f 万元 > 累计完成投资 %.2f 万元 + %d%% × 计划总投资 %.2f 万元 = %.2f 万元;月报 %s 第%d行',
                        paid_wan_yuan, invest_done_wan_yuan, cast(round(pct_of_plan * 100) as integer), total_invest,
                        invest_done_wan_yuan + pct_of_plan * total_invest, file_name, row_number)
        end as evidence,
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
