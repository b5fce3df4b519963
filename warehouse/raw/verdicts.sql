-- One row per verdict an auditor gave on a signal (append-only; the latest per signal_id is in force); keyed by the stable signal_id so that it survives re-ingestion and refresh (raw.signal_keys carries it over to the same finding in a resubmitted file).
-- key: signal_id, decided_at
create table if not exists raw.verdicts (
    signal_id   varchar not null,        -- marts.signals.signal_id (hash of rule and source row / county and period)
    verdict     varchar not null,        -- 已核实 | 已排除 | 待核查 (checked by pipelines/signals/verdicts.py)
    note        varchar,
    decided_by  varchar not null,
    decided_at  timestamp not null,
    rule        varchar                  -- the rule of the signal when the verdict was given, kept for the record
);
