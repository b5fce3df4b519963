-- One row per reporting unit of the prefecture (from spec counties.csv), in the official order.
-- key: county_code
-- prefecture_code: the unit's prefecture, written with the row by pipelines.counties.prefecture_of (the code's
-- first four digits, GB/T 2260): the one place the warehouse holds the rule; models and reads that group or
-- filter by prefecture join this column. Last and without a NOT NULL constraint (every writer fills it), so
-- that a warehouse from before it gets the same column by ALTER TABLE (pipelines.warehouse._upgrade_counties).
create table if not exists staging.counties (
    county_code  varchar not null,
    county_name  varchar not null,
    aliases      varchar,
    seat_lat     double,
    seat_lon     double,
    sort_order   integer not null,
    prefecture_code varchar
);
