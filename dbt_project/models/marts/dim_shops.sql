{{ config(
    indexes=[
        {'columns': ['tenant_id'], 'unique': true},
    ],
) }}

-- One row per tenant: the store's name, currency and time zone, which the API and the
-- dashboard page need to show amounts and dates as the store does (the API reads marts
-- only). A tenant whose shop record is missing still gets its row (time zone UTC).
select
    batch.tenant_id,
    shop.shop_id,
    shop.shop_name,
    shop.shop_domain,
    shop.currency,
    coalesce(shop.iana_timezone, 'UTC') as iana_timezone,
    {{ build_id() }} as _xeno_build_id
from {{ batch_rows() }}
left join lateral (
    select *
    from {{ ref('stg_shop') }} as shop
    where shop.tenant_id = batch.tenant_id
    order by shop._dlt_load_id desc nulls last
    limit 1
) as shop on true
