{{ config(
    meta={'slice_key': 'checkout_id', 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'checkout_id'], 'unique': true},
        {'columns': ['tenant_id', 'created_date']},
        {'columns': ['tenant_id', 'created_at']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Checkouts from the abandoned-checkouts list, recovered or not, with the cart as JSON.
select
    tenant_id,
    checkout_id,
    token,
    created_at,
    created_date,
    created_at as abandoned_at,
    updated_at,
    completed_at,
    is_abandoned,
    is_recovered,
    email,
    customer_id,
    customer_email,
    customer_first_name,
    customer_last_name,
    cart,
    line_count,
    item_quantity,
    currency,
    subtotal_price,
    total_discounts,
    total_tax,
    total_price,
    abandoned_checkout_url,
    _dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column('is_deleted') }}
from {{ ref('int_checkouts') }}
where {{ changed_since_watermark('_dlt_load_id') }}
    and {{ unless_tombstone('is_deleted') }}
