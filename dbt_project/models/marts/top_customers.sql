{{ config(
    indexes=[
        {'columns': ['tenant_id', 'rank'], 'unique': true},
        {'columns': ['tenant_id', 'customer_id'], 'unique': true},
    ],
) }}

-- Each tenant's best customers of all time: rank by lifetime spend, ties by customer id.
select *
from (
    select
        tenant_id,
        row_number() over (
            partition by tenant_id order by lifetime_spend desc, customer_id
        ) as rank,
        customer_id,
        email,
        first_name,
        last_name,
        orders_count,
        total_revenue,
        refunds,
        lifetime_spend,
        first_order_date,
        last_order_date,
        {{ build_id() }} as _xeno_build_id
    from {{ ref('dim_customers') }}
    where {{ in_batch() }}
      and orders_count > 0
) as ranked
where rank <= {{ var('top_customers_limit') | int }}
