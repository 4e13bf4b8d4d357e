select
    gid_number(id) as id,
    title,
    code,
    money(originalPriceSet) as price,
    id as _dlt_id,
    __parentId as _dlt_parent_id,
    __parentId as _dlt_root_id,
    row_number() over (partition by gid_number(__parentId) order by rowid) - 1 as _dlt_list_idx
from src
where gid_type(id) = 'ShippingLine'
