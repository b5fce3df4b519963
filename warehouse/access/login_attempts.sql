-- One row per log-in attempt with a password (the user name as typed, whether it succeeded); append-only: the lock-out is computed from these rows.
-- key: seq
create table if not exists login_attempts (
    seq          integer primary key autoincrement,
    user_name    text not null,
    attempted_at text not null,              -- ISO 8601 with offset
    outcome      text not null check (outcome in ('success', 'failure', 'locked', 'disabled'))
);
create index if not exists login_attempts_user on login_attempts (user_name, seq);
create trigger if not exists login_attempts_append_only_update before update on login_attempts
begin select raise(abort, 'login_attempts is append-only'); end;
create trigger if not exists login_attempts_append_only_delete before delete on login_attempts
begin select raise(abort, 'login_attempts is append-only'); end;
