-- Webhooks (issue #6): every verified delivery is kept here before it is acknowledged,
-- applied to the tenant's raw tables later, and privacy requests and tenant deletions
-- are recorded. One app-level table keyed by tenant (not one per raw schema): a raw
-- schema is dropped by a full-refresh sync, and acknowledged deliveries must survive it.
-- See docs/webhooks.md, "Decisions".

create table app.webhook_events (
    id              bigint generated always as identity primary key,
    tenant_id       uuid not null references app.tenants (id) on delete cascade,
    webhook_id      text not null,
    topic           text not null,
    headers         jsonb not null,
    payload         jsonb not null,
    received_at     timestamptz not null default now(),
    status          text not null default 'pending'
        check (status in ('pending', 'applied', 'skipped', 'unhandled', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    applied_at      timestamptz,
    error           text,
    -- a duplicate delivery (same X-Shopify-Webhook-Id) is acknowledged and stored once
    constraint webhook_events_delivery_key unique (tenant_id, webhook_id)
);
-- the apply step's queue: what is left to do, per tenant, oldest first
create index webhook_events_todo_idx on app.webhook_events (tenant_id, id)
    where status in ('pending', 'failed');
select app.enable_tenant_rls('app.webhook_events');

-- customers/data_request: what we hold on one customer, kept for the shop to collect.
create table app.privacy_exports (
    id           uuid primary key default gen_random_uuid(),
    tenant_id    uuid not null references app.tenants (id) on delete cascade,
    customer_id  bigint,
    requested_at timestamptz not null default now(),
    data         jsonb not null
);
select app.enable_tenant_rls('app.privacy_exports');

-- shop/redact and app/uninstalled: the tenant's data goes after a grace period.
create table app.tenant_deletions (
    tenant_id    uuid primary key references app.tenants (id) on delete cascade,
    reason       text not null,
    requested_at timestamptz not null default now(),
    due_at       timestamptz not null
);
select app.enable_tenant_rls('app.tenant_deletions');

-- The receiver's hot path, one statement: store verified deliveries, each once. The
-- webhook route has no user, so the API role gets this narrow door instead of table
-- grants: it can add pending events for existing tenants and learn which were new
-- (their webhook ids), nothing else. Arrays: the receiver commits concurrent deliveries
-- together (group commit), one INSERT per batch.
create or replace function app.store_webhooks(
    p_tenants uuid[], p_webhook_ids text[], p_topics text[], p_headers jsonb[], p_payloads jsonb[]
) returns setof text
    language plpgsql  -- not sql: plpgsql keeps the insert's plan for the session
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    return query
        insert into app.webhook_events (tenant_id, webhook_id, topic, headers, payload)
        select * from unnest(p_tenants, p_webhook_ids, p_topics, p_headers, p_payloads)
        on conflict (tenant_id, webhook_id) do nothing
        returning webhook_id;
end
$$;
revoke all on function app.store_webhooks(uuid[], text[], text[], jsonb[], jsonb[]) from public;

-- What verifying a delivery needs: the tenant's shop domain and its encrypted webhook
-- secret (decrypted by the API, which holds the key). Nothing else about the tenant.
create or replace function app.webhook_tenant(p_tenant uuid)
    returns table (shop_domain text, webhook_secret_encrypted bytea)
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$ select shop_domain, webhook_secret_encrypted from app.tenants where id = p_tenant $$;
revoke all on function app.webhook_tenant(uuid) from public;

-- Erasing a tenant without a user: the body of `app.purge_tenant` moves here so the
-- deletion worker (shop/redact, app/uninstalled) and an owner's DELETE share it. Not
-- granted to the API role.
create or replace function app.erase_tenant(p_tenant uuid) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    schema_name text;
    mart record;
begin
    select raw_schema into schema_name from app.tenants where id = p_tenant;
    if not found then
        return false;
    end if;
    for mart in
        select n.nspname, c.relname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
    loop
        execute format('delete from %I.%I where tenant_id = $1', mart.nspname, mart.relname)
            using p_tenant;
    end loop;
    execute format('drop schema if exists %I cascade', schema_name);
    execute format('drop schema if exists %I cascade', schema_name || '_staging');
    delete from app.tenants where id = p_tenant;
    return true;
end
$$;
revoke all on function app.erase_tenant(uuid) from public;

create or replace function app.purge_tenant(p_tenant uuid) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not exists (
        select from app.memberships
        where tenant_id = p_tenant and user_id = app.current_user_id() and role = 'owner'
    ) then
        raise exception 'only an owner may delete tenant %', p_tenant
            using errcode = 'insufficient_privilege';
    end if;
    return app.erase_tenant(p_tenant);
end
$$;

-- The API role: the two webhook doors, and reads of the tenant's own events and exports
-- (row-level security scopes them to the tenant the guard admitted).
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
    grant select on app.webhook_events, app.privacy_exports, app.tenant_deletions to xeno_api;
end
$$;
select app.grant_webhook_access();

-- Registering webhooks calls the store with its access token, which the API role cannot
-- read (column grants): this door hands the encrypted token to an owner of the tenant only.
create or replace function app.owner_access_token(p_tenant uuid, p_user uuid) returns bytea
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
        select t.access_token_encrypted from app.tenants t
        where t.id = p_tenant and exists (
            select from app.memberships m
            where m.tenant_id = p_tenant and m.user_id = p_user and m.role = 'owner')
    $$;
revoke all on function app.owner_access_token(uuid, uuid) from public;
do $$
begin
    if exists (select from pg_roles where rolname = 'xeno_api') then
        grant execute on function app.owner_access_token(uuid, uuid) to xeno_api;
    end if;
end
$$;
