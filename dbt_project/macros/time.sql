{% macro shop_timezone() -%}
    {#- The shop's IANA zone (one scalar, evaluated once per query); UTC until the shop
        record has been loaded. -#}
    coalesce((select iana_timezone from {{ ref('stg_shop') }} limit 1), 'UTC')
{%- endmacro %}


{% macro local_date(timestamp) -%}
    {#- Calendar date of a timestamptz in the shop's time zone. -#}
    ({{ timestamp }} at time zone {{ shop_timezone() }})::date
{%- endmacro %}
