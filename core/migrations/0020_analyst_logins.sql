-- Analyst logins (issue 18): per-tenant, read-only PostgreSQL logins on the marts.
--
-- Every analyst login is a member of the NOLOGIN group role `xeno_analyst`, which may
-- SELECT the mart tables and nothing else (no usage on `app` or any raw schema). Which
-- tenants a login sees is data, `app.analyst_grants`, read by row-level security on every
-- mart through `app.analyst_tenant_ids()` (keyed by `session_user`): a grant or revoke is
-- one row, effective on the login's next query. See docs/analysts.md and docs/decisions.md.

create table app.analyst_grants (
    login      text not null check (login ~ '^[a-z][a-z0-9_]{2,62}$' and login !~ '^pg_'),
    tenant_id  uuid not null references app.tenants (id) on delete cascade,
    granted_at timestamptz not null default now(),
    granted_by text not null,
    primary key (login, tenant_id)
);
create index analyst_grants_tenant_idx on app.analyst_grants (tenant_id);
select app.enable_tenant_rls('app.analyst_grants');

-- The tenants the connected login was granted. Definer: the login itself has no access
-- to `app`. `session_user`, not `current_user`: a `SET ROLE xeno_analyst` changes the
-- latter, and inside a definer function `current_user` is the owner anyway.
create or replace function app.analyst_tenant_ids() returns uuid[]
    language sql
    stable
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
        select coalesce(array_agg(tenant_id), '{}'::uuid[])
        from app.analyst_grants where login = session_user
    $$;
revoke all on function app.analyst_tenant_ids() from public;

-- Create the analyst group role when the migrating role may (it is cluster-wide, like
-- xeno_api). Safe to call again.
create or replace function app.ensure_analyst_role() returns boolean
    language plpgsql
    as $$
begin
    if not exists (select from pg_roles where rolname = 'xeno_analyst') then
        if not exists (
            select from pg_roles where rolname = current_user and (rolcreaterole or rolsuper)
        ) then
            raise notice 'role xeno_analyst is missing and % may not create it; see docs/analysts.md',
                current_user;
            return false;
        end if;
        begin
            create role xeno_analyst nologin nosuperuser nocreatedb nocreaterole nobypassrls;
        exception when duplicate_object or unique_violation then
            null;  -- created concurrently by another database's migration
        end;
    end if;
    grant execute on function app.analyst_tenant_ids() to xeno_analyst;
    return true;
end
$$;
select app.ensure_analyst_role();

-- A mart table: tenant RLS, read access for the API role and for analysts. Replaces the
-- version of 0012 (same fast path: catalog reads only once the table is secured, so
-- concurrent tenant builds take no DDL locks). dbt calls it as a post-hook of every mart
-- model, so a mart created later (a new model, a dropped and rebuilt table) is covered.
--
-- Analysts: a permissive policy lets them read their granted tenants' rows, and a
-- restrictive one keeps them to those rows whatever else would admit a row (the generic
-- `tenant_isolation` policy trusts `app.tenant_id`, a setting any session can set).
create or replace function app.secure_tenant_table(p_schema text, p_table text) returns void
    language plpgsql
    as $$
declare
    rel regclass := format('%I.%I', p_schema, p_table)::regclass;
    has_api boolean := exists (select from pg_roles where rolname = 'xeno_api');
    has_analyst boolean := exists (select from pg_roles where rolname = 'xeno_analyst');
    policies text[] := array['tenant_isolation', 'owner_maintenance']
        || case when has_analyst then array['analyst_read', 'analyst_scope'] else '{}' end;
