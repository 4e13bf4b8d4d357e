{% test non_negative(model, column_name) -%}
    {#- No row has a negative `column_name` (counts, amounts). -#}
    select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{%- endtest %}
