"""A first sync loads the whole store: every record once, exact money, guests, custom lines."""

from __future__ import annotations

from decimal import Decimal

from core.settings import get_settings
from ingestion.sync import run_sync
from tests.ingestion.conftest import raw_count

RESOURCES = {  # raw table -> (count endpoint, params)
    "customers": ("customers/count.json", {}),
    "products": ("products/count.json", {}),
    "orders": ("orders/count.json", {"status": "any"}),
    "abandoned_checkouts": ("checkouts/count.json", {}),
}


def test_backfill_loads_every_record_exactly_once(sim, make_tenant, conn):
    shop = sim.shop(orders=400, rate_limit=False)
    tenant = make_tenant(shop)

    run = run_sync(tenant.id, get_settings())

    assert run.status == "succeeded", run.error
    counts = sim.truth(shop["domain"])["counts"]
    schema = tenant.raw_schema
    for table, (path, params) in RESOURCES.items():
        expected = sim.count(shop, path, **params)
        assert raw_count(conn, schema, table) == expected, table
        assert raw_count(conn, schema, table, "true", distinct="id") == expected, table
        assert run.rows_loaded[table] == expected, table
    assert raw_count(conn, schema, "orders") == counts["orders_all"]
    assert raw_count(conn, schema, "customers") == counts["customers"]
    assert raw_count(conn, schema, "products") == counts["products"]
    assert raw_count(conn, schema, "abandoned_checkouts") == (
        counts["checkouts_abandoned"] + counts["checkouts_recovered"]
    )
    shop_row = conn.execute(f'select currency, iana_timezone from "{schema}".shop').fetchall()
    assert shop_row == [(shop["currency"], shop["timezone"])]


def test_guests_custom_lines_and_money_survive_exactly(sim, make_tenant, conn):
    shop = sim.shop(orders=150, rate_limit=False)
    domain = shop["domain"]
    guest = sim.create(
        domain,
        "orders",
        {"guest": True, "line_items": [{"title": "Gift wrap", "price": "4.99", "quantity": 3}]},
    )["order"]
    tenant = make_tenant(shop)

    assert run_sync(tenant.id, get_settings()).status == "succeeded"

    schema = tenant.raw_schema
    orders = sim.records(shop, "orders", status="any")
    guests = sum(1 for o in orders if o["customer"] is None)
    custom = sum(1 for o in orders for li in o["line_items"] if li["product_id"] is None)
    assert guests >= 1 and custom >= 1
    assert raw_count(conn, schema, "orders", "customer__id is null") == guests
    assert raw_count(conn, schema, "orders__line_items", "product_id is null") == custom

    types = dict(
        conn.execute(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = %s",
            (schema,),
        ).fetchall()
    )
    for column in (
        "orders.total_price",
        "orders.subtotal_price",
        "orders.total_tax",
        "orders.total_discounts",
        "orders.total_shipping_price_set__shop_money__amount",
        "orders__line_items.price",
        "orders__line_items__discount_allocations.amount",
        "orders__refunds__transactions.amount",
        "products__variants.price",
        "abandoned_checkouts.total_price",
    ):
        assert types[column] == "numeric", column

    row = conn.execute(
        f"select total_price, subtotal_price, total_tax, total_discounts, _dlt_id "
        f'from "{schema}".orders where id = %s',
        (guest["id"],),
    ).fetchone()
    assert row is not None
    assert row[:4] == tuple(
        Decimal(guest[k]) for k in ("total_price", "subtotal_price", "total_tax", "total_discounts")
    )
    lines = conn.execute(
        f'select title, price, quantity from "{schema}".orders__line_items '
        "where _dlt_parent_id = %s",
        (row[4],),
    ).fetchall()
    assert lines == [("Gift wrap", Decimal("4.99"), 3)]

    total = conn.execute(f'select sum(total_price) from "{schema}".orders').fetchone()
    assert total == (sum(Decimal(o["total_price"]) for o in orders),)
