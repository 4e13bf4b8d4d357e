-- Customer figures sum to the orders fact: per customer, lifetime spend and order count
-- in dim_customers equal the sums of customer_revenue_daily and of counted orders.
with orders as (
    select customer_id, count(*) as orders_count, sum(net_revenue) as spend
    from {{ ref('fct_orders') }}
    where tenant_id = {{ tenant_id() }} and is_counted and customer_id is not null
    group by customer_id
),

daily as (
    select customer_id, sum(order_count) as orders_count, sum(net_revenue) as spend
    from {{ ref('customer_revenue_daily') }}
    where tenant_id = {{ tenant_id() }}
    group by customer_id
),

customers as (
    select customer_id, orders_count, lifetime_spend as spend
    from {{ ref('dim_customers') }}
    where tenant_id = {{ tenant_id() }} and orders_count > 0
)

select 'daily' as source, * from (select * from orders except select * from daily) as d
union all
select 'daily', * from (select * from daily except select * from orders) as d
union all
select 'dim_customers', * from (select * from orders except select * from customers) as c
union all
select 'dim_customers', * from (select * from customers except select * from orders) as c
