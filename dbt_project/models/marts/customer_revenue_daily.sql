{{ config(
    meta={'slice_key': ['customer_id', 'order_date'], 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'customer_id', 'order_date'], 'unique': true},
        {'columns': ['tenant_id', 'order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Revenue per customer per order date, over counted orders. Only the customer-days of
-- orders loaded since the watermark are recomputed (from fct_orders, already updated in
-- this build); a customer-day left without counted orders is removed. A whole-tenant
-- build (first build, full refresh) groups the facts directly: every customer-day.
{%- set whole = whole_tenants('customer_revenue_daily') %}
with
{%- if not whole %}
affected as (
    select distinct tenant_id, customer_id, order_date
    from {{ ref('stg_orders') }}
    where customer_id is not null
      and {{ changed_since_watermark('_dlt_load_id') }}
),
{%- endif %}

totals as (
    select
        orders.tenant_id,
        orders.customer_id,
        orders.order_date,
        count(*) filter (where orders.is_counted) as order_count,
        coalesce(sum(orders.gross_sales) filter (where orders.is_counted), 0) as gross_sales,
        coalesce(sum(orders.discounts) filter (where orders.is_counted), 0) as discounts,
        coalesce(sum(orders.total_revenue) filter (where orders.is_counted), 0) as total_revenue,
        coalesce(sum(orders.refunds) filter (where orders.is_counted), 0) as refunds,
        coalesce(sum(orders.net_revenue) filter (where orders.is_counted), 0) as net_revenue,
        max(orders._dlt_load_id) as _dlt_load_id
    from {{ ref('fct_orders') }} as orders
    {%- if whole %}
    where {{ in_batch('orders.tenant_id') }} and orders.customer_id is not null
    {%- else %}
    inner join affected
        on affected.tenant_id = orders.tenant_id
        and affected.customer_id = orders.customer_id
        and affected.order_date = orders.order_date
    where {{ in_batch('orders.tenant_id') }}
    {%- endif %}
    group by orders.tenant_id, orders.customer_id, orders.order_date
)
{%- if whole %},

affected as (
    select tenant_id, customer_id, order_date from totals
)
{%- endif %}

select
    affected.tenant_id,
    affected.customer_id,
    affected.order_date,
    coalesce(totals.order_count, 0) as order_count,
    coalesce(totals.gross_sales, 0) as gross_sales,
    coalesce(totals.discounts, 0) as discounts,
    coalesce(totals.total_revenue, 0) as total_revenue,
    coalesce(totals.refunds, 0) as refunds,
    coalesce(totals.net_revenue, 0) as net_revenue,
    totals._dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column('coalesce(totals.order_count, 0) = 0') }}
from affected
left join totals
    on totals.tenant_id = affected.tenant_id
    and totals.customer_id = affected.customer_id
    and totals.order_date = affected.order_date
where {{ unless_tombstone('coalesce(totals.order_count, 0) = 0') }}
