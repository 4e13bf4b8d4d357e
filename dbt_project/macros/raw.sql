{% macro raw_relation(table_name) -%}
    {#- The tenant's raw table, or none when the store never produced it (dlt only creates
        a table once it has rows). `source()` keeps the lineage either way. -#}
    {%- set declared = source('shopify', table_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=declared.database, schema=declared.schema, identifier=declared.identifier)) }}
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
    {#- `select <each column cast to its type> from <raw table>`, keeping raw names.
        Missing table: an empty relation of the same shape. Extra raw columns: ignored.
        Every raw table may carry `_xeno_deleted_at` (webhook deletions); it is always
        selected so staging can flag deleted rows. -#}
    {%- set relation = raw_relation(table_name) -%}
    {%- set present = [] -%}
    {%- if relation is not none -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do present.append(column.name) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set wanted = {} -%}
    {%- do wanted.update(columns) -%}
    {%- do wanted.update({'_xeno_deleted_at': 'timestamptz'}) -%}
    select
    {%- for name, type in wanted.items() %}
        {{ column_or_null(present, name, type) }} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    from
    {%- if relation is not none %} {{ relation }}
    {%- else %} (select) as no_raw_table where false
    {%- endif %}
{%- endmacro %}


{% macro index_raw_tables() -%}
    {#- on-run-start: index what staging joins and filters on (dlt creates no indexes).
        Child tables are looked up by root or parent id; root tables are filtered by load
        id, with the same numeric expression staging selects so the planner can use it. -#}
    {%- if not execute -%}{{ return('select 1') }}{%- endif -%}
    {%- set lookups = {
        'orders': '_dlt_load_id',
        'customers': '_dlt_load_id',
        'abandoned_checkouts': '_dlt_load_id',
        'orders__line_items': '_dlt_root_id',
        'orders__line_items__discount_allocations': '_dlt_parent_id',
        'orders__refunds__transactions': '_dlt_root_id',
        'abandoned_checkouts__line_items': '_dlt_root_id',
        'products__variants': '_dlt_root_id',
    } -%}
    {%- set statements = ['select 1'] -%}
    {%- for table, column in lookups.items() -%}
        {%- set relation = raw_relation(table) -%}
        {%- if relation is not none -%}
            {%- set key = adapter.quote(column) ~ ('::numeric' if column == '_dlt_load_id' else '') -%}
            {%- do statements.append(
                'create index if not exists ' ~ adapter.quote('xeno_' ~ table ~ '_' ~ column | trim('_'))
                ~ ' on ' ~ relation ~ ' ((' ~ key ~ '))') -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
