-- One row per rule of flags.md: its class, severity and Chinese label as configured, written by pipelines/signals.py.
-- key: rule
create table if not exists marts.signal_rules (
    rule        varchar not null,
    class       varchar not null,
    severity    varchar not null,        -- high | medium | low
    label       varchar not null,        -- Chinese
    engine      varchar not null,        -- gx (Great Expectations suite) | sql
    description varchar not null,        -- Chinese: what trips it, with the thresholds in force
    sort_order  integer not null
);
