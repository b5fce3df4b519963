-- One row per accepted file content (identified by its SHA-256); never updated, never deleted.
-- key: file_id
create table if not exists raw.submissions (
    file_id       integer not null,   -- ingestion order: a higher id was ingested later
    file_hash     varchar not null,      -- a key too: one file content is kept once
    file_name     varchar not null,      -- the file name as submitted
    file_path     varchar,               -- the path as given or found
    file_bytes    bigint,
    kind          varchar not null,      -- ledger | plan | monthly
    sheet_name    varchar,
    header_row    integer,               -- 1-based spreadsheet row of the header
    fill_date     date,                  -- 填报日期 from column or title row
    report_month  date,                  -- monthly: first day of the report month
    title         varchar,               -- the title rows above the header, joined
    batch_id      varchar not null,
    ingested_at   timestamp not null,
    row_count     integer not null,      -- data rows loaded
    rejected_row_count integer not null  -- data rows quarantined
);
