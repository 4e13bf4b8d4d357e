{#- Marts of per-key totals over a fact (a customer-day, a product-day, a customer's
    lifetime), rebuilt incrementally in three steps: the keys that changed since the
    tenant's watermark (an `affected` CTE of (tenant_id, keys…) the model defines), their
    totals recomputed from the fact, already updated in this build, and a tombstone for
    each key left with nothing to count, so the slice strategy deletes its old row. A
    whole-tenant build (first build, full refresh) groups the fact directly: every key.
-#}

{% macro affected_fact_rows(fact, keys, whole, where=none) -%}
    {#- The rows of `fact` whose (tenant_id, keys…) is in the model's `affected` CTE, or
        in a whole-tenant build every row of the batch; `where` narrows either. -#}
    select fact.*
    from {{ fact }} as fact
    {%- if not whole %}
    inner join affected
        on affected.tenant_id = fact.tenant_id
        {%- for key in keys %}
        and affected.{{ key }} = fact.{{ key }}
        {%- endfor %}
    {%- endif %}
    where {{ in_batch('fact.tenant_id') }}
    {%- if where %}
      and {{ where }}
    {%- endif %}
{%- endmacro %}


{% macro recompute_changed_keys(fact, keys, changed, measures, count_measure, whole, where=none) -%}
    {#- A whole model: one row per (tenant_id, keys…) with each of `measures` ({name: an
        aggregate over the fact's rows}) and the newest `_dlt_load_id`. `changed` selects
        the affected keys of an incremental build (unused in a whole-tenant one). A key
        whose `count_measure` is zero is a tombstone (meta.tombstones on the model). -#}
    {%- set tombstone = 'coalesce(totals.' ~ count_measure ~ ', 0) = 0' -%}
with
{%- if not whole %}
affected as (
    {{ changed }}
),
{%- endif %}

totals as (
    select
        tenant_id,
        {{ keys | join(', ') }},
        {%- for name, aggregate in measures.items() %}
        {{ aggregate }} as {{ name }},
        {%- endfor %}
        max(_dlt_load_id) as _dlt_load_id
    from ({{ affected_fact_rows(fact, keys, whole, where) }}) as fact_rows
    group by tenant_id, {{ keys | join(', ') }}
)
{%- if whole %},

affected as (
    select tenant_id, {{ keys | join(', ') }} from totals
)
{%- endif %}

select
    affected.tenant_id,
    {%- for key in keys %}
    affected.{{ key }},
    {%- endfor %}
    {%- for name in measures %}
    coalesce(totals.{{ name }}, 0) as {{ name }},
    {%- endfor %}
    totals._dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column(tombstone) }}
from affected
left join totals
    on totals.tenant_id = affected.tenant_id
    {%- for key in keys %}
    and totals.{{ key }} = affected.{{ key }}
    {%- endfor %}
where {{ unless_tombstone(tombstone) }}
{%- endmacro %}
