-- A connection inside the refunds list: inline in the order's line.
select
    gid_number(txn.id) as id,
    gid_number(order_gid) as order_id,
    lower(txn.kind) as kind,
    lower(txn.status) as status,
    money(txn.amountSet) as amount,
    txn.gateway as gateway,
    txn.createdAt as created_at,
    txn.processedAt as processed_at,
    txn.id as _dlt_id,
    refund_gid as _dlt_parent_id,
    order_gid as _dlt_root_id,
    position as _dlt_list_idx
from (
    select
        order_gid,
        refund_gid,
        unnest(edges).node as txn,
        generate_subscripts(edges, 1) - 1 as position
    from (
        select id as order_gid, unnest(refunds) as refund
        from src
        where __parentId is null and len(refunds) > 0
    ) as refunds (order_gid, refund),
    lateral (select refund.id as refund_gid, refund.transactions.edges as edges)
    where len(edges) > 0
)
