{% macro local_date(timestamp, timezone) -%}
    {#- Calendar date of a timestamptz in the shop's IANA time zone (a column of stg_shop,
        joined on the tenant: each tenant of a batch has its own). -#}
    ({{ timestamp }} at time zone coalesce({{ timezone }}, 'UTC'))::date
{%- endmacro %}
