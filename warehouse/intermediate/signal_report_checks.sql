-- One row per monthly-reported project with the columns the report signal suite asserts on: its reported 户数 against its plan row, at its first report beyond the margin (else its latest report), as intermediate.signal_first_flagged picks it.
-- key: report_row_id
with

units as (
    select report_row_id, is_assessable, is_flagged, score, evidence
    from intermediate.signal_first_flagged
    where rule = 'INFLATED_SCALE'
),

reports as (
    select * from intermediate.signal_report_sequence
),

final as (
    select
        r.report_row_id,
        r.project_key,
        r.plan_row_id,
        r.county_code,
        r.county_name,
        r.plan_year,
        r.period,
        r.name,
        r.file_name,
        r.sheet_name,
        r.row_number,
        r.households,
        r.plan_households,
        case when u.is_assessable then not u.is_flagged end as is_households_within_plan,
        r.households / nullif(r.plan_households, 0) - 1 as households_excess_ratio,
        u.score as inflated_scale_score,
        u.evidence as inflated_scale_evidence
    from units as u
    inner join reports as r using (report_row_id)
)

select * from final
