-- API access: refresh tokens, a non-owner role for the API (`xeno_api`), row-level
-- security on every tenant-keyed table, and narrow definer functions for the few
-- operations that must cross tenants. See docs/api.md, "Decisions".

-- Rotating refresh tokens, stored hashed. A login starts a family; each refresh replaces
-- the token with a new one of the same family. Presenting a revoked token again means it
-- was stolen (or replayed): the whole family is revoked.
create table app.refresh_tokens (
    id          uuid primary key default gen_random_uuid(),
    family_id   uuid not null,
    user_id     uuid not null references app.users (id) on delete cascade,
    token_hash  bytea not null unique,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    revoked_at  timestamptz,
    replaced_by uuid references app.refresh_tokens (id) on delete set null
);
create index refresh_tokens_family_idx on app.refresh_tokens (family_id);
create index refresh_tokens_user_idx on app.refresh_tokens (user_id);

-- When each tenant's marts were last rebuilt: the API's dashboard cache is keyed by it.
-- Written by whoever finishes a build (the API's sync worker today; see docs/api.md).
create table app.mart_builds (
    tenant_id uuid primary key references app.tenants (id) on delete cascade,
    built_at  timestamptz not null default now()
);

-- Per-transaction identity set by the API (`set_config(..., true)`); NULL when unset, so
-- a query without a tenant matches no row.
create or replace function app.current_tenant_id() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create or replace function app.current_user_id() returns uuid
    language sql stable
    as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

-- Enable and force RLS on a tenant-keyed table, idempotently. FORCE subjects the owner
-- too; the owner (dbt, dlt, Dagster, the CLI: pipeline code that works across tenants)
-- keeps access through its own explicit policy.
create or replace function app.enable_tenant_rls(rel regclass) returns void
    language plpgsql
    as $$
declare
    table_owner name := (select pg_get_userbyid(relowner) from pg_class where oid = rel);
begin
    execute format('alter table %s enable row level security', rel);
    execute format('alter table %s force row level security', rel);
    execute format('drop policy if exists tenant_isolation on %s', rel);
    -- `(select ...)`: evaluated once per query (an InitPlan), not once per row.
    execute format(
        'create policy tenant_isolation on %s '
        'using (tenant_id = (select app.current_tenant_id())) '
        'with check (tenant_id = (select app.current_tenant_id()))', rel);
    execute format('drop policy if exists owner_maintenance on %s', rel);
    execute format(
        'create policy owner_maintenance on %s to %I using (true) with check (true)',
        rel, table_owner);
end
$$;

-- A mart table: tenant RLS, and read access for the API role. dbt calls this as a
-- post-hook on every mart model (a rebuilt table loses policies and grants).
create or replace function app.secure_tenant_table(p_schema text, p_table text) returns void
    language plpgsql
    as $$
declare
    rel regclass := format('%I.%I', p_schema, p_table)::regclass;
begin
    perform app.enable_tenant_rls(rel);
    if exists (select from pg_roles where rolname = 'xeno_api') then
        execute format('grant usage on schema %I to xeno_api', p_schema);
        execute format('grant select on %s to xeno_api', rel);
    end if;
end
$$;

-- App tables the API touches per tenant. Memberships are also visible to the user they
-- belong to (listing "my tenants"); the creator of a tenant may make themself its owner
-- (the first membership, inserted before any tenant is selected). The audit log accepts entries for tenants the caller belongs to.
select app.enable_tenant_rls('app.sync_runs');
select app.enable_tenant_rls('app.memberships');
select app.enable_tenant_rls('app.audit_log');
select app.enable_tenant_rls('app.mart_builds');

drop policy tenant_isolation on app.memberships;
create policy tenant_isolation on app.memberships
    using (tenant_id = app.current_tenant_id() or user_id = app.current_user_id())
    with check (
        tenant_id = app.current_tenant_id()
        or (user_id = app.current_user_id() and role = 'owner' and exists (
            select from app.tenants t
            where t.id = tenant_id and t.created_by = app.current_user_id()))
    );

drop policy tenant_isolation on app.audit_log;
create policy tenant_isolation on app.audit_log
    using (tenant_id = app.current_tenant_id())
    with check (
        tenant_id is null or tenant_id = app.current_tenant_id() or exists (
            select from app.memberships m
            where m.tenant_id = audit_log.tenant_id and m.user_id = app.current_user_id())
    );

-- The tenant directory: readable (without the encrypted secrets, see the column grants
-- below) so a user's tenants can be listed through their memberships; created only by
-- the user recorded as creator; changed only under that tenant's id.
alter table app.tenants enable row level security;
alter table app.tenants force row level security;
create policy directory_read on app.tenants for select using (true);
create policy create_own on app.tenants for insert
    with check (created_by = app.current_user_id());
create policy change_current on app.tenants for update
    using (id = app.current_tenant_id()) with check (id = app.current_tenant_id());
create policy delete_current on app.tenants for delete using (id = app.current_tenant_id());
do $$
begin
    execute format(
        'create policy owner_maintenance on app.tenants to %I using (true) with check (true)',
        (select pg_get_userbyid(relowner) from pg_class where oid = 'app.tenants'::regclass));
end
$$;

-- Deleting a tenant removes its raw schema and its mart rows, which the API role may not
-- touch: this definer function does exactly that, for an owner of the tenant only.
create or replace function app.purge_tenant(p_tenant uuid) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    schema_name text;
    mart record;
begin
    if not exists (
        select from app.memberships
        where tenant_id = p_tenant and user_id = app.current_user_id() and role = 'owner'
    ) then
        raise exception 'only an owner may delete tenant %', p_tenant
            using errcode = 'insufficient_privilege';
    end if;
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
    delete from app.tenants where id = p_tenant;
    return true;
end
$$;
revoke all on function app.purge_tenant(uuid) from public;

-- The tenant guard's lookup: the caller's role in one tenant, in one statement (the hot
-- path of every tenant request). Narrow: one membership row, chosen by both keys.
create or replace function app.member_role(p_tenant uuid, p_user uuid) returns text
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$ select role from app.memberships where tenant_id = p_tenant and user_id = p_user $$;
revoke all on function app.member_role(uuid, uuid) from public;

-- The dashboard cache's validity check, in one statement: when the tenant's marts were
-- last built, for a member of the tenant (NULL otherwise). Narrow: one timestamp.
create or replace function app.mart_built_at(p_tenant uuid, p_user uuid) returns timestamptz
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
        select b.built_at from app.mart_builds b
        where b.tenant_id = p_tenant
          and exists (select from app.memberships m
                      where m.tenant_id = p_tenant and m.user_id = p_user)
    $$;
revoke all on function app.mart_built_at(uuid, uuid) from public;

-- Create the API role when the migrating role may (development), grant it what the API
-- needs, and secure mart tables that already exist. Safe to call again, e.g. by an
-- administrator after creating `xeno_api` by hand: `select app.ensure_api_role()`.
create or replace function app.ensure_api_role() returns boolean
    language plpgsql
    as $$
declare
    app_owner name := (select pg_get_userbyid(nspowner) from pg_namespace where nspname = 'app');
    mart record;
begin
    if not exists (select from pg_roles where rolname = 'xeno_api') then
        if not exists (
            select from pg_roles where rolname = current_user and (rolcreaterole or rolsuper)
        ) then
            raise notice 'role xeno_api is missing and % may not create it; see docs/api.md',
                current_user;
            return false;
        end if;
        begin
            create role xeno_api nologin nosuperuser nocreatedb nocreaterole nobypassrls;
        exception when duplicate_object then
            null;  -- created concurrently by another database's migration
        end;
    end if;
    -- Development: the owner may act as the API role (SET ROLE); never the other way round.
    begin
        execute format('grant xeno_api to %I', app_owner);
    exception when insufficient_privilege then
        raise notice 'could not grant xeno_api to %', app_owner;
    end;
    grant usage on schema app to xeno_api;
    grant select, insert on app.users to xeno_api;
    grant update (password_hash, updated_at) on app.users to xeno_api;
    grant select, insert, update on app.refresh_tokens to xeno_api;
    grant select (id, name, shop_domain, raw_schema, created_by, created_at, updated_at)
        on app.tenants to xeno_api;
    grant insert, delete on app.tenants to xeno_api;
    grant update (name, access_token_encrypted, updated_at) on app.tenants to xeno_api;
    grant select, insert, update, delete on app.memberships to xeno_api;
    grant select, insert on app.sync_runs to xeno_api;
    grant insert on app.audit_log to xeno_api;
    grant select on app.mart_builds, app.schema_migrations to xeno_api;
    grant usage on all sequences in schema app to xeno_api;
    grant execute on function app.purge_tenant(uuid) to xeno_api;
    grant execute on function app.member_role(uuid, uuid) to xeno_api;
    grant execute on function app.mart_built_at(uuid, uuid) to xeno_api;
    for mart in
        select n.nspname, c.relname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'app' and c.relkind in ('r', 'p') and not c.relrowsecurity
    loop
        perform app.enable_tenant_rls(format('%I.%I', mart.nspname, mart.relname)::regclass);
    end loop;
    for mart in
        select distinct n.nspname, c.relname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
    loop
        perform app.secure_tenant_table(mart.nspname, mart.relname);
    end loop;
    return true;
end
$$;
select app.ensure_api_role();
