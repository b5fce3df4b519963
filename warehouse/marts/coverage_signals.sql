-- One row per rule: how many units (plan rows, projects, county-months, files) it could assess, how many it flagged, and a warning when it fires on more than the configured share.
-- key: rule
with

rules as (
    select rule, label, class, severity, engine, description, sort_order from marts.signal_rules
),

counts as (
    select * from marts.signal_rule_counts
),

thresholds as (
    select max(value) filter (where key = 'risk.share_warning') as share_warning from marts.signal_thresholds
),

final as (
    select
        r.rule,
        r.label,
        r.class,
        r.severity,
        r.engine,
        r.description,
        c.unit,
        coalesce(c.count_assessable, 0) as count_assessable,
        coalesce(c.count_flagged, 0) as count_flagged,
        coalesce(c.count_not_assessable, 0) as count_not_assessable,
        c.count_flagged / nullif(c.count_assessable, 0) as pct_flagged,
        coalesce(c.count_flagged / nullif(c.count_assessable, 0) > t.share_warning, false) as is_warning,
        case
            when c.count_flagged / nullif(c.count_assessable, 0) > t.share_warning
                then printf('警告:%s 在可评估的 %d 个%s中触发 %d 个(%.1f%%),超过 %.0f%%,请核查阈值或数据',
                            r.label, c.count_assessable, c.unit, c.count_flagged,
                            c.count_flagged / c.count_assessable * 100, t.share_warning * 100)
            when coalesce(c.count_assessable, 0) = 0 then printf('%s 无可评估的数据', r.label)
        end as warning,
        c.computed_at,
        r.sort_order
    from rules as r
    cross join thresholds as t
    left join counts as c using (rule)
    order by r.sort_order
)

select * from final
