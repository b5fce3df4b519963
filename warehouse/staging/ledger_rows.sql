-- One row per ledger data row as submitted, typed and normalised; is_rejected marks a quarantined row.
-- key: file_id, sheet_name, row_number
create table if not exists staging.ledger_rows (
    file_id            integer not null,
    sheet_name         varchar not null,
    row_number         integer not null,
    is_rejected        boolean not null,
    county_code        varchar,
    county_raw         varchar,
    street             varchar,
    community          varchar,
    name               varchar,
    address            varchar,
    build_year         integer,
    buildings          integer,
    households         integer,
    area_m2            double,
    property_owner     varchar,
    has_property_mgmt  boolean,
    pct_elderly        double,
    pct_willing        double,
    renovated_year     integer,
    fill_date          date
);
