-- One row per action of a user or an operator (log-in, upload, verdict, export, user change, import …); append-only, never updated or deleted.
-- key: seq
create table if not exists action_log (
    seq         integer primary key autoincrement,
    logged_at   text not null,               -- ISO 8601 with offset
    user_name   text not null,               -- account, or os:<user> for the command line
    role        text not null,               -- admin | leader | auditor | evaluator | clerk | operator | anonymous
    county_code text,                        -- clerks
    action      text not null,               -- pipelines.access.action_log.ACTIONS
    object      text not null default '',
    detail      text not null default '',
    result      text not null,               -- ok | failed | denied
    source      text not null                -- app | cli
);
create index if not exists action_log_time on action_log (logged_at);
create trigger if not exists action_log_append_only_update before update on action_log
begin select raise(abort, 'action_log is append-only'); end;
create trigger if not exists action_log_append_only_delete before delete on action_log
begin select raise(abort, 'action_log is append-only'); end;
