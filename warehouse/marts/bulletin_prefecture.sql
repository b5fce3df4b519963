-- One row per prefecture, plan year and report month of marts.bulletin_counties (a province warehouse holds several prefectures): the prefecture's plan, state and this month's changes, its progress index against the plan's pace and tier, and how many units stand in each tier.
-- key: prefecture_code, plan_year, report_month
with

settings as (
    select
        max(value) filter (where key = 'progress.red_points_behind') as red_points_behind,
        max(value) filter (where key = 'progress.yellow_points_behind') as yellow_points_behind
    from marts.settings
),

counties as (
    select * from marts.bulletin_counties
),

sums as (
    select
        prefecture_code,
        plan_year,
        report_month,
        count(*) as count_units,
        cast(sum(count_plan_communities) as bigint) as count_plan_communities,
        cast(sum(plan_households) as bigint) as plan_households,
        sum(plan_invest_wan_yuan) as plan_invest_wan_yuan,
        sum(plan_subsidy_wan_yuan) as plan_subsidy_wan_yuan,
        cast(sum(count_started_communities) as bigint) as count_started_communities,
        cast(sum(started_households) as bigint) as started_households,
        cast(sum(count_completed_communities) as bigint) as count_completed_communities,
        cast(sum(completed_households) as bigint) as completed_households,
        sum(invest_done_wan_yuan) as invest_done_wan_yuan,
        sum(paid_wan_yuan) as paid_wan_yuan,
        cast(sum(count_new_started_communities) as bigint) as count_new_started_communities,
        cast(sum(new_started_households) as bigint) as new_started_households,
        cast(sum(count_new_completed_communities) as bigint) as count_new_completed_communities,
        cast(sum(new_completed_households) as bigint) as new_completed_households,
        round(sum(invest_added_wan_yuan), 2) + 0.0 as invest_added_wan_yuan,
        round(sum(paid_added_wan_yuan), 2) + 0.0 as paid_added_wan_yuan,
        cast(sum(count_pace_started_communities) as bigint) as count_pace_started_communities,
        cast(sum(pace_completed_households) as bigint) as pace_completed_households,
        sum(pace_invest_wan_yuan) as pace_invest_wan_yuan,
        count(*) filter (where tier = 'red') as count_red_units,
        count(*) filter (where tier = 'yellow') as count_yellow_units,
        count(*) filter (where tier = 'green') as count_green_units
    from counties
    group by all
),

indexed as (
    select
        *,
        round(100.0 * count_started_communities / count_plan_communities, 1) as pct_started_communities,
        round(100.0 * started_households / nullif(plan_households, 0), 1) as pct_started_households,
        round(100.0 * count_completed_communities / count_plan_communities, 1) as pct_completed_communities,
        round(100.0 * completed_households / nullif(plan_households, 0), 1) as pct_completed_households,
        round(100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0), 1) as pct_invest_done,
        round(100.0 * paid_wan_yuan / nullif(plan_subsidy_wan_yuan, 0), 1) as pct_paid_of_subsidy,
        -- the progress index and the plan's pace as for a unit, on the prefecture's sums
        round(progress_index(100.0 * count_started_communities / count_plan_communities,
                             100.0 * completed_households / nullif(plan_households, 0),
                             100.0 * invest_done_wan_yuan / nullif(plan_invest_wan_yuan, 0)), 1) as pct_progress_index,
        round((100.0 * count_pace_started_communities / count_plan_communities
               + coalesce(100.0 * pace_completed_households / nullif(plan_households, 0), 0)
               + coalesce(100.0 * pace_invest_wan_yuan / nullif(plan_invest_wan_yuan, 0), 0)) / 3, 1) as pct_pace_index
    from sums
),

final as (
    select
        i.*,
        round(i.pct_pace_index - i.pct_progress_index, 1) as points_behind_pace,
        case
            when s.red_points_behind is null then null
            when round(i.pct_pace_index - i.pct_progress_index, 1) > s.red_points_behind then 'red'
            when round(i.pct_pace_index - i.pct_progress_index, 1) >= s.yellow_points_behind then 'yellow'
            else 'green'
        end as tier
    from indexed as i
    cross join settings as s
)

select * from final
