-- One row per unit, plan year and report month of marts.progress_monthly: what its plan rows expect by the end of the month on their pace (communities started, households completed, investment done), for marts.bulletin_counties; a county's rows are made from its own plan rows and months.
-- key: county_code, plan_year, report_month
with

settings as (
    select
        cast(max(value) filter (where key = 'completion.deadline_month') as integer) as deadline_month,
        cast(max(value) filter (where key = 'completion.deadline_day') as integer) as deadline_day
    from marts.settings
),

-- each plan row's schedule: from its planned start (else 1 January) to its planned end (else the completion deadline)
plan as (
    select
        p.county_code,
        p.plan_year,
        p.households,
        p.total_invest_wan_yuan,
        coalesce(p.planned_start_date, make_date(p.plan_year, 1, 1)) as pace_start_date,
        coalesce(p.planned_end_date, make_date(p.plan_year, s.deadline_month, s.deadline_day)) as pace_end_date
    from core.plan_rows as p
    cross join settings as s
),

months as (
    select distinct county_code, plan_year, report_month from marts.progress_monthly
),

-- what the plan expects by the end of each month: a row started once its start has come, completed once its
-- end has, and its investment done in proportion to the time elapsed between the two
schedule as (
    select
        m.county_code,
        m.plan_year,
        m.report_month,
        count(*) filter (where p.pace_start_date <= last_day(m.report_month)) as count_pace_started_communities,
        cast(coalesce(sum(p.households) filter (where p.pace_end_date <= last_day(m.report_month)), 0) as bigint)
            as pace_completed_households,
        coalesce(sum(p.total_invest_wan_yuan * greatest(0.0, least(1.0,
            case
                when p.pace_end_date <= p.pace_start_date then cast(p.pace_end_date <= last_day(m.report_month) as double)
                else datediff('day', p.pace_start_date, last_day(m.report_month))
                     / datediff('day', p.pace_start_date, p.pace_end_date)
            end))), 0) as pace_invest_wan_yuan
    from months as m
    inner join plan as p using (county_code, plan_year)
    group by all
)

select * from schedule
