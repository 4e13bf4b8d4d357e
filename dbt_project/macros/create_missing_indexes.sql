{% macro create_missing_indexes(relation) -%}
    {#- post-hook: the model's declared `indexes` that the shared table lacks (dbt creates
        them only with the table, so an index added to a model would never reach an
        existing database). Matched by column list; one catalog query per build, and a
        missing index is built once (it holds writes to the mart while it builds). -#}
    {%- set declared = config.get('indexes') or [] -%}
    {%- if not execute or not declared -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set found = run_query(
        "select string_agg(attribute.attname, ',' order by key.position) from pg_index as idx"
        ~ " cross join lateral unnest(idx.indkey) with ordinality as key(attnum, position)"
        ~ " join pg_attribute as attribute on attribute.attrelid = idx.indrelid"
        ~ " and attribute.attnum = key.attnum"
        ~ " where idx.indrelid = '" ~ relation ~ "'::regclass group by idx.indexrelid") -%}
    {%- set present = found.columns[0].values() if found else [] -%}
    {%- set statements = ['select 1'] -%}
    {%- for index in declared if index['columns'] | join(',') not in present -%}
        {%- set name = 'xeno_' ~ relation.identifier ~ '_'
                       ~ local_md5(index['columns'] | join(','))[:12] -%}
        {%- do statements.append(
            'create ' ~ ('unique ' if index.get('unique') else '') ~ 'index if not exists '
            ~ adapter.quote(name) ~ ' on ' ~ relation ~ ' (' ~ index['columns'] | join(', ')
            ~ ')') -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{%- endmacro %}
