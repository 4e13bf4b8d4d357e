-- Keyed by position: REST checkout line items (webhooks) have no ids.
select
    gid_number(product.id) as product_id,
    gid_number(variant.id) as variant_id,
    title,
    variantTitle as variant_title,
    sku,
    money(originalUnitPriceSet) as price,
    quantity,
    money(originalTotalPriceSet) as line_price,
    __parentId || '#' || _dlt_list_idx as _dlt_id,
    __parentId as _dlt_parent_id,
    __parentId as _dlt_root_id,
    _dlt_list_idx
from (
    select *, row_number() over (partition by gid_number(__parentId) order by rowid) - 1 as _dlt_list_idx
    from src
    where __parentId is not null
)
