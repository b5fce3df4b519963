-- One row per problem found in a row or a file: a quarantined row's reasons, and findings such as TOTALS_MISMATCH.
-- key: (none: one row per finding, and a finding about a whole file has no row number)
create table if not exists raw.row_issues (
    file_id     integer not null,
    sheet_name  varchar,
    row_number  integer,                 -- null for a finding about the whole file
    column_name varchar,                 -- the header as written in the file
    field       varchar,                 -- the canonical field (English)
    code        varchar not null,        -- e.g. NOT_A_NUMBER, OUT_OF_RANGE, UNKNOWN_COUNTY, TOTALS_MISMATCH
    severity    varchar not null,        -- reject (row quarantined) | finding (row kept)
    value       varchar,                 -- the offending cell as read
    message     varchar not null,        -- Chinese, names file, sheet, row and column
    details     json
);
