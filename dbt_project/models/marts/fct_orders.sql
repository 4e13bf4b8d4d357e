{{ config(
    meta={'slice_key': 'order_id', 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'order_id'], 'unique': true},
        {'columns': ['tenant_id', 'order_date']},
        {'columns': ['tenant_id', 'customer_id']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Orders loaded since their tenant's watermark replace their previous version.
select
    tenant_id,
    order_id,
    order_name,
    order_number,
    customer_id,
    is_guest,
    email,
    created_at,
    order_date,
    updated_at,
    processed_at,
    cancelled_at,
    cancel_reason,
    closed_at,
    financial_status,
    fulfillment_status,
    currency,
    is_test,
    is_cancelled,
    is_counted,
    line_count,
    item_quantity,
    gross_sales,
    discounts,
    subtotal_price,
    shipping,
    tax,
    total_revenue,
    refunds,
    net_revenue,
    _dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column('is_deleted') }}
from {{ ref('int_orders') }}
where {{ changed_since_watermark('_dlt_load_id') }}
    and {{ unless_tombstone('is_deleted') }}
