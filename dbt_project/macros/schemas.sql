{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Marts are one shared schema (the profile's, `marts`); every other layer gets a
        schema per batch (`shopify_<hex>_staging` for a single tenant, see
        batch_schema_prefix), so concurrent builds never replace each other's views. -#}
    {%- if custom_schema_name is none or custom_schema_name == 'marts' -%}
        {{ target.schema }}
    {%- else -%}
        {{ batch_schema_prefix() }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
