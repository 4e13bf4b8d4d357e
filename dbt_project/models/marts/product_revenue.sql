{{ config(
    indexes=[
        {'columns': ['tenant_id', 'product_key'], 'unique': true},
        {'columns': ['tenant_id', 'revenue']},
    ],
) }}

-- All-time product revenue (docs/metrics.md), summed from the per-day grain.
with totals as (
    select
        product_key,
        sum(order_count) as order_count,
        sum(quantity) as quantity,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(revenue) as revenue,
        min(order_date) as first_sold_date,
        max(order_date) as last_sold_date
    from {{ ref('product_revenue_daily') }}
    where tenant_id = {{ tenant_id() }}
    group by product_key
)

select
    {{ tenant_id() }} as tenant_id,
    totals.product_key,
    products.product_id,
    products.title as product_title,
    products.is_custom,
    totals.order_count,
    totals.quantity,
    totals.gross_sales,
    totals.discounts,
    totals.revenue,
    row_number() over (order by totals.revenue desc, totals.product_key) as revenue_rank,
    totals.first_sold_date,
    totals.last_sold_date
from totals
left join {{ ref('dim_products') }} as products
    on products.tenant_id = {{ tenant_id() }}
    and products.product_key = totals.product_key
