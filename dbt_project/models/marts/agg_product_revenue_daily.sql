{{ config(
    meta={'slice_key': ['product_key', 'order_date'], 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'product_key', 'order_date'], 'unique': true},
        {'columns': ['tenant_id', 'order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Product revenue per product per order date, over lines of counted orders
-- (macros/recompute.sql): only the product-days touched by orders loaded since the
-- watermark are recomputed from fct_order_lines; a product-day left without counted
-- orders is removed.
{%- set changed %}
    select distinct
        changed_orders.tenant_id,
        coalesce(lines.product_id, 0) as product_key,
        changed_orders.order_date
    from (
        select tenant_id, order_dlt_id, order_date
        from {{ ref('stg_orders') }}
        where {{ changed_since_watermark('_dlt_load_id') }}
    ) as changed_orders
    {{ join_children(
        'lines', 'changed_orders', ref('stg_order_lines'), 'order_dlt_id', 'order_dlt_id',
        'child.product_id', whole=false, join='inner', grouped=false,
    ) }}
{%- endset %}
{{ recompute_changed_keys(
    ref('fct_order_lines'), ['product_key', 'order_date'], changed,
    measures={
        'order_count': 'count(distinct order_id) filter (where is_counted)',
        'quantity': 'coalesce(sum(quantity) filter (where is_counted), 0)',
        'gross_sales': 'coalesce(sum(gross_amount) filter (where is_counted), 0)',
        'discounts': 'coalesce(sum(discount_amount) filter (where is_counted), 0)',
        'revenue': 'coalesce(sum(net_amount) filter (where is_counted), 0)',
    },
    count_measure='order_count',
    whole=whole_tenants('agg_product_revenue_daily'),
) }}
