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
