-- One row per rule evaluated in the last signal run: units it could assess and units it flagged (the base of marts.coverage_signals), written by pipelines/signals.py.
-- key: rule
create table if not exists marts.signal_rule_counts (
    rule             varchar not null,
    unit             varchar not null,   -- 计划行 | 项目 | 县市月份 | 文件 | 修订行
    count_assessable integer not null,
    count_flagged    integer not null,
    count_not_assessable integer not null,
    engine           varchar not null,
    computed_at      timestamp not null
);
