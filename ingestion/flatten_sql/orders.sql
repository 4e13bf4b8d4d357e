-- REST had `total_line_items_price`; GraphQL has no such field: the lines' price * quantity.
with line_totals as (
    select gid_number(__parentId) as order_id, sum(money(originalUnitPriceSet) * quantity) as total
    from src
    where gid_type(id) = 'LineItem'
    group by all
)
select
    gid_number(id) as id,
    name,
    number as order_number,
    nullif(email, '') as email,
    createdAt as created_at,
    updatedAt as updated_at,
    processedAt as processed_at,
    cancelledAt as cancelled_at,
    lower(cancelReason) as cancel_reason,
    closedAt as closed_at,
    test,
    lower(displayFinancialStatus) as financial_status,
    case displayFulfillmentStatus
        when 'FULFILLED' then 'fulfilled'
        when 'PARTIALLY_FULFILLED' then 'partial'
        when 'RESTOCKED' then 'restocked'
    end as fulfillment_status,
    currencyCode as currency,
    coalesce(line_totals.total, 0) as total_line_items_price,
    money(totalDiscountsSet) as total_discounts,
    money(subtotalPriceSet) as subtotal_price,
    money(totalShippingPriceSet) as total_shipping_price_set__shop_money__amount,
    money(totalTaxSet) as total_tax,
    money(totalPriceSet) as total_price,
    gid_number(customer.id) as customer__id,
    customer.defaultEmailAddress.emailAddress as customer__email,
    customer.firstName as customer__first_name,
    customer.lastName as customer__last_name,
    id as _dlt_id
from src
left join line_totals on line_totals.order_id = gid_number(src.id)
where __parentId is null
