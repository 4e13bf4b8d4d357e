with raw as (
    {{ raw_select('abandoned_checkouts', {
        'id': 'bigint',
        'token': 'text',
        'cart_token': 'text',
        'email': 'text',
        'created_at': 'timestamptz',
        'updated_at': 'timestamptz',
        'completed_at': 'timestamptz',
        'closed_at': 'timestamptz',
        'currency': 'text',
        'subtotal_price': 'numeric',
        'total_discounts': 'numeric',
        'total_tax': 'numeric',
        'total_price': 'numeric',
        'abandoned_checkout_url': 'text',
        'customer__id': 'bigint',
        'customer__email': 'text',
        'customer__first_name': 'text',
        'customer__last_name': 'text',
        '_dlt_load_id': 'numeric',
        '_dlt_id': 'text',
    }) }}
)

select
    raw.tenant_id,
    id as checkout_id,
    _dlt_id as checkout_dlt_id,
    token,
    cart_token,
    email,
    customer__id as customer_id,
    customer__email as customer_email,
    customer__first_name as customer_first_name,
    customer__last_name as customer_last_name,
    created_at,
    {{ local_date('raw.created_at', 'shop.iana_timezone') }} as created_date,
    updated_at,
    completed_at,
    closed_at,
    currency,
    coalesce(subtotal_price, 0) as subtotal_price,
    coalesce(total_discounts, 0) as total_discounts,
    coalesce(total_tax, 0) as total_tax,
    coalesce(total_price, 0) as total_price,
    abandoned_checkout_url,
    _xeno_deleted_at is not null as is_deleted,
    _dlt_load_id
from raw
-- Each tenant's local dates in its own shop's time zone.
left join (select tenant_id, iana_timezone from {{ ref('stg_shop') }}) as shop
    on shop.tenant_id = raw.tenant_id
