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
