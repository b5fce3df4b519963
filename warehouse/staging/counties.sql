-- One row per reporting unit of the prefecture (from spec counties.csv), in the official order.
-- key: county_code
create table if not exists staging.counties (
    county_code  varchar not null,
    county_name  varchar not null,
    aliases      varchar,
    seat_lat     double,
    seat_lon     double,
    sort_order   integer not null
);
