{% test unique_combination(model, columns) -%}
    {#- No two rows share the same values of `columns` (multi-column uniqueness). -#}
    select {{ columns | join(', ') }}, count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{%- endtest %}
