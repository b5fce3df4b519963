-- One row per current plan row with the columns the plan signal suite (expectations/signals.py) asserts on: repeats of its community, its size against the ledger, its cost against the year's median, its build year and its public notice.
-- key: plan_row_id
with

plan_rows as (
    select * from core.plan_rows
),

-- the one identity engine (pipelines/identity): the community of each plan row, and why
entities as (
    select e.plan_row_id, e.entity_id, coalesce(l.score, 1.0) as match_score,
           coalesce(l.explanation, '') as entity_matched_fields, e.method as entity_method
    from core.identity_entities as e
    left join core.identity_links as l using (link_id)
),

links as (
    select from_id as plan_row_id, case when is_match then to_id end as link_community_id, score as link_score,
           explanation as link_matched_fields, candidates
    from core.identity_links
    where kind = 'plan_ledger'
),

ledger as (
    select
        community_id,
        county_name as ledger_county_name,
        name as ledger_name,
        address as ledger_address,
        build_year as ledger_build_year,
        buildings as ledger_buildings,
        households as ledger_households,
        area_m2 as ledger_area_m2,
        renovated_year as ledger_renovated_year,
        row_number as ledger_row_number,
        file_name as ledger_file_name
    from core.ledger_communities
),

ledger_counties as (
    select county_code, count(*) as count_ledger_communities from core.ledger_communities group by county_code
),

thresholds as (
    select
        max(value) filter (where key = 'INFLATED_SCALE.pct_over') as scale_pct_over,
        max(value) filter (where key = 'INFLATED_SCALE.min_households') as scale_min_households,
        max(value) filter (where key = 'INFLATED_SCALE.min_buildings') as scale_min_buildings,
        max(value) filter (where key = 'INFLATED_SCALE.min_area_m2') as scale_min_area_m2,
        max(value) filter (where key = 'POST_2000.last_build_year') as last_build_year,
        max(value) filter (where key = 'NOTICE_SHORT.min_working_days') as min_notice_days
    from marts.signal_thresholds
),

joined as (
    select
        p.*,
        coalesce(e.entity_id, p.plan_row_id) as entity_id,
        coalesce(e.match_score, 1.0) as entity_match_score,
        coalesce(e.entity_matched_fields, '') as entity_matched_fields,
        coalesce(e.entity_method, 'alone') as entity_method,
        -- the ledger community of the plan row (core.identity_links, plan_ledger)
        l.link_community_id as community_id,
        l.link_score,
        l.link_matched_fields,
        l.candidates as link_candidates,
        g.* exclude (community_id),
        coalesce(lc.count_ledger_communities, 0) as count_ledger_communities,
        -- the plans' own order: earlier 填报日期, then the county's official order, then the row
        row_number() over (partition by coalesce(e.entity_id, p.plan_row_id), p.plan_year
                           order by p.fill_date nulls last, k.sort_order, p.file_id, p.row_number) as same_year_rank
    from plan_rows as p
    left join entities as e using (plan_row_id)
    left join links as l using (plan_row_id)
    left join ledger as g on g.community_id = l.link_community_id
    left join ledger_counties as lc using (county_code)
    left join staging.counties as k using (county_code)
),

-- DUP_SAME_YEAR: the first entry of the community in the same year
first_in_year as (
    select entity_id, plan_year, county_name as first_county_name, name as first_name,
           file_name as first_file_name, row_number as first_row_number, plan_row_id as first_plan_row_id
    from joined
    where same_year_rank = 1
),

-- DUP_CROSS_YEAR: the latest entry of the community in an earlier year's plan
earlier_years as (
    select
        a.plan_row_id,
        arg_max(b.plan_row_id, b.plan_year) as prior_plan_row_id,
        max(b.plan_year) as prior_plan_year,
        arg_max(b.county_name, b.plan_year) as prior_county_name,
        arg_max(b.name, b.plan_year) as prior_name,
        arg_max(b.file_name, b.plan_year) as prior_file_name,
        arg_max(b.row_number, b.plan_year) as prior_row_number
    from joined as a
    inner join joined as b on b.entity_id = a.entity_id and b.plan_year < a.plan_year
    group by a.plan_row_id
),

-- INFLATED_COST: medians of the year's plans of the same 改造类别 set across the prefecture
costs as (
    select
        plan_row_id,
        total_invest_wan_yuan / nullif(households, 0) as cost_per_household_wan_yuan,
        total_invest_wan_yuan * 10000 / nullif(area_m2, 0) as cost_per_m2_yuan
    from plan_rows
),

