-- The shop: one line, its own node (not a bulk operation).
select
    gid_number(id) as id,
    name,
    primaryDomain.host as domain,
    myshopifyDomain as myshopify_domain,
    email,
    currencyCode as currency,
    ianaTimezone as iana_timezone,
    plan.publicDisplayName as plan_display_name,
    createdAt as created_at,
    updatedAt as updated_at,
    id as _dlt_id
from src
