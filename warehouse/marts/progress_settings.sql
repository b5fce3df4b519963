-- One row per setting the progress and bulletin marts read (key): the lagging tiers' thresholds and the plan's default completion deadline, written from pipelines/config by pipelines/tiers.py before the SQL marts are built.
create table if not exists marts.progress_settings (
    key         varchar primary key,     -- e.g. red_points_behind
    value       double not null,
    source      varchar not null         -- the TOML file and key it comes from
);
