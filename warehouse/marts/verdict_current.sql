-- One row per current signal with the auditor's verdict in force (the latest in raw.verdicts; 待核查 when none).
with

signals as (
    select signal_id, rule, severity, county_code, county_name, plan_year, period, community_name, score, evidence
    from marts.signals
),

verdicts as (
    select
        *,
        row_number() over (partition by signal_id order by decided_at desc, verdict) as recency,
        count(*) over (partition by signal_id) as count_verdicts
    from raw.verdicts
),

latest as (
    select * from verdicts where recency = 1
),

final as (
    select
        s.*,
        coalesce(v.verdict, '待核查') as verdict,
        v.note as verdict_note,
        v.decided_by,
        v.decided_at,
        coalesce(v.count_verdicts, 0) as count_verdicts,
        coalesce(v.verdict, '待核查') = '已核实' as is_confirmed,
        coalesce(v.verdict, '待核查') = '已排除' as is_cleared
    from signals as s
    left join latest as v using (signal_id)
)

select * from final
