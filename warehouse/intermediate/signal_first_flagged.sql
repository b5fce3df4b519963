-- One row per monthly project rule and project: the report that stands for the project (flags.md: a rule on monthly reports flags a project once, at the first report month where its condition holds) — the first at which the rule fires, else its latest assessable report, else its latest report; is_flagged when the rule fires there.
-- key: rule, project_key
with

-- every current report row, evaluated by each rule that judges a project month by month (one model
-- per rule, the same columns); a new rule of that kind adds its model here
evaluated as (
    select * from intermediate.signal_funds_idle
    union all by name
    select * from intermediate.signal_paid_exceeds_work
    union all by name
    select * from intermediate.signal_progress_regression
    union all by name
    select * from intermediate.signal_progress_jump
    union all by name
    select * from intermediate.signal_invest_exceeds_plan
    union all by name
    select * from intermediate.signal_inflated_scale_reports
),

final as (
    select * exclude (is_hit), is_hit as is_flagged
    from evaluated
    window project as (partition by rule, project_key)
    qualify report_seq = coalesce(
        min(report_seq) filter (where is_hit) over project,
        max(report_seq) filter (where is_assessable) over project,
        max(report_seq) over project
    )
)

select * from final
