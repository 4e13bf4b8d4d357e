-- Owners set and rotate a store's webhook secret through `PATCH /tenant/{id}` (issue 15):
-- the API role may now write that column (still never read it: verification goes through
-- `app.webhook_tenant`). Granted in the function that (re)grants the webhook routes'
-- privileges, so an API role created after migrating gets it from there too.
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
    grant update (webhook_secret_encrypted) on app.tenants to xeno_api;
end
$$;
select app.grant_webhook_access();
