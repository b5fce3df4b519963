-- One row per project row of a monthly resubmission, assessed by RETRO_REVISION: filled after the end of month M+1 and changing any value of the previous submission of month M.
-- key: signal_id
with

history as (
    select * from core.report_rows_history
),

links as (
    select from_id as report_row_id, case when is_match then to_id end as plan_row_id, project_key
    from core.identity_links where kind = 'report_plan'
),

rows as (
    select
        h.*,
        l.plan_row_id,
        coalesce(l.project_key, h.county_code || '|' || coalesce(cast(h.plan_year as varchar), '') || '|' || h.name) as project_key
    from history as h
    left join links as l using (report_row_id)
),

-- the submission each resubmission replaced: the next older one of the same county and month
resubmissions as (
    select * from rows where submission_rank < count_submissions
),

previous as (
    select * from rows
),

paired as (
    select
        r.*,
        p.report_row_id as prev_report_row_id,
        p.file_name as prev_file_name,
        p.row_number as prev_row_number,
        p.fill_date as prev_fill_date,
        -- filled after the end of month M+1
        r.fill_date is not null as is_assessable,
        coalesce(r.fill_date >= r.report_month + interval 2 month, false) as is_late,
        -- a project row the replaced submission did not have is a change too; an optional column
        -- (subsidies, satisfaction, property management, elevators) left out of one file is no change
        case when p.report_row_id is null then '新增项目行' else concat_ws(';',
            case when r.households is distinct from p.households then '户数 ' || coalesce(cast(p.households as varchar), '空') || '→' || coalesce(cast(r.households as varchar), '空') end,
            case when abs(coalesce(r.total_invest_wan_yuan, -1) - coalesce(p.total_invest_wan_yuan, -1)) > 1e-6 then '计划总投资 ' || coalesce(cast(p.total_invest_wan_yuan as varchar), '空') || '→' || coalesce(cast(r.total_invest_wan_yuan as varchar), '空') end,
            case when abs(r.central_subsidy_wan_yuan - p.central_subsidy_wan_yuan) > 1e-6 then '中央补助资金 ' || coalesce(cast(p.central_subsidy_wan_yuan as varchar), '空') || '→' || coalesce(cast(r.central_subsidy_wan_yuan as varchar), '空') end,
            case when abs(r.region_subsidy_wan_yuan - p.region_subsidy_wan_yuan) > 1e-6 then '自治区补助资金 ' || coalesce(cast(p.region_subsidy_wan_yuan as varchar), '空') || '→' || coalesce(cast(r.region_subsidy_wan_yuan as varchar), '空') end,
            case when r.start_date is distinct from p.start_date then '开工日期 ' || coalesce(cast(p.start_date as varchar), '空') || '→' || coalesce(cast(r.start_date as varchar), '空') end,
            case when abs(coalesce(r.pct_progress, -1) - coalesce(p.pct_progress, -1)) > 1e-6 then '形象进度 ' || coalesce(cast(p.pct_progress as varchar), '空') || '→' || coalesce(cast(r.pct_progress as varchar), '空') end,
            case when abs(coalesce(r.invest_done_wan_yuan, -1) - coalesce(p.invest_done_wan_yuan, -1)) > 1e-6 then '累计完成投资 ' || coalesce(cast(p.invest_done_wan_yuan as varchar), '空') || '→' || coalesce(cast(r.invest_done_wan_yuan as varchar), '空') end,
            case when abs(coalesce(r.paid_wan_yuan, -1) - coalesce(p.paid_wan_yuan, -1)) > 1e-6 then '累计拨付资金 ' || coalesce(cast(p.paid_wan_yuan as varchar), '空') || '→' || coalesce(cast(r.paid_wan_yuan as varchar), '空') end,
            case when r.finish_date is distinct from p.finish_date then '完工日期 ' || coalesce(cast(p.finish_date as varchar), '空') || '→' || coalesce(cast(r.finish_date as varchar), '空') end,
            case when r.accept_date is distinct from p.accept_date then '验收日期 ' || coalesce(cast(p.accept_date as varchar), '空') || '→' || coalesce(cast(r.accept_date as varchar), '空') end,
            case when abs(r.pct_satisfaction - p.pct_satisfaction) > 1e-6 then '居民满意度 ' || coalesce(cast(p.pct_satisfaction as varchar), '空') || '→' || coalesce(cast(r.pct_satisfaction as varchar), '空') end,
            case when r.has_property_mgmt <> p.has_property_mgmt then '物业管理 ' || coalesce(cast(p.has_property_mgmt as varchar), '空') || '→' || coalesce(cast(r.has_property_mgmt as varchar), '空') end,
            case when r.elevators <> p.elevators then '加装电梯 ' || coalesce(cast(p.elevators as varchar), '空') || '→' || coalesce(cast(r.elevators as varchar), '空') end
        ) end as changes
    from resubmissions as r
    left join previous as p
        on p.county_code = r.county_code
       and p.report_month = r.report_month
       and p.submission_rank = r.submission_rank + 1
       and p.project_key = r.project_key
),

-- once per project and revised month: the newest flagged resubmission
units as (
    select
        *,
        row_number() over (
            partition by project_key, report_month
            order by (is_assessable and is_late and changes <> '') desc, submission_rank
        ) as unit_rank
    from paired
),

final as (
    select
        md5('RETRO_REVISION|' || report_row_id) as signal_id,
        'RETRO_REVISION' as rule,
        is_assessable,
        is_assessable and is_late and changes <> '' as is_flagged,
        county_code,
        county_name,
        plan_year,
        strftime(report_month, '%Y-%m') as period,
        name as community_name,
        least(1.0, 0.5 + date_diff('day', report_month + interval 2 month, fill_date) / 365) as score,
        -- printf gives null when any argument is null: a row the replaced submission lacked has no
        -- previous file and row, and a file without a fill date none either
        printf('%s 月报于 %s 重报(原报 %s),修改:%s;新 %s 第%d行,%s',
               strftime(report_month, '%Y-%m'), coalesce(strftime(fill_date, '%Y-%m-%d'), '无填报日期'),
               coalesce(strftime(prev_fill_date, '%Y-%m-%d'), '无填报日期'), changes,
               file_name, row_number,
               case when prev_report_row_id is null then '原报无此项目行'
                    else printf('原 %s 第%d行', prev_file_name, prev_row_number) end) as evidence,
        file_name,
        sheet_name,
        row_number,
        [prev_report_row_id, report_row_id] as row_ids,
        plan_row_id,
        project_key
    from units
    where unit_rank = 1
)

select * from final
