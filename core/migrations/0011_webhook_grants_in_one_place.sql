-- Every grant the webhook routes need, in the one function that (re)grants them, so an
-- API role created after migrating (production) gets them from `app.ensure_api_role()`
-- followed by `app.grant_webhook_access()` — which the API runs at start in development.
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
    grant select on app.webhook_events, app.privacy_exports, app.tenant_deletions to xeno_api;
end
$$;
select app.grant_webhook_access();
