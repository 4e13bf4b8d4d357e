-- Customer figures sum to the orders fact: per customer, lifetime spend and order count
-- in dim_customers equal the sums of customer_revenue_daily and of counted orders.
with orders as (
    select tenant_id, customer_id, count(*) as orders_count, sum(net_revenue) as spend
    from {{ ref('fct_orders') }}
    where {{ in_batch() }} and is_counted and customer_id is not null
    group by tenant_id, customer_id
),

daily as (
    select tenant_id, customer_id, sum(order_count) as orders_count, sum(net_revenue) as spend
    from {{ ref('customer_revenue_daily') }}
    where {{ in_batch() }}
    group by tenant_id, customer_id
),

customers as (
    select tenant_id, customer_id, orders_count, lifetime_spend as spend
    from {{ ref('dim_customers') }}
    where {{ in_batch() }} and orders_count > 0
)

select 'daily' as source, * from (select * from orders except select * from daily) as d
union all
select 'daily', * from (select * from daily except select * from orders) as d
union all
select 'dim_customers', * from (select * from orders except select * from customers) as c
union all
select 'dim_customers', * from (select * from customers except select * from orders) as c
