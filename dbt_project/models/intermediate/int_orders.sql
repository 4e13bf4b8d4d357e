-- One row per order (deleted ones included, flagged, so incremental marts can remove
-- them) with the revenue components of docs/metrics.md. Lines and refunds are joined per
-- order (macros/lookups.sql: set-based for whole tenants, per order otherwise).
{%- set whole = whole_tenants('fct_orders') %}
select
    orders.tenant_id,
    orders.order_id,
    orders.order_dlt_id,
    orders.order_name,
    orders.order_number,
    orders.customer_id,
    orders.customer_id is null as is_guest,
    orders.email,
    orders.customer_email,
    orders.customer_first_name,
    orders.customer_last_name,
    orders.created_at,
    orders.order_date,
    orders.updated_at,
    orders.processed_at,
    orders.cancelled_at,
    orders.cancel_reason,
    orders.closed_at,
    orders.financial_status,
    orders.fulfillment_status,
    orders.currency,
    orders.is_test,
    orders.is_cancelled,
    orders.is_deleted,
    not orders.is_test and not orders.is_cancelled and not orders.is_deleted as is_counted,
    coalesce(lines.line_count, 0) as line_count,
    coalesce(lines.item_quantity, 0) as item_quantity,
    coalesce(lines.gross_sales, 0) as gross_sales,
    orders.total_discounts as discounts,
    orders.subtotal_price,
    orders.total_shipping as shipping,
    orders.total_tax as tax,
    orders.total_price as total_revenue,
    coalesce(refunds.refunded, 0) as refunds,
    orders.total_price - coalesce(refunds.refunded, 0) as net_revenue,
    orders._dlt_load_id
from {{ ref('stg_orders') }} as orders
{{ join_children(
    'lines', 'orders', ref('stg_order_lines'), 'order_dlt_id', 'order_dlt_id',
    'count(*) as line_count, sum(child.quantity) as item_quantity,
    sum(child.gross_amount) as gross_sales',
    whole=whole,
) }}
{{ join_children(
    'refunds', 'orders', ref('stg_order_refund_transactions'), 'order_dlt_id', 'order_dlt_id',
    "sum(child.amount) filter (where child.kind = 'refund' and child.status = 'success')
    as refunded",
    whole=whole,
) }}
