{{ config(
    meta={'slice_key': 'customer_id', 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'customer_id'], 'unique': true},
        {'columns': ['tenant_id', 'lifetime_spend', 'customer_id']},
        {'columns': ['tenant_id', 'first_order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Every customer of the store: those in the customer list, plus any seen only on orders
-- (described by their latest order's copy). Lifetime figures follow docs/metrics.md.
-- Recomputed only for customers whose record or orders were loaded since their tenant's
-- watermark (all of them in a whole-tenant build: first build, full refresh), from their
-- orders in fct_orders (macros/recompute.sql); a customer neither listed nor on any order
-- is removed.
{%- set whole = whole_tenants('dim_customers') %}
with affected as (
    select tenant_id, customer_id
    from {{ ref('stg_customers') }}
    where {{ changed_since_watermark('_dlt_load_id') }}
    union
    select tenant_id, customer_id
    from {{ ref('stg_orders') }}
    where customer_id is not null
        and {{ changed_since_watermark('_dlt_load_id') }}
),

{% if whole %}
listed as (
    select customers.*
    from {{ ref('stg_customers') }} as customers
    where not customers.is_deleted
),

from_orders as (
    select distinct on (orders.tenant_id, orders.customer_id)
        orders.tenant_id,
        orders.customer_id,
        orders.customer_email,
        orders.customer_first_name,
        orders.customer_last_name
    from {{ ref('stg_orders') }} as orders
    where orders.customer_id is not null and not orders.is_deleted
    order by
        orders.tenant_id asc, orders.customer_id asc, orders.created_at desc, orders.order_id desc
),
{% else %}
-- A few affected customers: each looked up through the raw id and customer indexes
-- (lateral, fenced by `offset`/`limit`, so the planner cannot hash the whole raw table).
listed as (
    select customers.*
    from affected
    cross join lateral (
        select * from {{ ref('stg_customers') }} as customer
        where customer.tenant_id = affected.tenant_id
            and customer.customer_id = affected.customer_id
            and not customer.is_deleted
        offset 0
    ) as customers
),

from_orders as (
    select affected.tenant_id, affected.customer_id, latest.*
    from affected
    cross join lateral (
        select orders.customer_email, orders.customer_first_name, orders.customer_last_name
        from {{ ref('stg_orders') }} as orders
        where orders.tenant_id = affected.tenant_id
            and orders.customer_id = affected.customer_id
            and not orders.is_deleted
        order by orders.created_at desc, orders.order_id desc
        limit 1
    ) as latest
),
{% endif %}

customer_orders as (
    {{ affected_fact_rows(
        ref('fct_orders'), ['customer_id'], whole, where='fact.customer_id is not null'
    ) }}
),

lifetime as (
    select
        tenant_id,
        customer_id,
        count(*) filter (where is_counted) as orders_count,
        coalesce(sum(total_revenue) filter (where is_counted), 0) as total_revenue,
        coalesce(sum(refunds) filter (where is_counted), 0) as refunds,
        coalesce(sum(net_revenue) filter (where is_counted), 0) as lifetime_spend,
        max(created_at) filter (where is_counted) as last_order_at,
        max(order_date) filter (where is_counted) as last_order_date,
        max(_dlt_load_id) as _dlt_load_id
    from customer_orders
    group by tenant_id, customer_id
),

first_orders as (
    select distinct on (tenant_id, customer_id)
        tenant_id,
        customer_id,
        order_id as first_order_id,
        created_at as first_order_at,
        order_date as first_order_date
    from customer_orders
    where is_counted
    order by tenant_id, customer_id, created_at, order_id
)

select
    affected.tenant_id,
    affected.customer_id,
    coalesce(listed.email, from_orders.customer_email) as email,
    coalesce(listed.first_name, from_orders.customer_first_name) as first_name,
    coalesce(listed.last_name, from_orders.customer_last_name) as last_name,
    listed.phone,
    listed.state,
    listed.tags,
    listed.city,
    listed.province,
    listed.country,
    listed.country_code,
    listed.accepts_email_marketing,
    listed.customer_id is not null as is_listed,
    listed.created_at,
    listed.updated_at,
    coalesce(lifetime.orders_count, 0) as orders_count,
    coalesce(lifetime.total_revenue, 0) as total_revenue,
    coalesce(lifetime.refunds, 0) as refunds,
    coalesce(lifetime.lifetime_spend, 0) as lifetime_spend,
    first_orders.first_order_id,
    first_orders.first_order_at,
    first_orders.first_order_date,
    lifetime.last_order_at,
    lifetime.last_order_date,
    greatest(listed._dlt_load_id, lifetime._dlt_load_id) as _dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column('listed.customer_id is null and from_orders.customer_id is null') }}
from affected
left join listed
    on listed.tenant_id = affected.tenant_id and listed.customer_id = affected.customer_id
left join from_orders
    on from_orders.tenant_id = affected.tenant_id
    and from_orders.customer_id = affected.customer_id
left join lifetime
    on lifetime.tenant_id = affected.tenant_id and lifetime.customer_id = affected.customer_id
left join first_orders
    on first_orders.tenant_id = affected.tenant_id
    and first_orders.customer_id = affected.customer_id
where {{ unless_tombstone('listed.customer_id is null and from_orders.customer_id is null') }}
