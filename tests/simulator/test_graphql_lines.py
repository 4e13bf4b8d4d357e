"""Bulk JSONL objects: parents before children, ``__parentId``, lists inline, same search."""

from __future__ import annotations

import pytest
from graphql import parse

from ingestion import queries
from simulator.graphql.bulk_lines import BulkQueryError, bulk_lines
from simulator.shop import Shop, ShopSpec
from simulator.store import copy
from tests.simulator.sim_helpers import ANCHOR


@pytest.fixture(scope="module")
def shop() -> Shop:
    return Shop(ShopSpec(name="lines", orders=120, seed=5, anchor=ANCHOR))


def gid(kind: str, rid: int) -> str:
    return f"gid://shopify/{kind}/{rid}"


def test_orders_parent_then_children(shop: Shop) -> None:
    lines = list(bulk_lines(shop.store, parse(queries.ORDERS.bulk_query())))
    orders = list(shop.store.orders.iter_live())
    expected: list[tuple[str, str | None]] = []
    for order in orders:
        parent = gid("Order", order["id"])
        expected.append((parent, None))
        expected += [(gid("LineItem", li["id"]), parent) for li in order["line_items"]]
        expected += [(gid("ShippingLine", s["id"]), parent) for s in order["shipping_lines"]]
    assert [(line["id"], line.get("__parentId")) for line in lines] == expected
    roots = [line for line in lines if "__parentId" not in line]
    assert len(roots) == len(orders)
    for root, order in zip(roots, orders, strict=True):
        assert "lineItems" not in root and "shippingLines" not in root  # own lines instead
        assert root["totalPriceSet"]["shopMoney"]["amount"] == order["total_price"]
        assert root["discountCodes"] == [d["code"] for d in order["discount_codes"]]
        # refunds are a list: inline, with their transactions connection as edges
        assert [r["id"] for r in root["refunds"]] == [
            gid("Refund", r["id"]) for r in order["refunds"]
        ]
        for refund, rest in zip(root["refunds"], order["refunds"], strict=True):
            edges = refund["transactions"]["edges"]
            assert [e["node"]["id"] for e in edges] == [
                gid("OrderTransaction", t["id"]) for t in rest["transactions"]
            ]
    assert any(root["refunds"] for root in roots)
    children = [line for line in lines if line.get("__parentId")]
    item = next(c for c in children if c["id"].startswith("gid://shopify/LineItem/"))
    assert {"quantity", "originalUnitPriceSet", "discountAllocations", "variant"} <= set(item)


def test_every_resource_streams(shop: Shop) -> None:
    for resource, table in (
        (queries.CUSTOMERS, shop.store.customers),
        (queries.PRODUCTS, shop.store.products),
        (queries.ABANDONED_CHECKOUTS, shop.store.checkouts),
    ):
        lines = list(bulk_lines(shop.store, parse(resource.bulk_query())))
        roots = [line["id"] for line in lines if "__parentId" not in line]
        assert roots == [gid(resource.type_name, r["id"]) for r in table.iter_live()]
        ids = list(bulk_lines(shop.store, parse(resource.ids_query())))
        assert [line["id"] for line in ids] == roots and all(len(x) == 1 for x in ids)


def test_search_and_mutations(shop: Shop) -> None:
    fresh = Shop(ShopSpec(name="lines-mut", orders=40, seed=6, anchor=ANCHOR))
    orders = list(fresh.store.orders.iter_live())
    fresh.mutate("delete", "orders", orders[0]["id"])
    fresh.mutate("update", "orders", orders[5]["id"], {"note": "changed"})
    created = fresh.mutate("create", "orders", None, {})
    assert created is not None
    recent = queries.ORDERS.ids_query().replace(
        "orders", 'orders(query: "updated_at:>=2025-01-01")'
    )
    found = [line["id"] for line in bulk_lines(fresh.store, parse(recent))]
    assert found == [gid("Order", orders[5]["id"]), gid("Order", created["id"])]
    everything = [line["id"] for line in bulk_lines(fresh.store, parse(queries.ORDERS.ids_query()))]
    assert len(everything) == len(orders) and gid("Order", orders[0]["id"]) not in everything
    window = f"id:>{orders[9]['id']} AND id:<={orders[12]['id']}"
    found = [
        line["id"]
        for line in bulk_lines(fresh.store, parse(queries.ORDERS.bulk_query(window)))
        if "__parentId" not in line
    ]
    assert found == [gid("Order", o["id"]) for o in orders[10:13]]


def test_store_records_are_not_changed(shop: Shop) -> None:
    before = [copy(o) for o in shop.store.orders.iter_shared()]
    for _ in bulk_lines(shop.store, parse(queries.ORDERS.bulk_query())):
        pass
    assert [copy(o) for o in shop.store.orders.iter_shared()] == before


def test_not_a_bulk_query(shop: Shop) -> None:
    with pytest.raises(BulkQueryError):
        bulk_lines(shop.store, parse("{ shop { id } }"))
    with pytest.raises(BulkQueryError):
        bulk_lines(shop.store, parse("{ a: orders { nodes { id } } b: products { nodes { id } } }"))
