-- A sync launched by hand in Dagster (the UI, a backfill, `dagster job launch`) is an
-- operator's, not a `cli` command's: record it as trigger 'operator'.
alter table app.sync_runs drop constraint sync_runs_trigger_check;
alter table app.sync_runs add constraint sync_runs_trigger_check
    check (trigger in ('cli', 'api', 'schedule', 'sensor', 'webhook', 'operator'));
