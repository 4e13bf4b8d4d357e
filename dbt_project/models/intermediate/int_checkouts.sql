-- One row per checkout with its cart as JSON (the API's `data.cart`) and the buyer.
select
    checkouts.tenant_id,
    checkouts.checkout_id,
    checkouts.checkout_dlt_id,
    checkouts.token,
    checkouts.email,
    checkouts.customer_id,
    checkouts.customer_email,
    checkouts.customer_first_name,
    checkouts.customer_last_name,
    checkouts.created_at,
    checkouts.created_date,
    checkouts.updated_at,
    checkouts.completed_at,
    checkouts.completed_at is null as is_abandoned,
    checkouts.completed_at is not null as is_recovered,
    checkouts.currency,
    checkouts.subtotal_price,
    checkouts.total_discounts,
    checkouts.total_tax,
    checkouts.total_price,
    checkouts.abandoned_checkout_url,
    coalesce(cart.line_count, 0) as line_count,
    coalesce(cart.item_quantity, 0) as item_quantity,
    coalesce(cart.items, '[]'::jsonb) as cart,
    checkouts.is_deleted,
    checkouts._dlt_load_id
from {{ ref('stg_checkouts') }} as checkouts
{{ join_children(
    'cart', 'checkouts', ref('stg_checkout_lines'), 'checkout_dlt_id', 'checkout_dlt_id',
    "count(*) as line_count,
    sum(child.quantity) as item_quantity,
    jsonb_agg(
        jsonb_build_object(
            'title', child.title,
            'variant_title', child.variant_title,
            'quantity', child.quantity,
            'price', child.price,
            'product_id', child.product_id,
            'variant_id', child.variant_id
        )
        order by child.line_position
    ) as items",
    whole=whole_tenants('fct_abandoned_checkouts'),
) }}
