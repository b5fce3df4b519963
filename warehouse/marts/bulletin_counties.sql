-- One row per unit, plan year and report month of marts.progress_monthly (the months due by the data clock): the month's changes (new starts and completions, investment and payment added), the progress index against the plan's pace, the lagging tier, and the rank among the units of its prefecture (the code's first four digits, GB/T 2260) with its change since the previous month.
-- key: county_code, plan_year, report_month
-- progress_index is the index unrounded, as it ranks (pct_progress_index is the figure shown): the one
-- place that computes it, so that pipelines.incremental.RANKS re-ranks by this column, not by a copy of the
-- expression. Internal: pages, the bulletin and exports choose their columns and do not show it.
with

settings as (
    select
        max(value) filter (where key = 'progress.red_points_behind') as red_points_behind,
        max(value) filter (where key = 'progress.yellow_points_behind') as yellow_points_behind
    from marts.settings
),

monthly as (
    select * from marts.progress_monthly
),

-- the unit's prefecture as staging.counties holds it (the code's first four digits, GB/T 2260)
prefectures as (
    select county_code, prefecture_code from staging.counties
),

indexed as (
    select
        m.*,
        k.prefecture_code,
        s.count_pace_started_communities,
        s.pace_completed_households,
        s.pace_invest_wan_yuan,
        -- the progress index of marts.progress_county: the mean of start rate, household completion rate and
        -- investment rate, each at most 100
        progress_index(100.0 * m.count_started_communities / m.count_plan_communities,
                       100.0 * m.completed_households / nullif(m.plan_households, 0),
                       100.0 * m.invest_done_wan_yuan / nullif(m.plan_invest_wan_yuan, 0)) as progress_index,
        -- the same index of what the plan expects by the end of the month
        (100.0 * s.count_pace_started_communities / m.count_plan_communities
         + coalesce(100.0 * s.pace_completed_households / nullif(m.plan_households, 0), 0)
         + coalesce(100.0 * s.pace_invest_wan_yuan / nullif(m.plan_invest_wan_yuan, 0), 0)) / 3 as pace_index
    from monthly as m
    -- what the plan expects by the end of each month (marts.bulletin_schedule)
    left join marts.bulletin_schedule as s using (county_code, plan_year, report_month)
    left join prefectures as k using (county_code)
),

ranked as (
    select
        *,
        round(progress_index, 1) as pct_progress_index,
        round(pace_index, 1) as pct_pace_index,
        -- from the rounded figures, so that the difference shown is the difference of the figures shown
        round(round(pace_index, 1) - round(progress_index, 1), 1) as points_behind_pace,
        rank() over (partition by plan_year, report_month, prefecture_code order by progress_index desc) as progress_rank
    from indexed
),

final as (
    select
        r.county_code,
        r.prefecture_code,
        r.county_name,
        r.sort_order,
        r.plan_year,
        r.report_month,
        r.count_plan_communities,
        r.plan_households,
        r.plan_invest_wan_yuan,
        r.plan_subsidy_wan_yuan,
        r.count_reported_communities,
        r.count_started_communities,
        r.started_households,
        r.count_completed_communities,
        r.completed_households,
        r.invest_done_wan_yuan,
        r.paid_wan_yuan,
        -- this month's changes: the cumulative state less the previous month's (January: less nothing)
        r.count_started_communities - coalesce(lag(r.count_started_communities) over w, 0)
            as count_new_started_communities,
        r.started_households - coalesce(lag(r.started_households) over w, 0) as new_started_households,
        r.count_completed_communities - coalesce(lag(r.count_completed_communities) over w, 0)
            as count_new_completed_communities,
        r.completed_households - coalesce(lag(r.completed_households) over w, 0) as new_completed_households,
        -- money to the cent of a 万元 figure (+ 0.0 turns a rounded -0.0 into 0.0)
        round(r.invest_done_wan_yuan - coalesce(lag(r.invest_done_wan_yuan) over w, 0), 2) + 0.0 as invest_added_wan_yuan,
        round(r.paid_wan_yuan - coalesce(lag(r.paid_wan_yuan) over w, 0), 2) + 0.0 as paid_added_wan_yuan,
        r.count_pace_started_communities,
        r.pace_completed_households,
        r.pace_invest_wan_yuan,
        round(100.0 * r.invest_done_wan_yuan / nullif(r.plan_invest_wan_yuan, 0), 1) as pct_invest_done,
        r.progress_index,
        r.pct_progress_index,
        r.pct_pace_index,
        r.points_behind_pace,
        case
            when s.red_points_behind is null then null
            when r.points_behind_pace > s.red_points_behind then 'red'
            when r.points_behind_pace >= s.yellow_points_behind then 'yellow'
            else 'green'
        end as tier,
        r.progress_rank,
        lag(r.progress_rank) over w as prev_progress_rank,
        -- positive: moved up since the previous month
        lag(r.progress_rank) over w - r.progress_rank as rank_change
    from ranked as r
    cross join settings as s
    window w as (partition by r.county_code, r.plan_year order by r.report_month)
)

select * from final
