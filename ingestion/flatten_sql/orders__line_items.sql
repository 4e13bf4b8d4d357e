select
    gid_number(id) as id,
    gid_number(__parentId) as order_id,
    gid_number(product.id) as product_id,
    gid_number(variant.id) as variant_id,
    title,
    variantTitle as variant_title,
    name,
    sku,
    vendor,
    money(originalUnitPriceSet) as price,
    quantity,
    isGiftCard as gift_card,
    id as _dlt_id,
    __parentId as _dlt_parent_id,
    __parentId as _dlt_root_id,
    row_number() over (partition by gid_number(__parentId) order by rowid) - 1 as _dlt_list_idx
from src
where gid_type(id) = 'LineItem'
