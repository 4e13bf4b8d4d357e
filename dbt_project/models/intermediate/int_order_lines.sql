-- One row per order line with its share of the order's discounts and its net amount.
-- The discount sum joins the line's allocations (macros/lookups.sql: set-based for whole
-- tenants; per line through the raw parent-id index when a build touches a few orders).
with lines as (
    select
        lines.*,
        coalesce(allocations.discount_amount, 0) as discount_amount
    from {{ ref('stg_order_lines') }} as lines
    {{ join_children(
        'allocations', 'lines', ref('stg_order_line_discount_allocations'),
        'order_line_dlt_id', 'order_line_dlt_id', 'sum(child.amount) as discount_amount',
        whole=whole_tenants('fct_orders'),
    ) }}
)

select
    tenant_id,
    order_dlt_id,
    order_line_id,
    order_line_dlt_id,
    line_position,
    product_id,
    coalesce(product_id, 0) as product_key,
    product_id is null as is_custom_item,
    variant_id,
    title,
    variant_title,
    sku,
    vendor,
    is_gift_card,
    price,
    quantity,
    gross_amount,
    discount_amount,
    gross_amount - discount_amount as net_amount
from lines
