-- One row per county, scoring year, kind and indicator line of marts.scores (not the total): the indicator's numerator and denominator with their Chinese names and unit, and the formula in Chinese with the figures and the points; written by pipelines/scoring/store.py.
-- key: county_code, year, kind, indicator
create table if not exists marts.score_formulas (
    county_code       varchar not null,
    year              integer not null,
    kind              varchar not null,    -- annual | biennial
    indicator         varchar not null,
    numerator         double,
    denominator       double,
    numerator_label   varchar not null,
    denominator_label varchar not null,
    unit              varchar not null,
    formula           varchar not null     -- e.g. 投资完成率 = 累计完成投资 ÷ 计划总投资 = 14,980 ÷ 15,730 万元 = 95.2% → 14.28 / 15 分
);
