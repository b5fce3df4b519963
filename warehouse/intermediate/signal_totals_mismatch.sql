-- One row per current file that carries a 合计 row, assessed by TOTALS_MISMATCH: a numeric column's total differs from its data rows' sum by more than the tolerance (findings of ingest, raw.row_issues).
-- key: signal_id
with

current_files as (
    select distinct file_id, county_code, kind, period from core.submissions where is_current
),

submissions as (
    select file_id, file_hash, file_name, sheet_name as file_sheet from raw.submissions
),

totals_files as (
    select distinct file_id from raw.source_rows where row_type = 'totals'
),

issues as (
    select
        file_id,
        sheet_name,
        row_number,
        column_name,
        cast(details ->> 'totals_value' as double) as totals_value,
        cast(details ->> 'data_sum' as double) as data_sum
    from raw.row_issues
    where code = 'TOTALS_MISMATCH'
),

counties as (
    select county_code, county_name from staging.counties
),

thresholds as (
    select max(value) filter (where key = 'TOTALS_MISMATCH.tolerance') as tolerance
    from marts.signal_thresholds
),

-- ingest records every difference above its own tolerance; the one in force here may be wider
mismatches as (
    select i.*
    from issues as i
    cross join thresholds as t
    where abs(i.totals_value - i.data_sum) > t.tolerance * abs(i.data_sum) and abs(i.totals_value - i.data_sum) > 1e-9
),

per_file as (
    select
        file_id,
        min(sheet_name) as sheet_name,
        min(row_number) as row_number,
        count(*) as count_columns,
        max(abs(totals_value - data_sum) / nullif(abs(data_sum), 0)) as max_rel_diff,
        string_agg(printf('%s 合计 %.2f ≠ 明细之和 %.2f(%+.1f%%)', column_name, totals_value, data_sum,
                          (totals_value - data_sum) / nullif(data_sum, 0) * 100), ';' order by column_name) as differences
    from mismatches
    group by file_id
),

final as (
    select
        md5('TOTALS_MISMATCH|' || s.file_hash) as signal_id,
        'TOTALS_MISMATCH' as rule,
        true as is_assessable,
        p.file_id is not null as is_flagged,
        f.county_code,
        c.county_name,
        case when f.kind = 'plan' then cast(f.period as integer) end as plan_year,
        case when f.kind = 'monthly' then f.period end as period,
        cast(null as varchar) as community_name,
        least(1.0, 0.5 + coalesce(p.max_rel_diff, 0) * 5) as score,
        printf('%s;文件 %s 工作表 %s 第%d行(合计行)', p.differences, s.file_name, p.sheet_name, p.row_number) as evidence,
        s.file_name,
        coalesce(p.sheet_name, s.file_sheet) as sheet_name,
        p.row_number,
        [s.file_hash] as row_ids,
        cast(null as varchar) as plan_row_id,
        cast(null as varchar) as project_key
    from current_files as f
    inner join totals_files using (file_id)
    inner join submissions as s using (file_id)
    left join per_file as p using (file_id)
    left join counties as c using (county_code)
)

select * from final
