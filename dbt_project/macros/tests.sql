{% test unique_combination(model, columns) -%}
    {#- No two rows share the same values of `columns` (multi-column uniqueness). -#}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{%- endtest %}


{% test non_negative(model, column_name) -%}
    select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{%- endtest %}


{% test tenant_relationships(model, column_name, to, field) -%}
    {#- Every non-null `column_name` exists as `field` of `to` for the same tenant (Shopify
        ids are unique per shop only). The parent is read for the batch's tenants only. -#}
    with child as (select * from {{ model }})

    select child.tenant_id, child.{{ column_name }}
    from child
    where child.{{ column_name }} is not null
      and not exists (
          select 1 from {{ to }} as parent
          where {{ in_batch('parent.tenant_id') }}
            and parent.tenant_id = child.tenant_id
            and parent.{{ field }} = child.{{ column_name }}
      )
{%- endtest %}


{% test not_null_columns(model, columns) -%}
    {#- None of `columns` is null: one scan for all of a mart's required columns (a test per
        column costs a dbt node each, most of a small rebuild's time). A failure names
        each column that has nulls and how many. -#}
    select unpivoted.column_name, unpivoted.nulls
    from (
        select
        {%- for column in columns %}
            count(*) filter (where {{ column }} is null) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ model }}
    ) as counts
    cross join lateral (values
    {%- for column in columns %}
        ('{{ column }}', counts.{{ column }}){{ ',' if not loop.last }}
    {%- endfor %}
    ) as unpivoted (column_name, nulls)
    where unpivoted.nulls > 0
{%- endtest %}
