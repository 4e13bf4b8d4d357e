-- The live loop (`xeno worker`): a new tenant's first sync is queued by the worker as
-- trigger 'first'; `attempts` counts how often a run was started, so a run interrupted
-- by a stop is queued again once, not forever; queued runs are claimed oldest first.
alter table app.sync_runs drop constraint sync_runs_trigger_check;
alter table app.sync_runs add constraint sync_runs_trigger_check
    check (trigger in ('cli', 'api', 'schedule', 'sensor', 'webhook', 'operator', 'first'));
alter table app.sync_runs add column attempts smallint not null default 0;
create index sync_runs_queued_idx on app.sync_runs (requested_at) where status = 'queued';
