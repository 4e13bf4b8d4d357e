with raw as (
    {{ raw_select('orders__line_items', {
        'id': 'bigint',
        'product_id': 'bigint',
        'variant_id': 'bigint',
        'title': 'text',
        'variant_title': 'text',
        'name': 'text',
        'sku': 'text',
        'vendor': 'text',
        'price': 'numeric',
        'quantity': 'bigint',
        'gift_card': 'boolean',
        '_dlt_root_id': 'text',
        '_dlt_id': 'text',
        '_dlt_list_idx': 'bigint',
    }) }}
)

select
    tenant_id,
    id as order_line_id,
    _dlt_id as order_line_dlt_id,
    _dlt_root_id as order_dlt_id,
    _dlt_list_idx as line_position,
    product_id,
    variant_id,
    title,
    variant_title,
    name as line_name,
    sku,
    vendor,
    coalesce(gift_card, false) as is_gift_card,
    coalesce(price, 0) as price,
    coalesce(quantity, 0) as quantity,
    coalesce(price, 0) * coalesce(quantity, 0) as gross_amount
from raw
