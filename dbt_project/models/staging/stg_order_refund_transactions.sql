with raw as (
    {{ raw_select('orders__refunds__transactions', {
        'id': 'bigint',
        'order_id': 'bigint',
        'kind': 'text',
        'status': 'text',
        'amount': 'numeric',
        'gateway': 'text',
        'created_at': 'timestamptz',
        'processed_at': 'timestamptz',
        '_dlt_root_id': 'text',
        '_dlt_id': 'text',
    }) }}
)

select
    tenant_id,
    id as transaction_id,
    _dlt_id as transaction_dlt_id,
    _dlt_root_id as order_dlt_id,
    order_id,
    kind,
    status,
    gateway,
    coalesce(amount, 0) as amount,
    created_at,
    processed_at
from raw
