-- One row per current signal with the auditors' verdict: its status (待核查 / 需补充材料 / 已确认 / 已排除 / 待复核), the verdict in force (a high-severity 已确认 or 已排除 only once a second auditor confirmed it), who gave, proposed and reviewed it, and a line saying so.
-- key: signal_id
with

signals as (
    select signal_id, rule, severity, county_code, county_name, plan_year, period, community_name, score, evidence
    from marts.signals
),

history as (
    select * from marts.verdict_history
),

latest as (
    select * from history
    qualify row_number() over (partition by signal_id order by act_seq desc) = 1
),

-- the act that put the verdict in force: the last verdict needing no review, or the last confirming review
in_force as (
    select signal_id, decided_by_label, decided_at, note, act, review_of
    from history
    where (act = 'verdict' and not needs_review) or (act = 'review' and review_outcome = 'confirm')
    qualify row_number() over (partition by signal_id order by act_seq desc) = 1
),

counts as (
    select signal_id, count(*) as count_verdicts from history group by signal_id
),

joined as (
    select
        s.*,
        coalesce(l.to_status, '待核查') as status,
        l.verdict_in_force,
        l.is_pending,
        case when l.is_pending then l.verdict end as proposed_verdict,
        case when l.is_pending then l.decided_by_label end as proposed_by,
        case when l.is_pending then l.decided_by end as proposed_by_user,
        case when l.is_pending then l.decided_at end as proposed_at,
        case when l.is_pending then l.act_id end as proposed_act_id,  -- what a review answers (it must be the one shown)
        case when l.verdict_in_force is not null then
            case when f.act = 'review' then p.decided_by_label else f.decided_by_label end end as decided_by,
        case when l.verdict_in_force is not null then f.decided_at end as decided_at,
        case when l.verdict_in_force is not null and f.act = 'review' then f.decided_by_label end as reviewed_by,
        case when l.verdict_in_force is not null then
            case when f.act = 'review' then coalesce(p.note, f.note) else f.note end end as verdict_note,
        coalesce(c.count_verdicts, 0) as count_verdicts,
        coalesce(l.is_carried_over, false) as is_verdict_carried_over
    from signals as s
    left join latest as l using (signal_id)
    left join in_force as f using (signal_id)
    left join history as p on p.signal_id = s.signal_id and p.act_id = f.review_of
    left join counts as c using (signal_id)
),

final as (
    select
        *,
        coalesce(verdict_in_force, '待核查') as verdict,
        case
            when is_pending then
                '待复核:' || proposed_by || ' 于 ' || strftime(proposed_at, '%Y-%m-%d %H:%M') || ' 提出「' || proposed_verdict
                || '」,须另一名审计人员复核' || coalesce(';现行结论「' || verdict_in_force || '」', '')
            when reviewed_by is not null then
                verdict_in_force || ':' || decided_by || ' 提出,' || reviewed_by || ' 于 '
                || strftime(decided_at, '%Y-%m-%d %H:%M') || ' 复核同意'
            when verdict_in_force is not null then
                verdict_in_force || ':' || decided_by || ' 于 ' || strftime(decided_at, '%Y-%m-%d %H:%M')
            else '待核查'
        end as status_text,
        coalesce(verdict_in_force = '已确认', false) as is_confirmed,
        coalesce(verdict_in_force = '已排除', false) as is_cleared
    from joined
)

select * from final
