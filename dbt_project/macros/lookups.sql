{#- Child rows (lines, refunds, allocations, cart lines) of parent rows (orders, lines,
    checkouts), written once, planned two ways: a build that processes its tenants whole
    (first builds, full refresh) joins set-based (hash joins over grouped children); an
    incremental build looks the children of its few changed parents up one parent at a
    time through the raw indexes (lateral, fenced by `offset 0` so the planner cannot turn
    it back into a join over every child row).
-#}

{% macro whole_tenants(mart) -%}
    {#- True when the build processes its tenants whole: a full refresh, or none of the
        batch's tenants has rows in `mart` yet. Read before `mart` is built (no ref: the
        lookups feed the mart). -#}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if full_refresh_requested() -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set relation = mart_relation(mart) -%}
    {%- if relation is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set found = run_query(
        'select exists (select from ' ~ relation ~ ' where ' ~ in_batch() ~ ')') -%}
    {{ return(not found.columns[0].values()[0]) }}
{%- endmacro %}


{% macro join_children(alias, parent, relation, key, parent_key, columns, whole, join='left', grouped=true) -%}
    {#- `<join> join <children of parent> as <alias>`: the `columns` (aggregates over
        `child` when grouped) of the rows of `relation` whose (tenant_id, key) is the
        parent's (tenant_id, parent_key). Grouped children without rows give nulls.
        `whole`: whole_tenants() of the mart the join feeds (the caller reads it once). -#}
    {%- if whole %}
{{ join }} join (
    select child.tenant_id as _xeno_tenant_id, child.{{ key }} as _xeno_parent_key, {{ columns }}
    from {{ relation }} as child
    {%- if grouped %}
    group by child.tenant_id, child.{{ key }}
    {%- endif %}
) as {{ alias }}
    on {{ alias }}._xeno_tenant_id = {{ parent }}.tenant_id
    and {{ alias }}._xeno_parent_key = {{ parent }}.{{ parent_key }}
    {%- else %}
{{ join }} join lateral (
    select {{ columns }}
    from {{ relation }} as child
    where child.tenant_id = {{ parent }}.tenant_id
      and child.{{ key }} = {{ parent }}.{{ parent_key }}
    offset 0
) as {{ alias }} on true
    {%- endif %}
{%- endmacro %}