medians as (
    select
        p.plan_year,
        p.categories,
        median(c.cost_per_household_wan_yuan) as median_cost_per_household_wan_yuan,
        median(c.cost_per_m2_yuan) as median_cost_per_m2_yuan,
        count(*) as count_peer_rows
    from plan_rows as p
    inner join costs as c using (plan_row_id)
    group by all
),

checked as (
    select
        j.*,
        t.*,
        f.first_county_name, f.first_name, f.first_file_name, f.first_row_number, f.first_plan_row_id,
        y.prior_plan_row_id, y.prior_plan_year, y.prior_county_name, y.prior_name, y.prior_file_name, y.prior_row_number,
        c.cost_per_household_wan_yuan,
        c.cost_per_m2_yuan,
        m.median_cost_per_household_wan_yuan,
        m.median_cost_per_m2_yuan,
        m.count_peer_rows,
        j.households > j.ledger_households * (1 + t.scale_pct_over) and j.households - j.ledger_households >= t.scale_min_households as is_households_over,
        j.buildings > j.ledger_buildings * (1 + t.scale_pct_over) and j.buildings - j.ledger_buildings >= t.scale_min_buildings as is_buildings_over,
        j.area_m2 > j.ledger_area_m2 * (1 + t.scale_pct_over) and j.area_m2 - j.ledger_area_m2 >= t.scale_min_area_m2 as is_area_over
    from joined as j
    cross join thresholds as t
    left join first_in_year as f using (entity_id, plan_year)
    left join earlier_years as y using (plan_row_id)
    left join costs as c using (plan_row_id)
    left join medians as m using (plan_year, categories)
),

