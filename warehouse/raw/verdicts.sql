-- One row per act of an auditor on a signal: a verdict (已确认 / 已排除 / 需补充材料, with a note) under the auditor's account, or a review (复核) of another auditor's verdict; append-only, keyed by the stable signal_id (raw.signal_keys carries the acts over to the same finding in a resubmitted file).
-- key: act_id
create table if not exists raw.verdicts (
    signal_id          varchar not null,           -- marts.signals.signal_id (hash of rule and source row / county and period)
    verdict            varchar not null,           -- 已确认 | 已排除 | 需补充材料; a review: the verdict it reviews (rows from before accounts: 已核实 | 已排除 | 待核查)
    note               varchar,
    decided_by         varchar not null,           -- the account's user name (rows from before accounts: the name typed)
    decided_at         timestamp not null,
    rule               varchar,                    -- the rule of the signal at the time, kept for the record
    act_id             varchar,                    -- one per act (the key), ordered by time
    act                varchar,                    -- verdict | review (null: a verdict; DuckLake takes no default here)
    decided_by_display varchar,                    -- the account's display name at the time
    severity           varchar,                    -- the signal's severity at the time
    needs_review       boolean,                    -- (null: false) a high-severity 已确认 / 已排除: in force only once another auditor confirms it
    review_of          varchar,                    -- a review: the act_id of the verdict it reviews
    review_outcome     varchar                     -- a review: confirm | reject
);
