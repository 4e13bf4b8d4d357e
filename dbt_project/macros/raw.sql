{% macro raw_catalog(table_names) -%}
    {#- {raw_schema: {table: [columns]}} of the batch's raw schemas, for the given tables
        (or indexes), in one catalog query (dlt only creates a table once it has rows, and a column once
        it has a non-null value). -#}
    {%- set schemas = batch_tenants() | map(attribute='raw_schema') | list -%}
    {%- set found = {} -%}
    {%- if execute and schemas -%}
        {%- set rows = run_query(
            "select n.nspname, c.relname, a.attname"
            ~ " from pg_catalog.pg_class c"
            ~ " join pg_catalog.pg_namespace n on n.oid = c.relnamespace"
            ~ " join pg_catalog.pg_attribute a on a.attrelid = c.oid"
            ~ "   and a.attnum > 0 and not a.attisdropped"
            ~ " where c.relkind in ('r', 'p', 'v', 'f', 'i')"
            ~ "   and n.nspname in ('" ~ schemas | join("', '") ~ "')"
            ~ "   and c.relname in ('" ~ table_names | join("', '") ~ "')") -%}
        {%- for schema, table, column in rows.rows -%}
            {%- do found.setdefault(schema, {}).setdefault(table, []).append(column) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}


{% macro column_or_null(columns_present, name, type) -%}
    {#- A raw column cast to its type, or a typed null when dlt has not created it yet
        (dlt skips columns whose values were all null so far). -#}
    {%- if name in columns_present -%}
        {{ adapter.quote(name) }}::{{ type }}
    {%- else -%}
        null::{{ type }}
    {%- endif -%}
{%- endmacro %}


{% macro raw_select(table_name, columns) -%}
    {#- The union over the batch's tenants of `select '<tenant>'::uuid as tenant_id, <each
        column cast to its type> from <raw_schema>.<table>`, keeping raw names. A tenant
        without the table contributes nothing; no table at all gives an empty relation of
        the same shape; extra raw columns are ignored. Every raw table may carry
        `_xeno_deleted_at` (webhook deletions); it is always selected so staging can flag
        deleted rows. `source()` keeps the lineage. -#}
    {%- set declared = source('shopify', table_name) -%}
    {%- set wanted = {} -%}
    {%- do wanted.update(columns) -%}
    {%- do wanted.update({'_xeno_deleted_at': 'timestamptz'}) -%}
    {%- set catalog = raw_catalog([table_name]) -%}
    {%- set branches = [] -%}
    {%- for tenant in batch_tenants() if table_name in catalog.get(tenant.raw_schema, {}) -%}
        {%- set present = catalog[tenant.raw_schema][table_name] -%}
        {%- set branch -%}
    select
        '{{ tenant.tenant_id }}'::uuid as tenant_id
        {%- for name, type in wanted.items() %},
        {{ column_or_null(present, name, type) }} as {{ adapter.quote(name) }}
        {%- endfor %}
    from {{ adapter.quote(tenant.raw_schema) }}.{{ adapter.quote(table_name) }}
        {%- endset -%}
        {%- do branches.append(branch) -%}
    {%- endfor -%}
    {%- if branches -%}
        {{ branches | join('\n    union all\n') }}
    {%- else %}
    select
        null::uuid as tenant_id
        {%- for name, type in wanted.items() %},
        null::{{ type }} as {{ adapter.quote(name) }}
        {%- endfor %}
    where false
    {%- endif -%}
{%- endmacro %}


{% macro index_raw_tables() -%}
    {#- on-run-start: index what staging joins and filters on (dlt creates no indexes), in
        every raw schema of the batch. Child tables are looked up by root or parent id; root
        tables are filtered by load id, with the same numeric expression staging selects so
        the planner can use it; customers are looked up by id and orders by customer (the
        customers an incremental build recomputes). Only missing indexes are created (one
        catalog query). -#}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set lookups = [
        ('orders', '_dlt_load_id'),
        ('orders', 'customer__id'),
        ('customers', '_dlt_load_id'),
        ('customers', 'id'),
        ('abandoned_checkouts', '_dlt_load_id'),
        ('orders__line_items', '_dlt_root_id'),
        ('orders__line_items__discount_allocations', '_dlt_parent_id'),
        ('orders__refunds__transactions', '_dlt_root_id'),
        ('abandoned_checkouts__line_items', '_dlt_root_id'),
        ('products__variants', '_dlt_root_id'),
    ] -%}
    {%- set names = {} -%}
    {%- for table, column in lookups -%}
        {%- do names.update({(table, column): 'xeno_' ~ table ~ '_' ~ column | trim('_')}) -%}
    {%- endfor -%}
    {%- set tables = lookups | map(attribute=0) | unique | list -%}
    {%- set catalog = raw_catalog(tables + names.values() | list) -%}
    {%- set statements = ['select 1'] -%}
    {%- for tenant in batch_tenants() -%}
        {%- set present = catalog.get(tenant.raw_schema, {}) -%}
        {%- for table, column in lookups -%}
            {%- set name = names[(table, column)] -%}
            {%- if column in present.get(table, []) and name not in present -%}
                {%- set key = adapter.quote(column) ~ ('::numeric' if column == '_dlt_load_id' else '') -%}
                {%- do statements.append(
                    'create index if not exists ' ~ adapter.quote(name) ~ ' on '
                    ~ adapter.quote(tenant.raw_schema) ~ '.' ~ adapter.quote(table) ~ ' ((' ~ key ~ '))') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
