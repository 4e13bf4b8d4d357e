-- An inline list of strings: keyed by the order and the position.
select
    code,
    order_gid || '#' || position as _dlt_id,
    order_gid as _dlt_parent_id,
    order_gid as _dlt_root_id,
    position as _dlt_list_idx
from (
    select
        id as order_gid,
        unnest(discountCodes) as code,
        generate_subscripts(discountCodes, 1) - 1 as position
    from src
    where __parentId is null and len(discountCodes) > 0
)
