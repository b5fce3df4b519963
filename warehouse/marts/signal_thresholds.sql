-- One row per numeric threshold of a rule in force (key "<RULE>.<name>"), written from pipelines/config/thresholds.toml by pipelines/signals.py.
-- key: key
create table if not exists marts.signal_thresholds (
    key         varchar not null,     -- e.g. INFLATED_SCALE.pct_over
    rule        varchar not null,
    name        varchar not null,
    value       double not null,
    version     varchar not null
);
