-- Product revenue sums to the order lines: per product, the all-time mart, the per-day
-- mart and the lines of counted orders agree on quantity and revenue.
with lines as (
    select tenant_id, product_key, sum(quantity) as quantity, sum(net_amount) as revenue
    from {{ ref('fct_order_lines') }}
    where {{ in_batch() }} and is_counted
    group by tenant_id, product_key
),

daily as (
    select tenant_id, product_key, sum(quantity) as quantity, sum(revenue) as revenue
    from {{ ref('product_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id, product_key
),

all_time as (
    select tenant_id, product_key, quantity, revenue
    from {{ ref('product_revenue') }}
    where {{ in_batch() }}
),

compared as (
    select 'daily' as mart, * from (select * from lines except select * from daily) as d
    union all
    select 'daily', * from (select * from daily except select * from lines) as d
    union all
    select 'all_time', * from (select * from lines except select * from all_time) as a
    union all
    select 'all_time', * from (select * from all_time except select * from lines) as a
)

select * from compared
