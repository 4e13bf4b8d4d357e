with raw as (
    {{ raw_select('shop', {
        'id': 'bigint',
        'name': 'text',
        'domain': 'text',
        'myshopify_domain': 'text',
        'currency': 'text',
        'iana_timezone': 'text',
        '_dlt_load_id': 'numeric',
    }) }}
)

select
    tenant_id,
    id as shop_id,
    name as shop_name,
    coalesce(myshopify_domain, domain) as shop_domain,
    currency,
    coalesce(nullif(iana_timezone, ''), 'UTC') as iana_timezone,
    _dlt_load_id
from raw
where _xeno_deleted_at is null
