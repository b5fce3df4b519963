-- One row per community with signals not cleared by the auditors: its risk score and the parts it is made of (severity points, central subsidy at stake, coincidence of classes).
-- key: community_key
with

signals as (
    select s.*
    from marts.signals as s
    inner join marts.verdict_current as v using (signal_id)
    where v.verdict <> '已排除' and s.community_name is not null
),

weights as (
    select
        max(value) filter (where key = 'severity_weights.high') as w_high,
        max(value) filter (where key = 'severity_weights.medium') as w_medium,
        max(value) filter (where key = 'severity_weights.low') as w_low,
        max(value) filter (where key = 'risk.coincidence_bonus') as coincidence_bonus,
        max(value) filter (where key = 'risk.money_weight') as money_weight
    from marts.signal_thresholds
),

entities as (
    select e.entity_id, p.plan_row_id, p.central_subsidy_wan_yuan, p.plan_year, p.name, p.county_code
    from core.identity_entities as e
    inner join core.plan_rows as p using (plan_row_id)
),

keyed as (
    select
        s.*,
        -- a report row not linked to a plan row still is a community of its county
        coalesce(s.entity_id, 'U:' || s.county_code || ':' || s.community_name) as community_key,
        case s.severity when 'high' then w.w_high when 'medium' then w.w_medium else w.w_low end as severity_weight
    from signals as s
    cross join weights as w
),

money as (
    select entity_id as community_key, sum(coalesce(central_subsidy_wan_yuan, 0)) as central_subsidy_wan_yuan,
           list(distinct plan_year order by plan_year) as plan_years
    from entities
    group by entity_id
),

per_community as (
    select
        community_key,
        -- as the latest plan year has them; of names equal in year, the fullest (ties broken, by name then
        -- county: one entity can span counties, and the signals come in any order, so
        -- that every refresh names a community the same way)
        first(county_code order by coalesce(plan_year, 0) desc, length(community_name) desc, community_name, county_code) as county_code,
        first(county_name order by coalesce(plan_year, 0) desc, length(community_name) desc, community_name, county_code) as county_name,
        first(community_name order by coalesce(plan_year, 0) desc, length(community_name) desc, community_name, county_code) as community_name,
        count(*) as count_signals,
        count(*) filter (where severity = 'high') as count_high,
        count(*) filter (where severity = 'medium') as count_medium,
        count(*) filter (where severity = 'low') as count_low,
        sum(severity_weight) as severity_points,
        count(distinct class) as count_classes,
        string_agg(distinct class, '、' order by class) as classes,
        string_agg(distinct rule, '、' order by rule) as rules,
        max(score) as max_score
    from keyed
    group by community_key
),

scored as (
    select
        c.*,
        m.plan_years,
        coalesce(m.central_subsidy_wan_yuan, 0) as central_subsidy_wan_yuan,
        -- the money part: 0 for none, 1 for the largest subsidy at stake among flagged communities
        coalesce(m.central_subsidy_wan_yuan, 0) / nullif(max(coalesce(m.central_subsidy_wan_yuan, 0)) over (), 0) as money_share,
        w.money_weight,
        1 + w.coincidence_bonus * (c.count_classes - 1) as coincidence_factor
    from per_community as c
    cross join weights as w
    left join money as m using (community_key)
),

final as (
    select
        community_key,
        county_code,
        county_name,
        community_name,
        plan_years,
        count_signals,
        count_high,
        count_medium,
        count_low,
        severity_points,
        central_subsidy_wan_yuan,
        coalesce(money_share, 0) as money_share,
        1 + money_weight * coalesce(money_share, 0) as money_factor,
        count_classes,
        classes,
        rules,
        coincidence_factor,
        round(severity_points * (1 + money_weight * coalesce(money_share, 0)) * coincidence_factor, 4) as risk_score,
        rank() over (order by severity_points * (1 + money_weight * coalesce(money_share, 0)) * coincidence_factor desc) as risk_rank
    from scored
    order by risk_rank, county_code, community_name
)

select * from final
