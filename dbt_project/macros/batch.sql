{#- The batch of tenants one build serves.

    `var('tenants')` lists {tenant_id, raw_schema}; staging reads the union of their raw
    schemas and every mart row carries its tenant_id, so one dbt invocation (one parse, one
    pass over the ~20 models and their tests) builds any number of tenants. An empty list
    builds nothing (the runner creates the shared tables that way).
-#}

{% macro batch_tenants() -%}
    {#- var('tenants'), validated: ids and schema names are inlined into SQL. -#}
    {%- set tenants = [] -%}
    {%- for tenant in var('tenants') -%}
        {%- set tenant_id = tenant['tenant_id'] | string | lower -%}
        {%- set raw_schema = tenant['raw_schema'] | string -%}
        {%- if not modules.re.fullmatch('[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', tenant_id) -%}
            {{ exceptions.raise_compiler_error("tenants: invalid tenant_id " ~ tenant_id) }}
        {%- endif -%}
        {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', raw_schema) -%}
            {{ exceptions.raise_compiler_error("tenants: invalid raw_schema " ~ raw_schema) }}
        {%- endif -%}
        {%- do tenants.append({'tenant_id': tenant_id, 'raw_schema': raw_schema}) -%}
    {%- endfor -%}
    {{ return(tenants) }}
{%- endmacro %}


{% macro tenant_literals() -%}
    {#- The batch's ids as a SQL list body: `'…'::uuid, '…'::uuid` (`null::uuid` if empty). -#}
    {%- set literals = [] -%}
    {%- for tenant in batch_tenants() -%}
        {%- do literals.append("'" ~ tenant.tenant_id ~ "'::uuid") -%}
    {%- endfor -%}
    {{ return(literals | join(', ') if literals else 'null::uuid') }}
{%- endmacro %}


{% macro in_batch(column='tenant_id') -%}
    {#- Condition: the row belongs to a tenant of this build. An array, not `in (…)`: a
        one-element list becomes `= '<id>'`, which the planner propagates through joins on
        tenant_id into a default 0.5% selectivity guess for the other side. -#}
    {{ column }} = any(array[{{ tenant_literals() }}])
{%- endmacro %}


{% macro batch_rows() -%}
    {#- The batch as a relation `batch(tenant_id)`, one row per tenant: for lateral
        per-tenant lookups that an index answers in a few rows (min/max, top N), which
        a grouped scan over every tenant's rows would not. -#}
    unnest(array[{{ tenant_literals() }}]) as batch(tenant_id)
{%- endmacro %}


{% macro batch_schema_prefix() -%}
    {#- Prefix of the schemas holding this build's staging/intermediate views: the raw
        schema for a single tenant (as before batching), else a name derived from the
        batch's tenant set, so concurrent builds of disjoint batches never share views. -#}
    {%- set tenants = batch_tenants() -%}
    {%- if tenants | length == 0 -%}
        {{ return('shopify_bootstrap') }}
    {%- elif tenants | length == 1 -%}
        {{ return(tenants[0].raw_schema) }}
    {%- else -%}
        {%- set ids = tenants | map(attribute='tenant_id') | sort | join(',') -%}
        {{ return('xeno_batch_' ~ local_md5(ids)[:16]) }}
    {%- endif -%}
{%- endmacro %}


{% macro drop_batch_schemas() -%}
    {#- on-run-end: a multi-tenant batch's views are of no use after its build (the next
        batch has other tenants); single-tenant schemas stay, next to the raw schema. -#}
    {%- if execute and batch_tenants() | length > 1 -%}
        {%- set prefix = batch_schema_prefix() -%}
        {{ return('drop schema if exists ' ~ adapter.quote(prefix ~ '_staging') ~ ', '
                  ~ adapter.quote(prefix ~ '_intermediate') ~ ' cascade') }}
    {%- endif -%}
    {{ return('select 1') }}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {#- dbt's own, plus placeholders in a test's `where` (dbt_project.yml), since yml configs
        cannot call macros: `__batch_tenants__` (the batch's ids), `__this_build__` (this
        invocation's build_id) and `__tenants_built_whole__` (tenants_built_whole). -#}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__tenants_built_whole__' in where -%}
            {%- set where = where | replace('__tenants_built_whole__', tenants_built_whole()) -%}
        {%- endif -%}
        {%- set where = where | replace('__batch_tenants__', tenant_literals())
                              | replace('__this_build__', build_id()) -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{% macro tenants_built_whole() -%}
    {#- The batch's tenants whose marts hold no rows of an earlier build (a first build, a
        full refresh), as a SQL list body. Their whole raw data is new to the marts, so the
        raw-contract tests on staging read it; a later build reads only the raw rows
        loaded since, and the mart tests check every row it writes. Decided by rows of
        other builds, not by any rows: this build's own fct_orders rows may already exist
        when a staging test runs. -#}
    {%- set relation = mart_relation('fct_orders') -%}
    {%- if full_refresh_requested() or relation is none or not execute -%}
        {{ return(tenant_literals()) }}
    {%- endif -%}
    {%- set found = run_query(
        "select batch.tenant_id::text from " ~ batch_rows() ~ " where not exists (select from "
        ~ relation ~ " where tenant_id = batch.tenant_id and _xeno_build_id < " ~ build_id()
        ~ ") and not exists (select from " ~ relation ~ " where tenant_id = batch.tenant_id"
        ~ " and _xeno_build_id > " ~ build_id() ~ ")") -%}
    {%- set literals = [] -%}
    {%- for row in found.rows -%}
        {%- do literals.append("'" ~ row[0] ~ "'::uuid") -%}
    {%- endfor -%}
    {{ return(literals | join(', ') if literals else 'null::uuid') }}
{%- endmacro %}
