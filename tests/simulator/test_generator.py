"""Generated data: deterministic per seed, internally consistent money, realistic shape."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from statistics import median

import msgspec

from simulator import generator as gen
from simulator.server import run_simulator
from simulator.shop import ShopSpec
from simulator.store import ShopStore
from tests.simulator.sim_helpers import ANCHOR, Admin


def make_store(seed: int = 1, orders: int = 400, currency: str = "EUR") -> ShopStore:
    profile = gen.ShopProfile(
        name="det",
        seed=seed,
        currency=currency,
        timezone="Europe/Berlin",
        anchor=int(ANCHOR.timestamp()),
        days=365,
        orders=orders,
    )
    return ShopStore(profile)


def dump(store: ShopStore) -> bytes:
    return msgspec.json.encode(
        {name: list(table.iter_live()) for name, table in store.tables.items()}
    )


def test_same_seed_same_data_different_seed_different() -> None:
    assert dump(make_store(1)) == dump(make_store(1))
    assert dump(make_store(1)) != dump(make_store(2))


def test_same_seed_same_json_over_http(base: Admin) -> None:
    spec = ShopSpec(name="base", orders=300, seed=7, anchor=ANCHOR, rate_limit=False)
    with run_simulator(shops=[spec]) as other:
        again = Admin(other, msgspec.to_builtins(other.shops[0]))
        assert again.info["token"] == base.info["token"]
        for resource in ("orders", "customers", "checkouts"):
            first = base.walk(resource, status="any", limit=250)
            assert again.walk(resource, status="any", limit=250) == first


def money(value: str) -> Decimal:
    return Decimal(value)


def test_order_money_is_consistent(base: Admin) -> None:
    for order in base.walk("orders", status="any", limit=250):
        lines = order["line_items"]
        line_total = sum(money(li["price"]) * li["quantity"] for li in lines)
        allocations = sum(money(a["amount"]) for li in lines for a in li["discount_allocations"])
        line_tax = sum(money(t["price"]) for li in lines for t in li["tax_lines"])
        shipping = sum(money(s["price"]) for s in order["shipping_lines"])
        assert money(order["total_line_items_price"]) == line_total
        assert money(order["total_discounts"]) == allocations
        assert sum(money(d["amount"]) for d in order["discount_codes"]) == allocations
        assert money(order["subtotal_price"]) == line_total - allocations
        assert money(order["total_tax"]) == line_tax
        assert money(order["total_shipping_price_set"]["shop_money"]["amount"]) == shipping
        assert money(order["total_price"]) == money(order["subtotal_price"]) + shipping + line_tax
        refunded = sum(
            money(t["amount"])
            for r in order["refunds"]
            for t in r["transactions"]
            if t["kind"] == "refund" and t["status"] == "success"
        )
        assert refunded <= money(order["total_price"])
        if order["financial_status"] == "refunded":
            assert refunded == money(order["total_price"])
        if order["cancelled_at"]:
            assert order["financial_status"] in ("refunded", "voided")
        assert order["created_at"] <= order["updated_at"] or order["created_at"][:4] < "2025"


def test_realistic_distributions() -> None:
    store = make_store(seed=5, orders=6000, currency="USD")
    orders = list(store.orders.iter_live())
    per_customer = Counter(o["customer"]["id"] for o in orders if o["customer"])
    counts = sorted(per_customer.values(), reverse=True)
    top = counts[: max(1, len(store.customers) // 5)]
    assert sum(top) > 0.5 * sum(counts)  # a minority of customers places most orders
    assert max(counts) >= 10
    totals = [Decimal(o["total_price"]) for o in orders]
    assert max(totals) > 8 * median(totals)  # heavy tail
    months = Counter(datetime.fromtimestamp(t, UTC).month for t in store.orders.created)
    assert months[11] + months[12] > months[6] + months[7]  # yearly cycle
    weekdays = Counter(datetime.fromtimestamp(t, UTC).weekday() for t in store.orders.created)
    assert weekdays[5] > weekdays[1]  # weekly cycle
    guests = sum(1 for o in orders if o["customer"] is None)
    assert 0.05 < guests / len(orders) < 0.3
    flags = Counter(
        (o["test"], o["cancelled_at"] is not None, o["financial_status"]) for o in orders
    )
    assert any(test for test, _, _ in flags)
    assert any(status == "voided" for _, _, status in flags)
    assert any(status == "partially_refunded" for _, _, status in flags)


def test_million_order_shop_starts_fast_and_compact() -> None:
    start = datetime.now()
    store = make_store(seed=9, orders=1_000_000, currency="INR")
    assert (datetime.now() - start).total_seconds() < 15
    assert len(store.orders) == 1_000_000
    last = store.orders.get(999_999)
    assert last["id"] == store.orders.id_at(999_999) and last["currency"] == "INR"
    assert store.orders.index_of(last["id"]) == 999_999


def test_iter_live_copies_are_safe_to_change() -> None:
    store = make_store(seed=4, orders=50)
    before = dump(store)
    for rec in store.orders.iter_live():
        rec["total_price_set"]["shop_money"]["amount"] = "0"
        rec["line_items"][0]["properties"].append({"name": "x"})
    assert dump(store) == before
