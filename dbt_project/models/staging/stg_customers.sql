with raw as (
    {{ raw_select('customers', {
        'id': 'bigint',
        'email': 'text',
        'first_name': 'text',
        'last_name': 'text',
        'phone': 'text',
        'state': 'text',
        'tags': 'text',
        'currency': 'text',
        'verified_email': 'boolean',
        'created_at': 'timestamptz',
        'updated_at': 'timestamptz',
        'default_address__city': 'text',
        'default_address__province': 'text',
        'default_address__country': 'text',
        'default_address__country_code': 'text',
        'email_marketing_consent__state': 'text',
        '_dlt_load_id': 'numeric',
        '_dlt_id': 'text',
    }) }}
)

select
    tenant_id,
    id as customer_id,
    email,
    first_name,
    last_name,
    phone,
    state,
    tags,
    currency,
    verified_email,
    created_at,
    updated_at,
    default_address__city as city,
    default_address__province as province,
    default_address__country as country,
    default_address__country_code as country_code,
    email_marketing_consent__state = 'subscribed' as accepts_email_marketing,
    _xeno_deleted_at is not null as is_deleted,
    _dlt_load_id
from raw
