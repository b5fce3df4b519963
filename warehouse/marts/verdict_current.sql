-- One row per current signal with the auditor's verdict in force: the latest given on this signal, else the latest given on the same finding (rule, county, plan year, period, community as submitted) in an earlier version of the file; 待核查 when none.
-- key: signal_id
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

own as (
    select * from verdicts where recency = 1
),

-- a resubmitted file gives its rows new ids: the same finding keeps the verdict it had
carried as (
    select
        s.signal_id,
        arg_max(v.verdict, v.decided_at) as verdict,
        arg_max(v.note, v.decided_at) as note,
        arg_max(v.decided_by, v.decided_at) as decided_by,
        max(v.decided_at) as decided_at,
        count(*) as count_verdicts
    from signals as s
    inner join raw.signal_keys as k
        on k.rule = s.rule
       and k.county_code = s.county_code
       and k.plan_year is not distinct from s.plan_year
       and k.period is not distinct from s.period
       and k.community_name is not distinct from s.community_name
       and k.signal_id <> s.signal_id
    inner join raw.verdicts as v on v.signal_id = k.signal_id
    group by s.signal_id
),

final as (
    select
        s.*,
        coalesce(o.verdict, c.verdict, '待核查') as verdict,
        coalesce(o.note, c.note) as verdict_note,
        coalesce(o.decided_by, c.decided_by) as decided_by,
        coalesce(o.decided_at, c.decided_at) as decided_at,
        coalesce(o.count_verdicts, c.count_verdicts, 0) as count_verdicts,
        o.verdict is null and c.verdict is not null as is_verdict_carried_over,
        coalesce(o.verdict, c.verdict, '待核查') = '已核实' as is_confirmed,
        coalesce(o.verdict, c.verdict, '待核查') = '已排除' as is_cleared
    from signals as s
    left join own as o using (signal_id)
    left join carried as c using (signal_id)
)

select * from final
