-- One row per order line with its share of the order's discounts and its net amount.
-- The discount sum is a correlated lookup (indexed by parent id) rather than a join to an
-- aggregate, so a build touching a few orders reads only their allocations.
with lines as (
    select
        lines.*,
        coalesce((
            select sum(allocation.amount)
            from {{ ref('stg_order_line_discount_allocations') }} as allocation
            where allocation.tenant_id = lines.tenant_id
              and allocation.order_line_dlt_id = lines.order_line_dlt_id
        ), 0) as discount_amount
    from {{ ref('stg_order_lines') }} as lines
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