begin
    if exists (
        select from pg_class c
        where c.oid = rel and c.relrowsecurity and c.relforcerowsecurity
    ) and (
        select count(*) from pg_policy where polrelid = rel and polname = any (policies)
    ) = cardinality(policies) and (
        not has_api
        or (has_schema_privilege('xeno_api', p_schema, 'usage')
            and has_table_privilege('xeno_api', rel, 'select'))
    ) and (
        not has_analyst
        or (has_schema_privilege('xeno_analyst', p_schema, 'usage')
            and has_table_privilege('xeno_analyst', rel, 'select'))
    ) then
        return;
    end if;
    perform pg_advisory_xact_lock(7242019012);  -- one securing transaction at a time
    if not exists (
        select from pg_class c
        where c.oid = rel and c.relrowsecurity and c.relforcerowsecurity
    ) or (
        select count(*) from pg_policy
        where polrelid = rel and polname in ('tenant_isolation', 'owner_maintenance')
    ) < 2 then
        perform app.enable_tenant_rls(rel);
    end if;
    if has_api then
        if not has_schema_privilege('xeno_api', p_schema, 'usage') then
            execute format('grant usage on schema %I to xeno_api', p_schema);
        end if;
        if not has_table_privilege('xeno_api', rel, 'select') then
            execute format('grant select on %s to xeno_api', rel);
        end if;
    end if;
    if has_analyst then
        execute format('drop policy if exists analyst_read on %s', rel);
        execute format(
            'create policy analyst_read on %s for select to xeno_analyst '
            'using (tenant_id = any ((select app.analyst_tenant_ids())::uuid[]))', rel);
        execute format('drop policy if exists analyst_scope on %s', rel);
        execute format(
            'create policy analyst_scope on %s as restrictive to xeno_analyst '
            'using (tenant_id = any ((select app.analyst_tenant_ids())::uuid[])) '
            'with check (false)', rel);
        if not has_schema_privilege('xeno_analyst', p_schema, 'usage') then
            execute format('grant usage on schema %I to xeno_analyst', p_schema);
        end if;
        if not has_table_privilege('xeno_analyst', rel, 'select') then
            execute format('grant select on %s to xeno_analyst', rel);
        end if;
    end if;
end
$$;

-- Grant an analyst login one tenant. Creates the login when new, with the SCRAM verifier
-- the caller computed (the password itself never reaches the server or its logs); an
-- existing login keeps its password. Refuses any existing role that is not an analyst
-- login, so this can never take over another role. Refreshes the login's limits.
-- Returns true when the login was created. Not granted to the API role: see
-- app.owner_grant_analyst.
create or replace function app.grant_analyst(
    p_tenant uuid, p_login text, p_verifier text, p_granted_by text,
    p_connection_limit integer, p_statement_timeout_ms integer
) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
declare
    created boolean := false;
begin
    if p_login !~ '^[a-z][a-z0-9_]{2,62}$' or p_login ~ '^(pg_|xeno)' then
        raise exception 'analyst login must be 3-63 of a-z, 0-9, _ (starting with a letter, '
            'not pg_ or xeno): %', p_login using errcode = 'invalid_parameter_value';
    end if;
    if not exists (select from app.tenants where id = p_tenant) then
        raise exception 'no tenant has id %', p_tenant using errcode = 'no_data_found';
    end if;
    if not exists (select from pg_roles where rolname = 'xeno_analyst') then
        raise exception 'role xeno_analyst is missing; run `select app.ensure_analyst_role()`'
            using errcode = 'undefined_object';
    end if;
    if exists (select from pg_roles where rolname = p_login) then
        if not pg_has_role(p_login, 'xeno_analyst', 'member')
           or exists (select from pg_roles where rolname = p_login
                      and (rolsuper or rolcreaterole or rolcreatedb or rolbypassrls)) then
            raise exception 'role % exists and is not an analyst login', p_login
                using errcode = 'duplicate_object';
        end if;
    else
        execute format(
            'create role %I login nosuperuser nocreatedb nocreaterole nobypassrls '
            'inherit password %L', p_login, p_verifier);
        created := true;
    end if;
    execute format('grant xeno_analyst to %I', p_login);
    execute format('alter role %I connection limit %s', p_login, p_connection_limit);
    execute format('alter role %I set statement_timeout = %s', p_login, p_statement_timeout_ms);
    execute format('alter role %I set default_transaction_read_only = on', p_login);
    execute format('alter role %I set idle_in_transaction_session_timeout = %s',
        p_login, greatest(p_statement_timeout_ms, 60000));
    insert into app.analyst_grants (login, tenant_id, granted_by)
    values (p_login, p_tenant, p_granted_by)
    on conflict (login, tenant_id) do nothing;
    return created;
