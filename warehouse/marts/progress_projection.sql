-- One row per unit: households completed at the latest due month of the data clock, the pace of the last months (progress.pace_months) and the projection of that pace to December of the goal's end year, against the goal.
-- key: county_code
with

trajectory as (
    select * from marts.progress_trajectory
),

settings as (
    select
        make_date(cast(max(value) filter (where key = 'goal.end_year') as integer), 12, 1) as goal_month,
        cast(max(value) filter (where key = 'progress.pace_months') as integer) as pace_months
    from marts.settings
),

latest as (
    select * from trajectory
    qualify report_month = max(report_month) over ()
),

-- the pace window earlier, or the first month of the series when it is shorter
base as (
    select
        t.county_code,
        arg_min(t.completed_households, t.report_month) as base_households,
        min(t.report_month) as base_month
    from trajectory as t
    cross join (select max(report_month) as latest_month from trajectory) as a
    cross join settings as s
    where t.report_month >= a.latest_month - to_months(s.pace_months)
    group by all
),

-- when the data reach beyond the goal's end, the goal is judged on that December itself
goal_month_state as (
    select t.county_code, t.completed_households as households_goal_month
    from trajectory as t
    cross join settings as s
    where t.report_month = s.goal_month
),

paced as (
    select
        l.county_code,
        l.county_name,
        l.sort_order,
        l.report_month as as_of_month,
        l.completed_households,
        l.target_households,
        s.goal_month,
        d.households_goal_month,
        b.base_month,
        greatest(date_diff('month', b.base_month, l.report_month), 1) as pace_months,
        (l.completed_households - b.base_households) / greatest(date_diff('month', b.base_month, l.report_month), 1) as pace_households_per_month,
        greatest(date_diff('month', l.report_month, s.goal_month), 0) as months_to_goal
    from latest as l
    inner join base as b using (county_code)
    cross join settings as s
    left join goal_month_state as d using (county_code)
),

final as (
    select
        *,
        round(coalesce(households_goal_month, completed_households + pace_households_per_month * months_to_goal), 0) as projected_households_goal,
        round(100.0 * coalesce(households_goal_month, completed_households + pace_households_per_month * months_to_goal) / nullif(target_households, 0), 1) as pct_projected_goal,
        round(100.0 * completed_households / nullif(target_households, 0), 1) as pct_completed
    from paced
)

select * from final
