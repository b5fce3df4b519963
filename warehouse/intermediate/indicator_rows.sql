-- One row per scoring year Y and current plan row of a plan year <= Y: the plan row's figures and R(p), its latest linked monthly-report row with report month <= December of Y, or <= the latest due month of the data clock for a year still in progress (spec evaluation.md, Terms).
-- key: score_year, plan_row_id
with

plan_rows as (
    select * from core.plan_rows
),

report_rows as (
    select * from core.report_rows
),

links as (
    select from_id as report_row_id, to_id as plan_row_id
    from core.identity_links
    where kind = 'report_plan' and is_match
),

as_of as (
    -- the latest due month of the data clock: a year after it is still in progress, and every
    -- county is scored as of that month, whoever reported early
    select latest_due_month as as_of_month from marts.data_clock
),

years as (
    select unnest(generate_series(
        (select min(plan_year) from plan_rows),
        greatest((select max(plan_year) from plan_rows), (select year(as_of_month) from as_of))
    )) as score_year
),

linked_reports as (
    select
        l.plan_row_id,
        r.report_row_id,
        r.report_month,
        r.start_date,
        r.pct_progress,
        r.invest_done_wan_yuan,
        r.paid_wan_yuan,
        r.finish_date,
        r.accept_date,
        r.pct_satisfaction,
        r.has_property_mgmt,
        r.file_id,
        r.sheet_name,
        r.row_number
    from report_rows as r
    inner join links as l using (report_row_id)
),

year_end_states as (
    -- R(p) for every scoring year: the greatest report month up to December of Y and up to the
    -- latest due month (a month reported before its deadline is not yet counted); two rows of
    -- one month linked to the same plan row (a duplicated report line) resolve to the upper one
    select y.score_year, lr.*
    from years as y
    cross join as_of as a
    inner join linked_reports as lr
        on lr.report_month <= make_date(y.score_year, 12, 1)
       and (a.as_of_month is null or lr.report_month <= a.as_of_month)
    qualify row_number() over (
        partition by y.score_year, lr.plan_row_id
        order by lr.report_month desc, lr.sheet_name, lr.row_number, lr.report_row_id
    ) = 1
),

cutoffs as (
    -- 31 December of Y; for a year still in progress, the end of the latest due month
    -- (a date written in a report but lying after it has not happened yet as of then)
    select
        y.score_year,
        a.as_of_month,
        case when a.as_of_month is not null and a.as_of_month < make_date(y.score_year, 12, 1)
             then last_day(a.as_of_month) else make_date(y.score_year, 12, 31) end as cutoff_date
    from years as y
    cross join as_of as a
),

plan_in_scope as (
    select y.score_year, p.*
    from years as y
    inner join plan_rows as p on p.plan_year <= y.score_year
),

final as (
    select
        p.score_year,
        p.county_code,
        p.plan_row_id,
        p.plan_year,
        p.plan_year = p.score_year as is_score_year_plan,
        p.name,
        coalesce(p.households, 0) as households,
        coalesce(p.total_invest_wan_yuan, 0) as total_invest_wan_yuan,
        coalesce(p.central_subsidy_wan_yuan, 0) as central_subsidy_wan_yuan,
        coalesce(p.region_subsidy_wan_yuan, 0) as region_subsidy_wan_yuan,
        p.notice_days,
        r.report_row_id is not null as has_report,
        r.report_row_id,
        r.report_month,
        r.start_date,
        r.pct_progress,
        -- a plan row without a report row has no start, no completion, zero investment and payment
        coalesce(r.invest_done_wan_yuan, 0) as invest_done_wan_yuan,
        coalesce(r.paid_wan_yuan, 0) as paid_wan_yuan,
        r.finish_date,
        r.accept_date,
        r.pct_satisfaction,
        r.has_property_mgmt,
        coalesce(r.start_date <= c.cutoff_date, false)
            or coalesce(r.pct_progress > 0, false) as is_started,
        coalesce(r.finish_date <= c.cutoff_date, false) as is_completed,
        coalesce(r.accept_date <= c.cutoff_date, false) as is_accepted,
        c.cutoff_date,
        c.as_of_month
    from plan_in_scope as p
    inner join cutoffs as c using (score_year)
    left join year_end_states as r using (score_year, plan_row_id)
)

select * from final
