-- One row per unit and plan year: the plan and its state at the year's as-of month (the latest due month of the data clock, at most December), with rates, the progress index, its rank among the units of its prefecture (the code's first four digits, GB/T 2260), its prefecture's rates and the lagging flag.
-- key: county_code, plan_year
with

plan as (
    select
        county_code,
        plan_year,
        count(*) as count_plan_communities,
        cast(coalesce(sum(households), 0) as bigint) as plan_households,
        coalesce(sum(total_invest_wan_yuan), 0) as plan_invest_wan_yuan,
        coalesce(sum(coalesce(central_subsidy_wan_yuan, 0) + coalesce(region_subsidy_wan_yuan, 0)), 0) as plan_subsidy_wan_yuan
    from core.plan_rows
    group by all
),

monthly as (
    select * from marts.progress_monthly
),

counties as (
    -- the unit's prefecture as staging.counties holds it (the code's first four digits, GB/T 2260)
    select county_code, county_name, sort_order, prefecture_code from staging.counties
),

-- the lagging tiers of the bulletin (progress.red_points_behind / yellow_points_behind): one rule everywhere
tiers as (
    select county_code, plan_year, report_month, tier from marts.bulletin_counties
),

-- the state at the last month of the plan year that is due
latest as (
    select * exclude (county_name, sort_order, count_plan_communities, plan_households, plan_invest_wan_yuan, plan_subsidy_wan_yuan)
    from monthly
    qualify report_month = max(report_month) over (partition by plan_year)
),

joined as (
    select
        p.county_code,
        c.prefecture_code,
        c.county_name,
        c.sort_order,
        p.plan_year,
        l.report_month as as_of_month,
        p.count_plan_communities,
        p.plan_households,
        p.plan_invest_wan_yuan,
        p.plan_subsidy_wan_yuan,
        coalesce(l.count_reported_communities, 0) as count_reported_communities,
        coalesce(l.count_started_communities, 0) as count_started_communities,
        coalesce(l.started_households, 0) as started_households,
        coalesce(l.count_completed_communities, 0) as count_completed_communities,
        coalesce(l.completed_households, 0) as completed_households,
        coalesce(l.invest_done_wan_yuan, 0) as invest_done_wan_yuan,
        coalesce(l.paid_wan_yuan, 0) as paid_wan_yuan,
        coalesce(l.count_due_start_communities, 0) as count_due_start_communities
    from plan as p
    left join latest as l using (county_code, plan_year)
    left join counties as c using (county_code)
),

rates as (
    select
        *,
        round(100.0 * count_started_communities / count_plan_communities, 1) as pct_started_communities,
        round(100.0 * count_completed_communities / count_plan_communities, 1) as pct_completed_communities,
        round(100.0 * completed_households / nullif(plan_households, 0), 1) as pct_completed_households,
        round(100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_invest_done,
        round(100.0 * paid_wan_yuan / nullif(plan_subsidy_wan_yuan, 0), 1) as pct_paid_of_subsidy,
        -- the progress index: the mean of start rate, household completion rate and investment rate, each at most 100
        progress_index(100.0 * count_started_communities / count_plan_communities,
                       100.0 * completed_households / nullif(plan_households, 0),
                       100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0)) as progress_index
    from joined
),

-- the prefecture's rates and index of the same year (a province warehouse holds several prefectures)
prefecture as (
    select
        plan_year,
        prefecture_code,
        100.0 * sum(count_started_communities) / sum(count_plan_communities) as pct_started_prefecture,
        100.0 * sum(completed_households) / nullif(sum(plan_households), 0) as pct_completed_prefecture,
        100.0 * sum(invest_done_wan_yuan) / nullif(sum(plan_invest_wan_yuan), 0) as pct_invest_prefecture
    from joined
    group by all
),

final as (
    select
        r.* exclude (progress_index),
        round(r.progress_index, 1) as pct_progress_index,
        round(p.pct_started_prefecture, 1) as pct_started_prefecture,
        round(p.pct_completed_prefecture, 1) as pct_completed_prefecture,
        round(p.pct_invest_prefecture, 1) as pct_invest_prefecture,
        round(progress_index(p.pct_started_prefecture, p.pct_completed_prefecture, p.pct_invest_prefecture), 1)
            as pct_progress_index_prefecture,
        rank() over (partition by r.plan_year, r.prefecture_code order by r.progress_index desc) as progress_rank,
        -- a unit lags when it falls behind the plan's pace by the yellow line or more (tier red or yellow)
        coalesce(t.tier in ('red', 'yellow'), false) as is_lagging
    from rates as r
    inner join prefecture as p using (plan_year, prefecture_code)
    left join tiers as t on t.county_code = r.county_code and t.plan_year = r.plan_year and t.report_month = r.as_of_month
)

select * from final
