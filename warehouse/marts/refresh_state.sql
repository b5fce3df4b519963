-- One row per completed refresh of the derived layers: how much of raw it covered and the settings it used, so that a reader can tell results older than the data or the configuration.
-- key: refreshed_at
create table if not exists marts.refresh_state (
    refreshed_at  timestamp not null,
    raw_files     integer not null,     -- files in raw.submissions when the refresh ran
    last_file_id  integer,              -- the newest of them (null when raw was empty)
    settings      json not null         -- SHA-256 of each configuration file the refresh reads, by name
);
