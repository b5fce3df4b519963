-- One row per county: its risk score from the signals not cleared by the auditors, and the parts it is made of (severity points, central subsidy at stake, coincidence of classes).
-- key: county_code
with

signals as (
    select s.*
    from marts.signals as s
    inner join marts.verdict_current as v using (signal_id)
    where v.verdict <> '已排除'
),

counties as (
    select county_code, county_name, sort_order from staging.counties
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

weighted as (
    select s.*, case s.severity when 'high' then w.w_high when 'medium' then w.w_medium else w.w_low end as severity_weight
    from signals as s
    cross join weights as w
),

-- the central subsidy of the distinct plan rows behind the county's signals (rounded: a float sum in
-- another order differs in its last digits, and an import's refresh would rewrite every county's row)
money as (
    select county_code, round(sum(coalesce(central_subsidy_wan_yuan, 0)), 6) as central_subsidy_wan_yuan
    from (select distinct county_code, plan_row_id, central_subsidy_wan_yuan from signals where plan_row_id is not null)
    group by county_code
),

per_county as (
    select
        county_code,
        count(*) as count_signals,
        count(*) filter (where severity = 'high') as count_high,
        count(*) filter (where severity = 'medium') as count_medium,
        count(*) filter (where severity = 'low') as count_low,
        sum(severity_weight) as severity_points,
        count(distinct class) as count_classes,
        string_agg(distinct class, '、' order by class) as classes,
        count(distinct coalesce(entity_id, community_name)) filter (where community_name is not null) as count_communities
    from weighted
    group by county_code
),

scored as (
    select
        c.county_code,
        c.county_name,
        c.sort_order,
        coalesce(p.count_signals, 0) as count_signals,
        coalesce(p.count_high, 0) as count_high,
        coalesce(p.count_medium, 0) as count_medium,
        coalesce(p.count_low, 0) as count_low,
        coalesce(p.severity_points, 0) as severity_points,
        coalesce(m.central_subsidy_wan_yuan, 0) as central_subsidy_wan_yuan,
        coalesce(m.central_subsidy_wan_yuan / nullif(max(m.central_subsidy_wan_yuan) over (), 0), 0) as money_share,
        coalesce(p.count_classes, 0) as count_classes,
        p.classes,
        coalesce(p.count_communities, 0) as count_communities,
        w.money_weight,
        1 + w.coincidence_bonus * greatest(coalesce(p.count_classes, 0) - 1, 0) as coincidence_factor
    from counties as c
    cross join weights as w
    left join per_county as p using (county_code)
    left join money as m using (county_code)
),

final as (
    select
        county_code,
        county_name,
        count_signals,
        count_high,
        count_medium,
        count_low,
        count_communities,
        severity_points,
        central_subsidy_wan_yuan,
        money_share,
        1 + money_weight * money_share as money_factor,
        count_classes,
        classes,
        coincidence_factor,
        round(severity_points * (1 + money_weight * money_share) * coincidence_factor, 4) as risk_score,
        rank() over (order by severity_points * (1 + money_weight * money_share) * coincidence_factor desc) as risk_rank,
        sort_order
    from scored
    order by risk_rank, sort_order
)

select * from final
