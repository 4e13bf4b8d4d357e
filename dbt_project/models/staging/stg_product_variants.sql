with raw as (
    {{ raw_select('products__variants', {
        'id': 'bigint',
        'product_id': 'bigint',
        'title': 'text',
        'sku': 'text',
        'price': 'numeric',
        'position': 'bigint',
        'inventory_quantity': 'bigint',
        '_dlt_root_id': 'text',
        '_dlt_id': 'text',
    }) }}
)

select
    tenant_id,
    id as variant_id,
    _dlt_root_id as product_dlt_id,
    product_id,
    title,
    sku,
    price,
    position,
    inventory_quantity
from raw
