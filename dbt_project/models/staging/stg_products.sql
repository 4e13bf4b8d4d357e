with raw as (
    {{ raw_select('products', {
        'id': 'bigint',
        'title': 'text',
        'handle': 'text',
        'vendor': 'text',
        'product_type': 'text',
        'status': 'text',
        'tags': 'text',
        'created_at': 'timestamptz',
        'updated_at': 'timestamptz',
        'published_at': 'timestamptz',
        '_dlt_load_id': 'numeric',
        '_dlt_id': 'text',
    }) }}
)

select
    tenant_id,
    id as product_id,
    _dlt_id as product_dlt_id,
    title,
    handle,
    vendor,
    product_type,
    status,
    tags,
    created_at,
    updated_at,
    published_at,
    _xeno_deleted_at is not null as is_deleted,
    _dlt_load_id
from raw
