-- One row per community entry in the current plan of its county and plan year, as submitted (duplicates included).
-- key: plan_row_id
with

rows as (
    select * from staging.plan_rows where not is_rejected
),

current_files as (
    select file_id, county_code, cast(period as integer) as plan_year
    from core.submissions where kind = 'plan' and is_current
),

submissions as (
    select file_id, file_hash, file_name from raw.submissions
),

counties as (
    select county_code, county_name from staging.counties
),

final as (
    select
        md5(s.file_hash || '|' || r.sheet_name || '|' || r.row_number) as plan_row_id,
        r.county_code,
        c.county_name,
        r.plan_year,
        r.street,
        r.community,
        r.name,
        r.address,
        r.build_year,
        r.buildings,
        r.households,
        r.area_m2,
        r.categories,
        r.content,
        r.total_invest_wan_yuan,
        r.central_subsidy_wan_yuan,
        r.region_subsidy_wan_yuan,
        r.local_funds_wan_yuan,
        r.resident_funds_wan_yuan,
        r.social_funds_wan_yuan,
        r.utility_funds_wan_yuan,
        r.elevators,
        r.planned_start_date,
        r.planned_end_date,
        r.notice_start_date,
        r.notice_end_date,
        r.notice_days_given,
        r.notice_days,
        r.fill_date,
        r.file_id,
        s.file_name,
        r.sheet_name,
        r.row_number
    from rows as r
    inner join current_files as f using (file_id, county_code, plan_year)
    inner join submissions as s using (file_id)
    left join counties as c using (county_code)
)

select * from final