end
$$;
revoke all on function app.grant_analyst(uuid, text, text, text, integer, integer) from public;

-- Take a tenant away from an analyst login: its next query sees none of the tenant's rows.
-- A login left without any tenant of this database loses its membership and is dropped
-- (or, if a session of it still owns a temporary object, can no longer log in).
-- Returns whether the grant existed.
create or replace function app.revoke_analyst(p_tenant uuid, p_login text) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    delete from app.analyst_grants where login = p_login and tenant_id = p_tenant;
    if not found then
        return false;
    end if;
    if not exists (select from app.analyst_grants where login = p_login)
       and exists (select from pg_roles where rolname = p_login)
       and pg_has_role(p_login, 'xeno_analyst', 'member') then
        begin
            execute format('drop role %I', p_login);
        exception when dependent_objects_still_exist then
            execute format('alter role %I nologin', p_login);
            execute format('revoke xeno_analyst from %I', p_login);
        end;
    end if;
    return true;
end
$$;
revoke all on function app.revoke_analyst(uuid, text) from public;

-- The API's doors: the same operations for an owner of the tenant only (the caller is
-- `app.user_id`, set per transaction by the API).
create or replace function app.owner_grant_analyst(
    p_tenant uuid, p_login text, p_verifier text,
    p_connection_limit integer, p_statement_timeout_ms integer
) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not exists (
        select from app.memberships
        where tenant_id = p_tenant and user_id = app.current_user_id() and role = 'owner'
    ) then
        raise exception 'only an owner may grant analyst access to tenant %', p_tenant
            using errcode = 'insufficient_privilege';
    end if;
    return app.grant_analyst(p_tenant, p_login, p_verifier, 'user:' || app.current_user_id(),
        p_connection_limit, p_statement_timeout_ms);
end
$$;
revoke all on function app.owner_grant_analyst(uuid, text, text, integer, integer) from public;

create or replace function app.owner_revoke_analyst(p_tenant uuid, p_login text) returns boolean
    language plpgsql
    security definer
    set search_path = pg_catalog, pg_temp
    as $$
begin
    if not exists (
        select from app.memberships
        where tenant_id = p_tenant and user_id = app.current_user_id() and role = 'owner'
    ) then
        raise exception 'only an owner may revoke analyst access to tenant %', p_tenant
            using errcode = 'insufficient_privilege';
    end if;
    return app.revoke_analyst(p_tenant, p_login);
end
$$;
revoke all on function app.owner_revoke_analyst(uuid, text) from public;

-- The API role: its two doors and a read of the current tenant's grants (RLS).
create or replace function app.grant_analyst_access() returns void
    language plpgsql
    as $$
begin
    if not exists (select from pg_roles where rolname = 'xeno_api') then
        return;
    end if;
    grant execute on function app.owner_grant_analyst(uuid, text, text, integer, integer)
        to xeno_api;
    grant execute on function app.owner_revoke_analyst(uuid, text) to xeno_api;
    grant select on app.analyst_grants to xeno_api;
end
$$;
select app.grant_analyst_access();

-- Marts that exist already get the analyst policies and grants now.
do $$
declare
    mart record;
begin
    for mart in
        select distinct n.nspname, c.relname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'p')
    loop
        perform app.secure_tenant_table(mart.nspname, mart.relname);
    end loop;
end
$$;
