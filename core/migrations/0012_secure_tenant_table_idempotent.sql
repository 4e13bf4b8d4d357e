-- Every mart model calls `app.secure_tenant_table` as a dbt post-hook, on every tenant
-- build. Only do DDL (RLS, policies, grants) when something is missing: once a table is
-- secured the call only reads the catalog, so concurrent tenant builds never queue behind
-- an ACCESS EXCLUSIVE lock taken by `create policy`. When something is missing, the
-- changes are serialised (dbt builds two models at once and both may grant on the schema:
-- concurrent GRANTs on one catalog row fail with "tuple concurrently updated").
create or replace function app.secure_tenant_table(p_schema text, p_table text) returns void
    language plpgsql
    as $$
declare
    rel regclass := format('%I.%I', p_schema, p_table)::regclass;
begin
    if exists (
        select from pg_class c
        where c.oid = rel and c.relrowsecurity and c.relforcerowsecurity
    ) and (
        select count(*) from pg_policy
        where polrelid = rel and polname in ('tenant_isolation', 'owner_maintenance')
    ) = 2 and (
        not exists (select from pg_roles where rolname = 'xeno_api')
        or (has_schema_privilege('xeno_api', p_schema, 'usage')
            and has_table_privilege('xeno_api', rel, 'select'))
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
    if exists (select from pg_roles where rolname = 'xeno_api') then
        if not has_schema_privilege('xeno_api', p_schema, 'usage') then
            execute format('grant usage on schema %I to xeno_api', p_schema);
        end if;
        if not has_table_privilege('xeno_api', rel, 'select') then
            execute format('grant select on %s to xeno_api', rel);
        end if;
    end if;
end
$$;
