-- `/metrics` shows the live loop's queues (issue 13), read at scrape time since the
-- worker is another process: per queue, the units waiting (each at most one per tenant:
-- queued syncs, tenants with webhooks due) and how long the oldest has waited. Counts
-- and ages only, nothing that names a tenant.
create or replace function app.live_loop_backlog()
    returns table (queue text, units bigint, oldest_seconds double precision)
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
        select 'syncs', count(*),
               coalesce(extract(epoch from now() - min(requested_at)), 0)::double precision
        from app.sync_runs where status = 'queued'
        union all
        select 'webhook_tenants', count(distinct tenant_id),
               coalesce(extract(epoch from now() - min(received_at)), 0)::double precision
        from app.webhook_events
        where status in ('pending', 'failed') and next_attempt_at <= now()
    $$;
revoke all on function app.live_loop_backlog() from public;
-- The API role's grants stay in one function (0011): this one adds the queue gauge's.
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
    grant execute on function app.live_loop_backlog() to xeno_api;
    grant select on app.webhook_events, app.privacy_exports, app.tenant_deletions to xeno_api;
    grant update (webhook_secret_encrypted) on app.tenants to xeno_api;
end
$$;
select app.grant_webhook_access();
