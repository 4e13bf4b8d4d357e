-- Daily revenue sums to the orders fact: per tenant of the batch, Σ over days equals Σ
-- over counted orders for every figure (fails with the differing totals).
with days as (
    select
        tenant_id,
        sum(order_count) as order_count,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(total_revenue) as total_revenue,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue
    from {{ ref('agg_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id
    having sum(order_count) > 0  -- without counted orders a tenant has only zero days
),

orders as (
    select
        tenant_id,
        count(*) as order_count,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(total_revenue) as total_revenue,
        sum(refunds) as refunds,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_orders') }}
    where {{ in_batch() }} and is_counted
    group by tenant_id
)

select 'agg_revenue_daily' as source, * from (select * from days except select * from orders) as d
union all
select 'fct_orders', * from (select * from orders except select * from days) as o
