-- Customer figures sum to the orders fact: per tenant and customer, lifetime spend and order
-- count in dim_customers equal the sums of agg_customer_revenue_daily and of counted orders.
-- Checked for the customers this build rewrote (all of them in a whole-tenant build).
with touched as (
    select tenant_id, customer_id from {{ ref('dim_customers') }}
    where {{ in_batch() }} and _xeno_build_id = {{ build_id() }}
    union
    select tenant_id, customer_id from {{ ref('agg_customer_revenue_daily') }}
    where {{ in_batch() }} and _xeno_build_id = {{ build_id() }}
),

orders as (
    select orders.tenant_id, orders.customer_id, count(*) as orders_count,
        sum(orders.net_revenue) as spend
    from {{ ref('fct_orders') }} as orders
    inner join touched
        on touched.tenant_id = orders.tenant_id and touched.customer_id = orders.customer_id
    where orders.is_counted
    group by orders.tenant_id, orders.customer_id
),

daily as (
    select daily.tenant_id, daily.customer_id, sum(daily.order_count) as orders_count,
        sum(daily.net_revenue) as spend
    from {{ ref('agg_customer_revenue_daily') }} as daily
    inner join touched
        on touched.tenant_id = daily.tenant_id and touched.customer_id = daily.customer_id
    group by daily.tenant_id, daily.customer_id
),

customers as (
    select customers.tenant_id, customers.customer_id, customers.orders_count,
        customers.lifetime_spend as spend
    from {{ ref('dim_customers') }} as customers
    inner join touched
        on touched.tenant_id = customers.tenant_id
        and touched.customer_id = customers.customer_id
    where customers.orders_count > 0
)

select 'daily' as source, * from (select * from orders except select * from daily) as d
union all
select 'daily', * from (select * from daily except select * from orders) as d
union all
select 'dim_customers', * from (select * from orders except select * from customers) as c
union all
select 'dim_customers', * from (select * from customers except select * from orders) as c
