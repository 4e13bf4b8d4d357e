-- Transaction lines name their refund; the order comes from the refunds inline in orders.
with refund_orders as (
    select unnest(refunds).id as refund_gid, id as order_gid
    from src
    where __parentId is null and len(refunds) > 0
)
select
    gid_number(src.id) as id,
    gid_number(refund_orders.order_gid) as order_id,
    lower(kind) as kind,
    lower(status) as status,
    money(amountSet) as amount,
    gateway,
    createdAt as created_at,
    processedAt as processed_at,
    src.id as _dlt_id,
    __parentId as _dlt_parent_id,
    refund_orders.order_gid as _dlt_root_id,
    row_number() over (partition by src.__parentId order by src.rowid) - 1 as _dlt_list_idx
from src
join refund_orders on refund_orders.refund_gid = src.__parentId
where gid_type(src.id) = 'OrderTransaction'
