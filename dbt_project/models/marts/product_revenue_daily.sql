{{ config(
    meta={'slice_key': ['product_key', 'order_date'], 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'product_key', 'order_date'], 'unique': true},
        {'columns': ['tenant_id', 'order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Product revenue per product per order date, over lines of counted orders. Only the
-- product-days touched by orders loaded since the watermark are recomputed; a
-- whole-tenant build (first build, full refresh) groups the lines fact directly.
{%- set whole = whole_tenants('product_revenue_daily') %}
with
{%- if not whole %}
changed_orders as (
    select tenant_id, order_dlt_id, order_date
    from {{ ref('stg_orders') }}
    where {{ changed_since_watermark('_dlt_load_id') }}
),

affected as (
    select distinct
        changed_orders.tenant_id,
        coalesce(lines.product_id, 0) as product_key,
        changed_orders.order_date
    from changed_orders
    {{ join_children(
        'lines', 'changed_orders', ref('stg_order_lines'), 'order_dlt_id', 'order_dlt_id',
        'child.product_id', whole=false, join='inner', grouped=false,
    ) }}
),
{%- endif %}

totals as (
    select
        lines.tenant_id,
        lines.product_key,
        lines.order_date,
        count(distinct lines.order_id) filter (where lines.is_counted) as order_count,
        coalesce(sum(lines.quantity) filter (where lines.is_counted), 0) as quantity,
        coalesce(sum(lines.gross_amount) filter (where lines.is_counted), 0) as gross_sales,
        coalesce(sum(lines.discount_amount) filter (where lines.is_counted), 0) as discounts,
        coalesce(sum(lines.net_amount) filter (where lines.is_counted), 0) as revenue,
        max(lines._dlt_load_id) as _dlt_load_id
    from {{ ref('fct_order_lines') }} as lines
    {%- if not whole %}
    inner join affected
        on affected.tenant_id = lines.tenant_id
        and affected.product_key = lines.product_key
        and affected.order_date = lines.order_date
    {%- endif %}
    where {{ in_batch('lines.tenant_id') }}
    group by lines.tenant_id, lines.product_key, lines.order_date
)
{%- if whole %},

affected as (
    select tenant_id, product_key, order_date from totals
)
{%- endif %}

select
    affected.tenant_id,
    affected.product_key,
    affected.order_date,
    coalesce(totals.order_count, 0) as order_count,
    coalesce(totals.quantity, 0) as quantity,
    coalesce(totals.gross_sales, 0) as gross_sales,
    coalesce(totals.discounts, 0) as discounts,
    coalesce(totals.revenue, 0) as revenue,
    totals._dlt_load_id,
    {{ build_id() }} as _xeno_build_id
    {{ tombstone_column('coalesce(totals.order_count, 0) = 0') }}
from affected
left join totals
    on totals.tenant_id = affected.tenant_id
    and totals.product_key = affected.product_key
    and totals.order_date = affected.order_date
where {{ unless_tombstone('coalesce(totals.order_count, 0) = 0') }}
