{{ config(
    indexes=[
        {'columns': ['tenant_id', 'rank'], 'unique': true},
        {'columns': ['tenant_id', 'customer_id'], 'unique': true},
    ],
) }}

-- Each tenant's best customers of all time: rank by lifetime spend, ties by customer id.
-- Read per tenant through dim_customers' (tenant_id, lifetime_spend, customer_id) index,
-- which yields the top rows without sorting every customer of the tenant.
select
    batch.tenant_id,
    row_number() over (
        partition by batch.tenant_id order by best.lifetime_spend desc, best.customer_id asc
    ) as rank,
    best.customer_id,
    best.email,
    best.first_name,
    best.last_name,
    best.orders_count,
    best.total_revenue,
    best.refunds,
    best.lifetime_spend,
    best.first_order_date,
    best.last_order_date,
    {{ build_id() }} as _xeno_build_id
from {{ batch_rows() }}
cross join lateral (
    select *
    from {{ ref('dim_customers') }} as customers
    where customers.tenant_id = batch.tenant_id
        and customers.orders_count > 0
    order by customers.lifetime_spend desc, customers.customer_id asc
    limit {{ var('top_customers_limit') | int }}
) as best
