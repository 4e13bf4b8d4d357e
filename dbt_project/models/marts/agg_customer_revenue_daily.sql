{{ config(
    meta={'slice_key': ['customer_id', 'order_date'], 'tombstones': true},
    indexes=[
        {'columns': ['tenant_id', 'customer_id', 'order_date'], 'unique': true},
        {'columns': ['tenant_id', 'order_date']},
        {'columns': ['tenant_id', '_dlt_load_id']},
        {'columns': ['tenant_id', '_xeno_build_id']},
    ],
) }}

-- Revenue per customer per order date, over counted orders (macros/recompute.sql): only
-- the customer-days of orders loaded since the watermark are recomputed from fct_orders;
-- a customer-day left without counted orders is removed.
{%- set changed %}
    select distinct tenant_id, customer_id, order_date
    from {{ ref('stg_orders') }}
    where customer_id is not null
      and {{ changed_since_watermark('_dlt_load_id') }}
{%- endset %}
{{ recompute_changed_keys(
    ref('fct_orders'), ['customer_id', 'order_date'], changed,
    measures={
        'order_count': 'count(*) filter (where is_counted)',
        'gross_sales': 'coalesce(sum(gross_sales) filter (where is_counted), 0)',
        'discounts': 'coalesce(sum(discounts) filter (where is_counted), 0)',
        'total_revenue': 'coalesce(sum(total_revenue) filter (where is_counted), 0)',
        'refunds': 'coalesce(sum(refunds) filter (where is_counted), 0)',
        'net_revenue': 'coalesce(sum(net_revenue) filter (where is_counted), 0)',
    },
    count_measure='order_count',
    whole=whole_tenants('agg_customer_revenue_daily'),
    where='fact.customer_id is not null',
) }}
