{{ config(
    indexes=[
        {'columns': ['tenant_id', 'date'], 'unique': true},
    ],
) }}

-- One row per tenant per day from the shop's first order through today (shop time), zeros
-- on days without counted orders. Recomputed whole per tenant: one grouped pass over the
-- tenant's orders fact, a few hundred output rows; the date range comes from the
-- (tenant_id, order_date) index.
with days as (
    select batch.tenant_id, day::date as date
    from {{ batch_rows() }}
    cross join
        lateral (
            select min(order_date) as first_date, max(order_date) as last_date
            from {{ ref('fct_orders') }} as orders
            where orders.tenant_id = batch.tenant_id
        ) as bounds
    left join {{ ref('stg_shop') }} as shop on shop.tenant_id = batch.tenant_id
    cross join lateral generate_series(
        bounds.first_date,
        greatest(
            bounds.last_date, (now() at time zone coalesce(shop.iana_timezone, 'UTC'))::date
        ),
        interval '1 day'
    ) as day
),

daily as (
    select
        tenant_id,
        order_date as date,
        count(*) as order_count,
        count(*) filter (where is_guest) as guest_order_count,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(shipping) as shipping,
        sum(tax) as tax,
        sum(total_revenue) as total_revenue,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_orders') }}
    where {{ in_batch() }} and is_counted
    group by tenant_id, order_date
),

customers as (
    -- agg_customer_revenue_daily has one row per customer and day with a counted order: the
    -- day's distinct customers without sorting every order by customer.
    select tenant_id, order_date as date, count(*) as customer_count
    from {{ ref('agg_customer_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id, order_date
),

new_customers as (
    select tenant_id, first_order_date as date, count(*) as new_customer_count
    from {{ ref('dim_customers') }}
    where {{ in_batch() }} and first_order_date is not null
    group by tenant_id, first_order_date
)

select
    days.tenant_id,
    days.date,
    coalesce(daily.order_count, 0) as order_count,
    coalesce(daily.guest_order_count, 0) as guest_order_count,
    coalesce(customers.customer_count, 0) as customer_count,
    coalesce(new_customers.new_customer_count, 0) as new_customer_count,
    coalesce(daily.gross_sales, 0) as gross_sales,
    coalesce(daily.discounts, 0) as discounts,
    coalesce(daily.shipping, 0) as shipping,
    coalesce(daily.tax, 0) as tax,
    coalesce(daily.total_revenue, 0) as total_revenue,
    coalesce(daily.refunds, 0) as refunds,
    coalesce(daily.net_revenue, 0) as net_revenue,
    daily.total_revenue / nullif(daily.order_count, 0) as average_order_value,
    {{ build_id() }} as _xeno_build_id
from days
left join daily on daily.tenant_id = days.tenant_id and daily.date = days.date
left join customers on customers.tenant_id = days.tenant_id and customers.date = days.date
left join new_customers
    on new_customers.tenant_id = days.tenant_id and new_customers.date = days.date
