-- One row per number the spec or the configuration fixes, as in force at the last refresh: its value, unit and meaning, the file it lives in and that file's version; written from pipelines/config/*.toml by pipelines/constants.py, read by the SQL models, the read side and the page captions.
-- key: key
create table if not exists marts.settings (
    key          varchar not null,       -- e.g. clock.report_due_day, FUNDS_IDLE.consecutive_months, grades.优秀
    value        double not null,
    unit         varchar not null,       -- Chinese, e.g. 日, 个工作日, 比例
    description  varchar not null,       -- Chinese: what the number decides
    source       varchar not null,       -- program.toml | thresholds.toml | scoring.toml | limits.toml
    version      varchar not null        -- the file's version and a fingerprint of its bytes
);
