-- One row per rule: its current signals and how many the auditors confirmed (已确认), cleared (已排除), asked more material for (需补充材料), have waiting for a second auditor (待复核) or left open — the false-positive loop.
-- key: rule
with

rules as (
    select rule, label, class, severity, sort_order from marts.signal_rules
),

verdicts as (
    select * from marts.verdict_current
),

per_rule as (
    select
        rule,
        count(*) as count_signals,
        count(*) filter (where verdict_in_force = '已确认') as count_confirmed,
        count(*) filter (where verdict_in_force = '已排除') as count_cleared,
        count(*) filter (where verdict_in_force = '需补充材料' and not coalesce(is_pending, false)) as count_more_info,
        count(*) filter (where coalesce(is_pending, false)) as count_pending,
        count(*) filter (where coalesce(verdict_in_force, '') not in ('已确认', '已排除')) as count_open
    from verdicts
    group by rule
),

final as (
    select
        r.rule,
        r.label,
        r.class,
        r.severity,
        coalesce(p.count_signals, 0) as count_signals,
        coalesce(p.count_confirmed, 0) as count_confirmed,
        coalesce(p.count_cleared, 0) as count_cleared,
        coalesce(p.count_more_info, 0) as count_more_info,
        coalesce(p.count_pending, 0) as count_pending,
        coalesce(p.count_open, 0) as count_open,
        p.count_confirmed / nullif(p.count_signals, 0) as pct_confirmed,
        p.count_cleared / nullif(p.count_signals, 0) as pct_cleared,
        -- of the signals decided, the share that held up (precision as the auditors see it)
        p.count_confirmed / nullif(p.count_confirmed + p.count_cleared, 0) as pct_confirmed_of_decided,
        r.sort_order
    from rules as r
    left join per_rule as p using (rule)
    order by r.sort_order
)

select * from final
