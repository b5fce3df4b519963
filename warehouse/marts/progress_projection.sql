-- One row per unit: households completed at the latest month received, the pace of the last twelve months and the projection of that pace to December 2025, against the goal.
with

trajectory as (
    select * from marts.progress_trajectory
),

latest as (
    select * from trajectory
    qualify report_month = max(report_month) over ()
),

-- twelve months earlier, or the first month of the series when it is shorter
base as (
    select
        t.county_code,
        arg_min(t.completed_households, t.report_month) as base_households,
        min(t.report_month) as base_month
    from trajectory as t
    cross join (select max(report_month) as latest_month from trajectory) as a
    where t.report_month >= a.latest_month - interval 12 month
    group by all
),

-- when the data reach beyond 2025, the goal is judged on December 2025 itself
dec_2025 as (
    select county_code, completed_households as households_dec_2025
    from trajectory
    where report_month = date '2025-12-01'
),

paced as (
    select
        l.county_code,
        l.county_name,
        l.sort_order,
        l.report_month as as_of_month,
        l.completed_households,
        l.target_households,
        d.households_dec_2025,
        b.base_month,
        greatest(date_diff('month', b.base_month, l.report_month), 1) as pace_months,
        (l.completed_households - b.base_households) / greatest(date_diff('month', b.base_month, l.report_month), 1) as pace_households_per_month,
        greatest(date_diff('month', l.report_month, date '2025-12-01'), 0) as months_to_goal
    from latest as l
    inner join base as b using (county_code)
    left join dec_2025 as d using (county_code)
),

final as (
    select
        *,
        round(coalesce(households_dec_2025, completed_households + pace_households_per_month * months_to_goal), 0) as projected_households_2025,
        round(100.0 * coalesce(households_dec_2025, completed_households + pace_households_per_month * months_to_goal) / nullif(target_households, 0), 1) as pct_projected_2025,
        round(100.0 * completed_households / nullif(target_households, 0), 1) as pct_completed
    from paced
)

select * from final
