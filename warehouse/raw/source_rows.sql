-- One row per data or totals row of an accepted file, exactly as read (header text -> cell text).
-- key: file_id, sheet_name, row_number
create table if not exists raw.source_rows (
    file_id     integer not null,
    sheet_name  varchar not null,
    row_number  integer not null,        -- 1-based spreadsheet row
    row_type    varchar not null,        -- data | totals
    cells       json not null           -- {"<header as written>": "<cell as read>", ...}, unknown columns included
);
