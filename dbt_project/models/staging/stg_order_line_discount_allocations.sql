with raw as (
    {{ raw_select('orders__line_items__discount_allocations', {
        'amount': 'numeric',
        'discount_application_index': 'bigint',
        '_dlt_parent_id': 'text',
        '_dlt_root_id': 'text',
        '_dlt_id': 'text',
    }) }}
)

select
    tenant_id,
    _dlt_id as allocation_dlt_id,
    _dlt_parent_id as order_line_dlt_id,
    _dlt_root_id as order_dlt_id,
    discount_application_index,
    coalesce(amount, 0) as amount
from raw
