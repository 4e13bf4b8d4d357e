-- GraphQL has no checkout email apart from the customer's.
select
    gid_number(id) as id,
    name,
    customer.defaultEmailAddress.emailAddress as email,
    createdAt as created_at,
    updatedAt as updated_at,
    completedAt as completed_at,
    totalPriceSet.shopMoney.currencyCode as currency,
    money(subtotalPriceSet) as subtotal_price,
    money(totalDiscountSet) as total_discounts,
    money(totalTaxSet) as total_tax,
    money(totalPriceSet) as total_price,
    abandonedCheckoutUrl as abandoned_checkout_url,
    gid_number(customer.id) as customer__id,
    customer.defaultEmailAddress.emailAddress as customer__email,
    customer.firstName as customer__first_name,
    customer.lastName as customer__last_name,
    id as _dlt_id
from src
where __parentId is null
