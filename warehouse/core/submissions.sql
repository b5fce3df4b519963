-- One row per accepted file and the county and period it reports on, ranked among that county's submissions of the same kind and period (rank 1 is the current one).
-- key: file_id, county_code, period
with

ledger as (
    select file_id, county_code, 'ledger' as kind, '' as period, count(*) as row_count
    from staging.ledger_rows
    where not is_rejected and county_code is not null
    group by all
),

plan as (
    select file_id, county_code, 'plan' as kind, cast(plan_year as varchar) as period, count(*) as row_count
    from staging.plan_rows
    where not is_rejected and county_code is not null and plan_year is not null
    group by all
),

monthly as (
    select file_id, county_code, 'monthly' as kind, strftime(report_month, '%Y-%m') as period, count(*) as row_count
    from staging.report_rows
    where not is_rejected and county_code is not null and report_month is not null
    group by all
),

unioned as (
    select * from ledger
    union all select * from plan
    union all select * from monthly
),

ranked as (
    select
        u.file_id,
        u.county_code,
        u.kind,
        u.period,
        u.row_count,
        s.file_hash,
        s.file_name,
        s.fill_date,
        s.ingested_at,
        -- the newest submission wins: later 填报日期 (a missing one counts as newest), then later ingestion
        row_number() over (
            partition by u.kind, u.county_code, u.period
            order by s.fill_date desc nulls first, u.file_id desc
        ) as submission_rank,
        -- the first submission, for timeliness: earliest 填报日期, then earliest ingestion
        row_number() over (
            partition by u.kind, u.county_code, u.period
            order by s.fill_date asc nulls last, u.file_id asc
        ) = 1 as is_first_submission,
        count(*) over (partition by u.kind, u.county_code, u.period) as count_submissions
    from unioned as u
    inner join raw.submissions as s using (file_id)
),

final as (
    select *, submission_rank = 1 as is_current
    from ranked
)

select * from final
