-- One row per publication (or withdrawal) of a year's scores to the county clerks by an admin; append-only: the latest row per kind and year is in force.
-- key: kind, year, decided_at
create table if not exists raw.score_publications (
    kind          varchar not null,      -- annual | biennial
    year          integer not null,
    is_published  boolean not null,      -- false: withdrawn
    decided_by    varchar not null,      -- the admin's user name
    decided_at    timestamp not null
);
