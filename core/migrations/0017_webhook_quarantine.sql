-- Quarantine (issue 15): a stored delivery whose payload can never be applied (not an
-- object, no usable id, an unparseable `updated_at`, ...) gets this terminal status and
-- its reason, instead of failing its batch, and every later one, again and again.
alter table app.webhook_events drop constraint webhook_events_status_check;
alter table app.webhook_events add constraint webhook_events_status_check
    check (status in ('pending', 'applied', 'skipped', 'unhandled', 'failed', 'quarantined'));
create index webhook_events_quarantined_idx on app.webhook_events (tenant_id)
    where status = 'quarantined';

-- `/metrics` (public, no tenant) shows how many deliveries wait, failed or are
-- quarantined, across tenants: counts only, nothing that names a tenant. The apply step
-- runs in another process, so the API reads the numbers at scrape time.
create or replace function app.webhook_backlog()
    returns table (status text, events bigint)
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
        select s.status, (select count(*) from app.webhook_events e where e.status = s.status)
        from unnest(array['pending', 'failed', 'quarantined']) as s (status)
    $$;
revoke all on function app.webhook_backlog() from public;

create or replace function app.grant_webhook_access() returns void
    language plpgsql
    as $$
begin
    if not exists (select from pg_roles where rolname = 'xeno_api') then
        return;
    end if;
    grant execute on function app.store_webhooks(uuid[], text[], text[], jsonb[], jsonb[])
        to xeno_api;
    grant execute on function app.webhook_tenant(uuid) to xeno_api;
    grant execute on function app.owner_access_token(uuid, uuid) to xeno_api;
    grant execute on function app.webhook_backlog() to xeno_api;
    grant select on app.webhook_events, app.privacy_exports, app.tenant_deletions to xeno_api;
    grant update (webhook_secret_encrypted) on app.tenants to xeno_api;
end
$$;
select app.grant_webhook_access();
