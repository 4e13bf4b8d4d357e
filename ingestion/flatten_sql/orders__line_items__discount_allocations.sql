-- An inline list of each line item: keyed by the line item and the position.
select
    money(allocation.allocatedAmountSet) as amount,
    allocation.discountApplication.index as discount_application_index,
    line_gid || '#' || position as _dlt_id,
    line_gid as _dlt_parent_id,
    order_gid as _dlt_root_id,
    position as _dlt_list_idx
from (
    select
        id as line_gid,
        __parentId as order_gid,
        unnest(discountAllocations) as allocation,
        generate_subscripts(discountAllocations, 1) - 1 as position
    from src
    where gid_type(id) = 'LineItem' and len(discountAllocations) > 0
)
