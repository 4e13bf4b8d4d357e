"""Every mart figure equals the simulator's ground truth, to the cent, for every store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.transforms.helpers import STORES, money, query

pytestmark = pytest.mark.slow


@pytest.fixture(params=sorted(STORES), scope="module")
def store(request, stores):
    tenant = stores[request.param]
    return tenant, tenant.truth()


def test_revenue_by_day(store):
    tenant, expected = store
    rows = query(
        tenant.url,
        "select * from marts.agg_revenue_daily where tenant_id = %s order by date",
        tenant.id,
    )
    with_orders = [
        {
            "date": r["date"].isoformat(),
            "orders": r["order_count"],
            **{k: money(r[k]) for k in ("gross_sales", "discounts", "refunds")},
            "total_revenue": money(r["total_revenue"]),
            "net_revenue": money(r["net_revenue"]),
        }
        for r in rows
        if r["order_count"]
    ]
    assert with_orders == [
        {k: (money(v) if k not in ("date", "orders") else v) for k, v in day.items()}
        for day in expected["revenue_by_day"]
    ]
    # One row per day, no gaps, zeros on quiet days, through today in the shop's zone.
    days = [r["date"] for r in rows]
    assert days == [days[0] + timedelta(n) for n in range(len(days))]
    assert days[-1] == datetime.now(ZoneInfo(expected["timezone"])).date()
    assert days[0] <= date.fromisoformat(expected["revenue_by_day"][0]["date"])
    quiet = [r for r in rows if not r["order_count"]]
    assert quiet and all(money(r["total_revenue"]) == 0 for r in quiet)
    assert all(r["average_order_value"] is None for r in quiet)


def test_totals(store):
    tenant, expected = store
    (row,) = query(
        tenant.url,
        "select sum(gross_sales) gross_sales, sum(discounts) discounts, sum(refunds) refunds, "
        "sum(total_revenue) total_revenue, sum(net_revenue) net_revenue "
        "from marts.agg_revenue_daily where tenant_id = %s",
        tenant.id,
    )
    assert {k: money(v) for k, v in row.items()} == {
        k: money(v) for k, v in expected["totals"].items()
    }


def test_revenue_by_product(store):
    tenant, expected = store
    rows = query(
        tenant.url,
        "select product_id, product_title, quantity, revenue from marts.agg_product_revenue "
        "where tenant_id = %s order by product_key",
        tenant.id,
    )
    actual = {
        r["product_id"]: (r["product_title"], r["quantity"], money(r["revenue"])) for r in rows
    }
    assert actual == {
        p["product_id"]: (p["title"], p["quantity"], money(p["revenue"]))
        for p in expected["revenue_by_product"]
    }


def test_revenue_by_customer(store):
    tenant, expected = store
    rows = query(
        tenant.url,
        "select customer_id, email, first_name, last_name, orders_count, lifetime_spend "
        "from marts.dim_customers where tenant_id = %s and orders_count > 0",
        tenant.id,
    )
    actual = {
        r["customer_id"]: (
            r["email"],
            r["first_name"],
            r["last_name"],
            r["orders_count"],
            money(r["lifetime_spend"]),
        )
        for r in rows
    }
    assert actual == {
        c["customer_id"]: (
            c["email"],
            c["first_name"],
            c["last_name"],
            c["orders"],
            money(c["spend"]),
        )
        for c in expected["revenue_by_customer"]
    }
    daily = query(
        tenant.url,
        "select customer_id, sum(net_revenue) spend, sum(order_count) orders "
        "from marts.agg_customer_revenue_daily where tenant_id = %s group by customer_id",
        tenant.id,
    )
    assert {r["customer_id"]: (r["orders"], money(r["spend"])) for r in daily} == {
        c["customer_id"]: (c["orders"], money(c["spend"])) for c in expected["revenue_by_customer"]
    }


def test_top_customers(store):
    tenant, expected = store
    rows = query(
        tenant.url,
        "select rank, customer_id, lifetime_spend from marts.agg_top_customers "
        "where tenant_id = %s order by rank",
        tenant.id,
    )
    ranked = sorted(
        expected["revenue_by_customer"], key=lambda c: (-money(c["spend"]), c["customer_id"])
    )
    assert [(r["customer_id"], money(r["lifetime_spend"])) for r in rows] == [
        (c["customer_id"], money(c["spend"])) for c in ranked[:100]
    ]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))


def test_counts(store):
    tenant, expected = store
    (row,) = query(
        tenant.url,
        """
        select
            (select count(*) from marts.fct_orders where tenant_id = %(t)s) as orders_all,
            (select count(*) from marts.fct_orders where tenant_id = %(t)s and is_counted)
                as orders_counted,
            (select count(*) from marts.fct_orders where tenant_id = %(t)s and is_cancelled)
                as orders_cancelled,
            (select count(*) from marts.fct_orders where tenant_id = %(t)s and is_test)
                as orders_test,
            (select count(*) from marts.dim_customers where tenant_id = %(t)s and is_listed)
                as customers,
            (select count(*) from marts.dim_products where tenant_id = %(t)s and is_listed)
                as products,
            (select count(*) from marts.fct_abandoned_checkouts
                where tenant_id = %(t)s and not is_recovered) as checkouts_abandoned,
            (select count(*) from marts.fct_abandoned_checkouts
                where tenant_id = %(t)s and is_recovered) as checkouts_recovered
        """,
        t=tenant.id,
    )
    assert row == expected["counts"]


def test_abandoned_checkout_carts(store):
    tenant, _ = store
    store_checkouts = {c["id"]: c for c in tenant.shop.store.checkouts.iter_live()}
    rows = query(
        tenant.url,
        "select checkout_id, cart, customer_email, is_recovered from marts.fct_abandoned_checkouts "
        "where tenant_id = %s",
        tenant.id,
    )
    assert len(rows) == len(store_checkouts)
    for row in rows:
        source = store_checkouts[row["checkout_id"]]
        assert row["is_recovered"] == (source["completed_at"] is not None)
        assert row["customer_email"] == (source["customer"] or {}).get("email")
        assert [
            (line["title"], line["quantity"], money(line["price"]), line["product_id"])
            for line in row["cart"]
        ] == [
            (line["title"], line["quantity"], money(line["price"]), line["product_id"])
            for line in source["line_items"]
        ]
