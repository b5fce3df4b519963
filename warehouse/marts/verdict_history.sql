-- One row per act of an auditor on a current signal (a verdict, or a review (复核) of another auditor's verdict), in order, with who, when, the note and the signal's status before and after it; acts on the same finding in an earlier version of the file are included.
-- key: signal_id, act_seq
with

signals as (
    select signal_id, rule, county_code, plan_year, period, community_name from marts.signals
),

acts as (
    select
        * exclude (verdict, act),
        coalesce(act, 'verdict') as act,
        -- the names before accounts: 已核实 is 已确认; 待核查 re-opened a signal
        case verdict when '已核实' then '已确认' else verdict end as verdict,
        coalesce(act_id, '') as act_key
    from raw.verdicts
),

own as (
    select s.signal_id, a.* exclude (signal_id), a.signal_id as acted_on_signal_id, false as is_carried_over
    from signals as s
    inner join acts as a using (signal_id)
),

earlier_ids as (
    select distinct s.signal_id, k.signal_id as earlier_signal_id
    from signals as s
    inner join raw.signal_keys as k
        on k.rule = s.rule
       and k.county_code = s.county_code
       and k.plan_year is not distinct from s.plan_year
       and k.period is not distinct from s.period
       and k.community_name is not distinct from s.community_name
       and k.signal_id <> s.signal_id
    where k.signal_id not in (select signal_id from signals)
),

-- a resubmitted file gives its rows new ids: the acts on the same finding come along
carried as (
    select e.signal_id, a.* exclude (signal_id), a.signal_id as acted_on_signal_id, true as is_carried_over
    from earlier_ids as e
    inner join acts as a on a.signal_id = e.earlier_signal_id
),

all_acts as (
    select * from own
    union all by name
    select * from carried
),

states as (
    select
        *,
        row_number() over w as act_seq,
        -- in force: a verdict that needs no review, or the verdict a review confirmed
        last_value(case when act = 'verdict' and not coalesce(needs_review, false) then verdict
                        when act = 'review' and review_outcome = 'confirm' then verdict end ignore nulls) over w
            as verdict_in_force_raw,
        -- waiting for a review: the last verdict needed one and no review has followed it
        coalesce(last_value(case when act = 'verdict' then coalesce(needs_review, false)
                                 when act = 'review' then false end ignore nulls) over w, false) as is_pending
    from all_acts
    window w as (partition by signal_id order by decided_at, act_key rows between unbounded preceding and current row)
),

statuses as (
    select
        *,
        nullif(verdict_in_force_raw, '待核查') as verdict_in_force,
        case when is_pending then '待复核' else coalesce(nullif(verdict_in_force_raw, '待核查'), '待核查') end as to_status
    from states
),

final as (
    select
        signal_id,
        act_seq,
        act_id,
        act,
        verdict,
        review_outcome,
        review_of,
        note,
        decided_by,
        decided_by_display,
        case when coalesce(decided_by_display, decided_by) <> decided_by
             then decided_by_display || '(' || decided_by || ')' else decided_by end as decided_by_label,
        decided_at,
        severity,
        coalesce(needs_review, false) as needs_review,
        case
            when act = 'review' and review_outcome = 'confirm' then '复核同意「' || verdict || '」'
            when act = 'review' then '复核不同意「' || verdict || '」'
            when coalesce(needs_review, false) then '提出「' || verdict || '」(需复核)'
            else '结论「' || verdict || '」'
        end as act_label,
        coalesce(lag(to_status) over (partition by signal_id order by act_seq), '待核查') as from_status,
        to_status,
        verdict_in_force,
        is_pending,
        acted_on_signal_id,
        is_carried_over
    from statuses
)

select * from final