final as (
    select
        plan_row_id,
        county_code,
        county_name,
        plan_year,
        name,
        file_id,
        file_name,
        sheet_name,
        row_number,
        central_subsidy_wan_yuan,
        entity_id,
        entity_match_score,
        entity_method,
        community_id,

        -- DUP_SAME_YEAR
        same_year_rank = 1 as is_first_in_year,
        printf('同一小区已列入 %d 年度计划:%s %s(%s 第%d行);本条 %s 第%d行%s',
               plan_year, first_county_name, first_name, first_file_name, first_row_number, file_name, row_number,
               case when entity_matched_fields <> '' then ';识别依据:' || entity_matched_fields else '' end) as dup_same_year_evidence,
        first_plan_row_id,
        -- a duplicate is as strong as the identification behind it
        entity_match_score as dup_score,

        -- DUP_CROSS_YEAR
        prior_plan_row_id is null and not coalesce(ledger_renovated_year < plan_year, false) as is_new_to_program,
        case
            when prior_plan_row_id is not null then
                printf('同一小区已列入 %d 年度计划:%s %s(%s 第%d行);本条 %d 年度 %s 第%d行%s',
                       prior_plan_year, prior_county_name, prior_name, prior_file_name, prior_row_number,
                       plan_year, file_name, row_number,
                       case when entity_matched_fields <> '' then ';识别依据:' || entity_matched_fields else '' end)
            else printf('台账记载 %s %s 已于 %d 年改造;本条 %d 年度 %s 第%d行;匹配依据:%s',
                        ledger_county_name, ledger_name, ledger_renovated_year, plan_year, file_name, row_number,
                        link_matched_fields)
        end as dup_cross_year_evidence,
        prior_plan_row_id,

        -- INFLATED_SCALE (plan against ledger); null when no ledger community is linked
        case when community_id is not null then
            not (coalesce(is_households_over, false) or coalesce(is_buildings_over, false) or coalesce(is_area_over, false))
        end as is_scale_within_ledger,
        greatest(
            case when is_households_over then households / ledger_households - 1 end,
            case when is_buildings_over then buildings / ledger_buildings - 1 end,
            case when is_area_over then area_m2 / ledger_area_m2 - 1 end
        ) as scale_excess_ratio,
        -- +10% is a weak signal, +60% or more a full one
        least(1.0, 0.4 + greatest(
            case when is_households_over then households / ledger_households - 1 end,
            case when is_buildings_over then buildings / ledger_buildings - 1 end,
            case when is_area_over then area_m2 / ledger_area_m2 - 1 end)) as inflated_scale_score,
        concat_ws(';',
            case when is_households_over then printf('计划户数 %d > 台账户数 %d(%+d%%)', households, ledger_households,
                 cast(round((households / ledger_households - 1) * 100) as integer)) end,
            case when is_buildings_over then printf('计划楼栋数 %d > 台账楼栋数 %d(%+d%%)', buildings, ledger_buildings,
                 cast(round((buildings / ledger_buildings - 1) * 100) as integer)) end,
            case when is_area_over then printf('计划建筑面积 %.0f ㎡ > 台账建筑面积 %.0f ㎡(%+d%%)', area_m2, ledger_area_m2,
                 cast(round((area_m2 / ledger_area_m2 - 1) * 100) as integer)) end,
            printf('台账: %s %s %s年 %s栋 %s户;计划 %s 第%d行', ledger_county_name, ledger_name,
                   coalesce(cast(ledger_build_year as varchar), '?'), coalesce(cast(ledger_buildings as varchar), '?'),
                   coalesce(cast(ledger_households as varchar), '?'), file_name, row_number),
            '匹配依据:' || link_matched_fields
        ) as inflated_scale_evidence,

        -- INFLATED_COST: multiples of the year's median for the same 改造类别 set
        categories,
        cost_per_household_wan_yuan,
        cost_per_m2_yuan,
        median_cost_per_household_wan_yuan,
        median_cost_per_m2_yuan,
        cost_per_household_wan_yuan / nullif(median_cost_per_household_wan_yuan, 0) as cost_household_multiple,
        cost_per_m2_yuan / nullif(median_cost_per_m2_yuan, 0) as cost_m2_multiple,
        -- 3× the median is the threshold, 6× a full signal
        least(1.0, greatest(cost_per_household_wan_yuan / nullif(median_cost_per_household_wan_yuan, 0),
                            cost_per_m2_yuan / nullif(median_cost_per_m2_yuan, 0)) / 6) as inflated_cost_score,
        printf('户均投资 %.2f 万元 = 中位数 %.2f 万元的 %.1f 倍;每平方米 %.0f 元 = 中位数 %.0f 元的 %.1f 倍(%d 年度 %s 计划 %d 行);计划总投资 %.2f 万元 %d户 %.0f ㎡;计划 %s 第%d行',
               cost_per_household_wan_yuan, median_cost_per_household_wan_yuan,
               cost_per_household_wan_yuan / nullif(median_cost_per_household_wan_yuan, 0),
               cost_per_m2_yuan, median_cost_per_m2_yuan, cost_per_m2_yuan / nullif(median_cost_per_m2_yuan, 0),
               plan_year, coalesce(categories, '未分类'), count_peer_rows, total_invest_wan_yuan, households, area_m2,
               file_name, row_number) as inflated_cost_evidence,

        -- NOT_IN_LEDGER: a county without a current ledger has no community its plan rows could match
        community_id is not null as is_in_ledger,
        case when count_ledger_communities = 0
             then printf('%s 无现行摸底台账,计划小区无从核对;计划 %s 第%d行', county_name, file_name, row_number)
             else printf('%s 台账 %d 个小区中无匹配(最接近者匹配分 %.2f%s);计划 %s 第%d行', county_name,
                         count_ledger_communities, coalesce(link_score, 0),
                         case when coalesce(link_matched_fields, '') <> '' then ',' || link_matched_fields else '' end,
                         file_name, row_number)
        end as not_in_ledger_evidence,
        link_score,
        -- the weaker the best ledger candidate, the stronger the signal
        1 - 0.5 * least(coalesce(link_score, 0), 1) as not_in_ledger_score,

        -- POST_2000: the build year as planned, else the ledger's
        coalesce(build_year, ledger_build_year) as build_year_checked,
        printf('建成年份 %d 晚于 %d 年%s;计划 %s 第%d行', coalesce(build_year, ledger_build_year), cast(last_build_year as integer),
               case when ledger_build_year is not null then printf('(台账 %d 年)', ledger_build_year) else '' end,
               file_name, row_number) as post_2000_evidence,
        least(1.0, 0.5 + (coalesce(build_year, ledger_build_year) - last_build_year) / 20) as post_2000_score,

        -- NOTICE_SHORT: a missing notice counts as 0 days
        coalesce(notice_days, 0) as notice_days_checked,
        case when notice_days is null then printf('无公示记录(公示天数与起止日期均缺);计划 %s 第%d行', file_name, row_number)
             else printf('公示 %d 个工作日 < %d%s;计划 %s 第%d行', notice_days, cast(min_notice_days as integer),
                         case when notice_start_date is not null and notice_end_date is not null
                              then printf('(%s 至 %s)', strftime(notice_start_date, '%Y-%m-%d'), strftime(notice_end_date, '%Y-%m-%d'))
                              else '' end,
                         file_name, row_number)
        end as notice_short_evidence,
        1 - least(coalesce(notice_days, 0), min_notice_days) / (2 * min_notice_days) as notice_short_score,
        min_notice_days
    from checked
)

select * from final
