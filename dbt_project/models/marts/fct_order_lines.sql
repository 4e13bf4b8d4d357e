{{ config(
    meta={'slice_key': 'order_id', 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'order_id']},
        {'columns': ['tenant_id', 'product_key', 'order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- depends_on: {{ ref('stg_order_lines') }}
-- Lines of orders loaded since the watermark replace all lines of those orders. Lines of
-- a deleted order are tombstones; an order left without any line yields one tombstone row
-- (null line columns) so its old lines are deleted too (not needed when the build's
-- tenants have no lines in the mart yet). Lines are joined to the changed
-- orders (macros/lookups.sql: set-based for whole tenants, else per changed order through
-- the raw root-id index).
{%- set whole = whole_tenants('fct_order_lines') %}
{% set columns %}
    orders.tenant_id,
    lines.order_line_id,
    orders.order_id,
    lines.line_position,
    orders.created_at,
    orders.order_date,
    orders.is_counted,
    lines.product_id,
    lines.product_key,
    lines.is_custom_item,
    lines.variant_id,
    lines.title,
    lines.variant_title,
    lines.sku,
    lines.vendor,
    lines.is_gift_card,
    lines.price,
    lines.quantity,
    lines.gross_amount,
    lines.discount_amount,
    lines.net_amount,
    orders._dlt_load_id,
    {{ build_id() }} as _xeno_build_id
{% endset %}

with changed_orders as (
    select
        tenant_id,
        order_id,
        order_dlt_id,
        order_date,
        created_at,
        is_counted,
        is_deleted,
        _dlt_load_id
    from {{ ref('int_orders') }}
    where {{ changed_since_watermark('_dlt_load_id') }}
)

select {{ columns }} {{ tombstone_column('orders.is_deleted') }}
from changed_orders as orders
{{ join_children(
    'lines', 'orders', ref('int_order_lines'), 'order_dlt_id', 'order_dlt_id', 'child.*',
    whole=whole, join='inner', grouped=false,
) }}
where {{ unless_tombstone('orders.is_deleted') }}

{% if is_incremental() and not whole %}
union all

select {{ columns }} {{ tombstone_column('true') }}
from changed_orders as orders
left join {{ ref('int_order_lines') }} as lines on false
where
    not exists (
        -- per changed order through the raw root-id index (`offset 0` keeps this a subplan:
        -- as an anti join the planner hashes every line of the tenant)
        select 1 from {{ ref('stg_order_lines') }} as line
        where line.tenant_id = orders.tenant_id
            and line.order_dlt_id = orders.order_dlt_id
        offset 0
    )
{% endif %}
