-- One row per project row of every accepted monthly report, current or superseded, with the rank of its submission (1 = current).
-- key: report_row_id
with

rows as (
    select * from staging.report_rows where not is_rejected
),

ranks as (
    select file_id, county_code, cast(period || '-01' as date) as report_month,
           submission_rank, is_current, is_first_submission, count_submissions
    from core.submissions where kind = 'monthly'
),

submissions as (
    select file_id, file_hash, file_name, ingested_at from raw.submissions
),

counties as (
    select county_code, county_name from staging.counties
),

final as (
    select
        md5(s.file_hash || '|' || r.sheet_name || '|' || r.row_number) as report_row_id,
        r.county_code,
        c.county_name,
        r.report_month,
        r.fill_date,
        r.plan_year,
        r.project_code,
        r.name,
        r.households,
        r.total_invest_wan_yuan,
        r.central_subsidy_wan_yuan,
        r.region_subsidy_wan_yuan,
        r.start_date,
        r.pct_progress,
        r.invest_done_wan_yuan,
        r.paid_wan_yuan,
        r.finish_date,
        r.accept_date,
        r.pct_satisfaction,
        r.has_property_mgmt,
        r.elevators,
        r.remark,
        k.submission_rank,
        k.is_current,
        k.is_first_submission,
        k.count_submissions,
        s.ingested_at,
        r.file_id,
        s.file_name,
        r.sheet_name,
        r.row_number
    from rows as r
    inner join ranks as k using (file_id, county_code, report_month)
    inner join submissions as s using (file_id)
    left join counties as c using (county_code)
)

select * from final
