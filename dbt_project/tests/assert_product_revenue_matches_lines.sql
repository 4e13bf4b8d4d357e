-- Product revenue sums to the order lines. Every product-day this build wrote, or whose
-- lines it wrote, equals the lines of counted orders of that product and day (a few
-- product-days in a rebuild, through the lines' (tenant_id, product_key, order_date)
-- index; all of them in a whole-tenant build); and the all-time mart equals the sum of the
-- per-day mart for every product of the batch.
with checked as (
    select tenant_id, product_key, order_date
    from {{ ref('agg_product_revenue_daily') }}
    where {{ in_batch() }} and _xeno_build_id = {{ build_id() }}
    union
    select tenant_id, product_key, order_date
    from {{ ref('fct_order_lines') }}
    where {{ in_batch() }} and _xeno_build_id = {{ build_id() }} and is_counted
),

lines as (
    select line.tenant_id, line.product_key, line.order_date, sum(line.quantity) as quantity,
        sum(line.net_amount) as revenue
    from checked
    inner join {{ ref('fct_order_lines') }} as line
        on line.tenant_id = checked.tenant_id
        and line.product_key = checked.product_key
        and line.order_date = checked.order_date
    where {{ in_batch('line.tenant_id') }} and line.is_counted
    group by line.tenant_id, line.product_key, line.order_date
),

daily as (
    select daily.tenant_id, daily.product_key, daily.order_date, daily.quantity,
        daily.revenue
    from {{ ref('agg_product_revenue_daily') }} as daily
    inner join checked
        on checked.tenant_id = daily.tenant_id
        and checked.product_key = daily.product_key
        and checked.order_date = daily.order_date
),

daily_totals as (
    select tenant_id, product_key, sum(quantity) as quantity, sum(revenue) as revenue
    from {{ ref('agg_product_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id, product_key
),

all_time as (
    select tenant_id, product_key, quantity, revenue
    from {{ ref('agg_product_revenue') }}
    where {{ in_batch() }}
),

compared as (
    select 'daily' as mart, tenant_id, product_key, order_date, quantity, revenue
    from (select * from lines except select * from daily) as d
    union all
    select 'daily', tenant_id, product_key, order_date, quantity, revenue
    from (select * from daily except select * from lines) as d
    union all
    select 'all_time', tenant_id, product_key, null, quantity, revenue
    from (select * from daily_totals except select * from all_time) as a
    union all
    select 'all_time', tenant_id, product_key, null, quantity, revenue
    from (select * from all_time except select * from daily_totals) as a
)

select * from compared
