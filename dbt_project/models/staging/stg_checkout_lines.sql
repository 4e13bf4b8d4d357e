with raw as (
    {{ raw_select('abandoned_checkouts__line_items', {
        'key': 'text',
        'product_id': 'bigint',
        'variant_id': 'bigint',
        'title': 'text',
        'variant_title': 'text',
        'sku': 'text',
        'price': 'numeric',
        'quantity': 'bigint',
        'line_price': 'numeric',
        '_dlt_root_id': 'text',
        '_dlt_id': 'text',
        '_dlt_list_idx': 'bigint',
    }) }}
)

select
    tenant_id,
    _dlt_id as checkout_line_dlt_id,
    _dlt_root_id as checkout_dlt_id,
    _dlt_list_idx as line_position,
    key as line_key,
    product_id,
    variant_id,
    title,
    variant_title,
    sku,
    coalesce(price, 0) as price,
    coalesce(quantity, 0) as quantity,
    coalesce(line_price, coalesce(price, 0) * coalesce(quantity, 0)) as line_price
from raw
