{{ config(
    indexes=[
        {'columns': ['tenant_id', 'product_key'], 'unique': true},
    ],
) }}

-- Every product that is listed or was ever sold. `product_key` is the Shopify product id,
-- or 0 for the "Custom items" member that groups custom line items (no product).
with recursive listed as (
    select
        products.tenant_id,
        products.product_id,
        products.title,
        products.handle,
        products.vendor,
        products.product_type,
        products.status,
        products.tags,
        products.created_at,
        products.updated_at,
        variants.variant_count,
        variants.min_price,
        variants.max_price
    from {{ ref('stg_products') }} as products
    left join lateral (
        select count(*) as variant_count, min(price) as min_price, max(price) as max_price
        from {{ ref('stg_product_variants') }} as variant
        where variant.tenant_id = products.tenant_id
            and variant.product_dlt_id = products.product_dlt_id
    ) as variants on true
    where not products.is_deleted
),

sold_keys (tenant_id, product_key) as (
    -- The distinct product keys of the tenant's order lines, one index probe each through
    -- fct_order_lines' (tenant_id, product_key, order_date) index (a loose index scan): a
    -- tenant has thousands of products but millions of lines.
    select
        batch.tenant_id, (
            select min(lines.product_key) from {{ ref('fct_order_lines') }} as lines
            where lines.tenant_id = batch.tenant_id
        )
    from {{ batch_rows() }}
    union all
    select
        keys.tenant_id, (
            select min(lines.product_key) from {{ ref('fct_order_lines') }} as lines
            where lines.tenant_id = keys.tenant_id and lines.product_key > keys.product_key
        )
    from sold_keys as keys
    where keys.product_key is not null
),

sold as (
    -- Sold but not listed: custom items (key 0) and products deleted from the catalogue,
    -- described by their lines.
    select keys.tenant_id, keys.product_key, described.title, described.vendor
    from sold_keys as keys
    cross join
        lateral (
            select min(lines.title) as title, min(lines.vendor) as vendor
            from {{ ref('fct_order_lines') }} as lines
            where lines.tenant_id = keys.tenant_id
                and lines.product_key = keys.product_key
                and keys.product_key <> 0
        ) as described
    where keys.product_key is not null
        and not exists (
            select 1 from listed
            where listed.tenant_id = keys.tenant_id and listed.product_id = keys.product_key
        )
)

select
    tenant_id,
    product_id as product_key,
    product_id,
    title,
    handle,
    vendor,
    product_type,
    status,
    tags,
    created_at,
    updated_at,
    variant_count,
    min_price,
    max_price,
    true as is_listed,
    false as is_custom,
    {{ build_id() }} as _xeno_build_id
from listed

union all

select
    tenant_id,
    product_key,
    nullif(product_key, 0) as product_id,
    case
        when product_key = 0 then 'Custom items'
        else coalesce(title, 'Product ' || product_key)
    end as title,
    null as handle,
    case when product_key = 0 then null else vendor end as vendor,
    null as product_type,
    null as status,
    null as tags,
    null::timestamptz as created_at,
    null::timestamptz as updated_at,
    0 as variant_count,
    null::numeric as min_price,
    null::numeric as max_price,
    false as is_listed,
    product_key = 0 as is_custom,
    {{ build_id() }} as _xeno_build_id
from sold
