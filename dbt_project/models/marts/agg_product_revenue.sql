{{ config(
    indexes=[
        {'columns': ['tenant_id', 'product_key'], 'unique': true},
        {'columns': ['tenant_id', 'revenue']},
    ],
) }}

-- All-time product revenue (docs/metrics.md), summed from the per-day grain.
with totals as (
    select
        tenant_id,
        product_key,
        sum(order_count) as order_count,
        sum(quantity) as quantity,
        sum(gross_sales) as gross_sales,
        sum(discounts) as discounts,
        sum(revenue) as revenue,
        min(order_date) as first_sold_date,
        max(order_date) as last_sold_date
    from {{ ref('agg_product_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id, product_key
)

select
    totals.tenant_id,
    totals.product_key,
    products.product_id,
    products.title as product_title,
    products.is_custom,
    totals.order_count,
    totals.quantity,
    totals.gross_sales,
    totals.discounts,
    totals.revenue,
    row_number() over (
        partition by totals.tenant_id order by totals.revenue desc, totals.product_key asc
    ) as revenue_rank,
    totals.first_sold_date,
    totals.last_sold_date,
    {{ build_id() }} as _xeno_build_id
from totals
left join {{ ref('dim_products') }} as products
    on products.tenant_id = totals.tenant_id
    and products.product_key = totals.product_key
