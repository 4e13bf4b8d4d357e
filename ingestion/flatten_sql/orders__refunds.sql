-- An inline list of each order; its transactions are a connection (their own lines).
select
    gid_number(refund.id) as id,
    gid_number(order_gid) as order_id,
    refund.createdAt as created_at,
    refund.id as _dlt_id,
    order_gid as _dlt_parent_id,
    order_gid as _dlt_root_id,
    position as _dlt_list_idx
from (
    select
        id as order_gid,
        unnest(refunds) as refund,
        generate_subscripts(refunds, 1) - 1 as position
    from src
    where __parentId is null and len(refunds) > 0
)
