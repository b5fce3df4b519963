-- One row per change to a local account (created, password set, disabled, enabled); append-only: an account's state is its latest row.
-- key: seq
create table if not exists accounts (
    seq           integer primary key autoincrement,
    user_name     text not null,
    display_name  text not null,
    role          text not null check (role in ('admin', 'leader', 'auditor', 'evaluator', 'clerk')),
    county_code   text,                      -- clerks only (counties.csv code)
    password_hash text not null,             -- argon2id, PHC string ($argon2id$v=19$m=…)
    is_disabled   integer not null default 0,
    change        text not null,             -- create | passwd | disable | enable
    changed_at    text not null,             -- ISO 8601 with offset
    changed_by    text not null              -- account name, or os:<user> from the command line
);
create index if not exists accounts_user on accounts (user_name, seq);
create trigger if not exists accounts_append_only_update before update on accounts
begin select raise(abort, 'accounts is append-only'); end;
create trigger if not exists accounts_append_only_delete before delete on accounts
begin select raise(abort, 'accounts is append-only'); end;
