-- Daily revenue sums to the orders fact: per tenant, Σ over days equals Σ over counted
-- orders for every figure (fails with the differing totals).
with days as (
    select
        coalesce(sum(order_count), 0) as order_count,
        coalesce(sum(gross_sales), 0) as gross_sales,
        coalesce(sum(discounts), 0) as discounts,
        coalesce(sum(total_revenue), 0) as total_revenue,
        coalesce(sum(refunds), 0) as refunds,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('revenue_daily') }}
    where tenant_id = {{ tenant_id() }}
),

orders as (
    select
        count(*) as order_count,
        coalesce(sum(gross_sales), 0) as gross_sales,
        coalesce(sum(discounts), 0) as discounts,
        coalesce(sum(total_revenue), 0) as total_revenue,
        coalesce(sum(refunds), 0) as refunds,
        coalesce(sum(net_revenue), 0) as net_revenue
    from {{ ref('fct_orders') }}
    where tenant_id = {{ tenant_id() }} and is_counted
)

select * from days
except
select * from orders
