-- One row per file handed to ingest, whatever became of it (accepted, duplicate or rejected).
-- key: batch_id, seq
create table if not exists raw.ingest_log (
    batch_id      varchar not null,
    seq           integer not null,      -- position of the file in its batch
    file_path     varchar not null,
    file_name     varchar not null,
    file_hash     varchar,               -- null when the file could not be read at all
    status        varchar not null,      -- accepted | duplicate | rejected
    kind          varchar,
    county_code   varchar,               -- the county of most rows, when known
    report_month  date,
    fill_date     date,
    file_id       integer,               -- the accepted (or earlier identical) submission
    rows          integer not null,
    rejected_rows integer not null,
    messages      json not null,         -- list of Chinese messages
    logged_at     timestamp not null
);
