-- One row per community in the current ledger of its county (the newest ledger submission).
-- key: community_id
with

rows as (
    select * from staging.ledger_rows where not is_rejected
),

current_files as (
    select file_id, county_code from core.submissions where kind = 'ledger' and is_current
),

submissions as (
    select file_id, file_hash, file_name from raw.submissions
),

counties as (
    select county_code, county_name from staging.counties
),

final as (
    select
        md5(s.file_hash || '|' || r.sheet_name || '|' || r.row_number) as community_id,
        r.county_code,
        c.county_name,
        r.street,
        r.community,
        r.name,
        r.address,
        r.build_year,
        r.buildings,
        r.households,
        r.area_m2,
        r.property_owner,
        r.has_property_mgmt,
        r.pct_elderly,
        r.pct_willing,
        r.renovated_year,
        r.fill_date,
        r.file_id,
        s.file_name,
        r.sheet_name,
        r.row_number
    from rows as r
    inner join current_files as f using (file_id, county_code)
    inner join submissions as s using (file_id)
    left join counties as c using (county_code)
)

select * from final
