{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Marts are one shared schema (the profile's, `marts`); every other layer gets a
        per-tenant schema next to the raw one (`shopify_<hex>_staging`), so concurrent
        tenant builds never replace each other's views. -#}
    {%- if custom_schema_name is none or custom_schema_name == 'marts' -%}
        {{ target.schema }}
    {%- else -%}
        {{ var('raw_schema') }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
