-- The progress index (综合进度) of a unit, of a prefecture or of the plan's pace: the mean of the start rate, the household completion rate and the investment rate (each in per cent), each at most 100; a rate without a denominator (nullif) counts 0, the start rate has none missing.
-- Defined on every connection that builds models (pipelines.warehouse.run_models), so that the marts that show or rank by it (progress_county, bulletin_counties, bulletin_prefecture) compute it in one place.
create or replace temp macro progress_index(pct_started, pct_completed, pct_invest) as
    (least(100.0, pct_started) + least(100.0, coalesce(pct_completed, 0)) + least(100.0, coalesce(pct_invest, 0))) / 3;
