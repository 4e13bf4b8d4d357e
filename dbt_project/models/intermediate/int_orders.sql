-- One row per order (deleted ones included, flagged, so incremental marts can remove
-- them) with the revenue components of docs/metrics.md.
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
    not (orders.is_test or orders.is_cancelled or orders.is_deleted) as is_counted,
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
left join lateral (
    select
        count(*) as line_count,
        sum(line.quantity) as item_quantity,
        sum(line.gross_amount) as gross_sales
    from {{ ref('stg_order_lines') }} as line
    where line.tenant_id = orders.tenant_id
      and line.order_dlt_id = orders.order_dlt_id
) as lines on true
left join lateral (
    select sum(transaction.amount) as refunded
    from {{ ref('stg_order_refund_transactions') }} as transaction
    where transaction.tenant_id = orders.tenant_id
      and transaction.order_dlt_id = orders.order_dlt_id
      and transaction.kind = 'refund'
      and transaction.status = 'success'
) as refunds on true
