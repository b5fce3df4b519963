-- One row per county and scoring year: the counts and sums each indicator of the annual check and the biennial evaluation needs, and the as-of label of a year still in progress (scored as of the latest due month of the data clock).
-- key: county_code, score_year
with

-- the program's deadlines, notice minimum and goal (program.toml, published to marts.settings)
settings as (
    select
        cast(max(value) filter (where key = 'notice.min_working_days') as integer) as notice_min_days,
        cast(max(value) filter (where key = 'completion.deadline_month') as integer) as deadline_month,
        cast(max(value) filter (where key = 'completion.deadline_day') as integer) as deadline_day,
        cast(max(value) filter (where key = 'goal.built_until') as integer) as old_built_until
    from marts.settings
),

counties as (
    select county_code, county_name, sort_order from staging.counties
),

indicator_rows as (
    select * from intermediate.indicator_rows
),

indicator_months as (
    select * from intermediate.indicator_months
),

ledger as (
    select * from core.ledger_communities
),

years as (
    select distinct score_year, as_of_month from indicator_rows
),

plan_rows as (
    -- P: the current plan rows of year Y, duplicates included
    select r.*, least(make_date(r.score_year, s.deadline_month, s.deadline_day), r.cutoff_date) as deadline_date,
           coalesce(r.notice_days >= s.notice_min_days, false) as is_notice_ok
    from indicator_rows as r
    cross join settings as s
    where r.is_score_year_plan
),

plan_sums as (
    select
        county_code,
        score_year,
        count(*) as count_plan_rows,
        count(*) filter (where is_started) as count_started,
        count(*) filter (where central_subsidy_wan_yuan > 0) as count_subsidised,
        count(*) filter (where central_subsidy_wan_yuan > 0 and finish_date <= deadline_date)
            as count_subsidised_ontime,
        count(*) filter (where finish_date <= deadline_date) as count_all_ontime,
        sum(invest_done_wan_yuan) as sum_invest_done_wan_yuan,
        sum(total_invest_wan_yuan) as sum_total_invest_wan_yuan,
        sum(paid_wan_yuan) as sum_paid_wan_yuan,
        sum(central_subsidy_wan_yuan + region_subsidy_wan_yuan) as sum_subsidy_wan_yuan,
        count(*) filter (where is_accepted and pct_satisfaction is not null) as count_satisfaction_rows,
        cast(coalesce(sum(households) filter (where is_accepted and pct_satisfaction is not null), 0) as bigint)
            as sum_satisfaction_households,
        coalesce(sum(households * pct_satisfaction) filter (where is_accepted and pct_satisfaction is not null), 0)
            as sum_satisfaction_weighted,
        cast(coalesce(sum(households) filter (where is_completed), 0) as bigint) as sum_households_completed,
        cast(sum(households) as bigint) as sum_households,
        count(*) filter (where is_completed) as count_completed,
        count(*) filter (where is_completed and coalesce(has_property_mgmt, false)) as count_completed_with_property,
        count(*) filter (where is_notice_ok) as count_notice_ok
    from plan_rows
    group by county_code, score_year
),

progress_sums as (
    -- all of the county's plan rows of years <= Y, each by its latest report up to December of Y
    select county_code, score_year, cast(sum(households) filter (where is_completed) as bigint) as sum_households_completed_to_date
    from indicator_rows
    group by county_code, score_year
),

month_sums as (
    select
        m.county_code,
        m.score_year,
        count(*) as count_months_due,
        -- on time: first submission filled by the month's deadline; no fill date counts as on time
        count(*) filter (
            where m.has_report and (m.first_fill_date is null or m.first_fill_date <= m.due_date)
        ) as count_months_ontime
    from indicator_months as m
    group by m.county_code, m.score_year
),

ledger_sums as (
    select l.county_code, cast(coalesce(sum(l.households), 0) as bigint) as sum_ledger_households_old
    from ledger as l
    cross join settings as s
    where l.build_year <= s.old_built_until
    group by l.county_code
),

final as (
    select
        c.county_code,
        c.county_name,
        c.sort_order,
        y.score_year,
        y.as_of_month,
        y.as_of_month is not null and y.as_of_month < make_date(y.score_year, 12, 1) as is_in_progress,
        case when y.as_of_month is not null and y.as_of_month < make_date(y.score_year, 12, 1)
             then '截至' || strftime(y.as_of_month, '%Y-%m') else '' end as as_of_label,
        coalesce(p.count_plan_rows, 0) as count_plan_rows,
        coalesce(p.count_started, 0) as count_started,
        -- on-time completion is judged among subsidised rows, or all of P when none is subsidised
        case when coalesce(p.count_subsidised, 0) > 0 then p.count_subsidised
             else coalesce(p.count_plan_rows, 0) end as count_ontime_base,
        case when coalesce(p.count_subsidised, 0) > 0 then p.count_subsidised_ontime
             else coalesce(p.count_all_ontime, 0) end as count_ontime_completed,
        coalesce(p.sum_invest_done_wan_yuan, 0) as sum_invest_done_wan_yuan,
        coalesce(p.sum_total_invest_wan_yuan, 0) as sum_total_invest_wan_yuan,
        coalesce(p.sum_paid_wan_yuan, 0) as sum_paid_wan_yuan,
        coalesce(p.sum_subsidy_wan_yuan, 0) as sum_subsidy_wan_yuan,
        coalesce(p.count_satisfaction_rows, 0) as count_satisfaction_rows,
        coalesce(p.sum_satisfaction_households, 0) as sum_satisfaction_households,
        coalesce(p.sum_satisfaction_weighted, 0) as sum_satisfaction_weighted,
        coalesce(p.sum_households_completed, 0) as sum_households_completed,
        coalesce(p.sum_households, 0) as sum_households,
        coalesce(p.count_completed, 0) as count_completed,
        coalesce(p.count_completed_with_property, 0) as count_completed_with_property,
        coalesce(p.count_notice_ok, 0) as count_notice_ok,
        coalesce(m.count_months_due, 0) as count_months_due,
        coalesce(m.count_months_ontime, 0) as count_months_ontime,
        coalesce(g.sum_households_completed_to_date, 0) as sum_households_completed_to_date,
        coalesce(l.sum_ledger_households_old, 0) as sum_ledger_households_old
    from counties as c
    cross join years as y
    left join plan_sums as p on p.county_code = c.county_code and p.score_year = y.score_year
    left join progress_sums as g on g.county_code = c.county_code and g.score_year = y.score_year
    left join month_sums as m on m.county_code = c.county_code and m.score_year = y.score_year
    left join ledger_sums as l on l.county_code = c.county_code
)

select * from final order by score_year, sort_order
