"""Auth, routing and resource shapes of the Admin API."""

from __future__ import annotations

import re

import httpx

from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import VERSION, Admin

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def test_missing_or_wrong_token_is_401(base: Admin) -> None:
    for headers in ({}, {"X-Shopify-Access-Token": "shpat_wrong"}):
        response = httpx.get(f"{base.url}/orders.json", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"errors": UNAUTHORIZED}


def test_unknown_shop_and_paths_are_404(sim: RunningSimulator, base: Admin) -> None:
    response = httpx.get(f"{sim.base_url}/nope.myshopify.com/admin/api/{VERSION}/orders.json")
    assert (response.status_code, response.json()) == (404, {"errors": "Not Found"})
    for path in ("refunds.json", "orders/999.json", "orders/abc.json"):
        assert base.get(path).status_code == 404
    bad_version = base.url.replace(VERSION, "latest") + "/orders.json"
    assert base.http.get(bad_version).status_code == 404


def test_any_version_string_is_accepted(base: Admin) -> None:
    response = base.http.get(base.url.replace(VERSION, "2023-01") + "/shop.json")
    assert response.status_code == 200
    assert response.headers["x-shopify-api-version"] == "2023-01"


def test_shop_json(base: Admin) -> None:
    shop = base.get("shop.json").json()["shop"]
    assert shop["myshopify_domain"] == base.domain
    assert shop["currency"] == "USD"
    assert shop["iana_timezone"] == "America/New_York"
    assert shop["timezone"].endswith("America/New_York")
    assert isinstance(shop["id"], int)
    assert {"name", "email", "domain", "plan_name"} <= set(shop)


def test_order_shape(base: Admin) -> None:
    orders = base.walk("orders", status="any", limit=250)
    order = orders[0]
    assert order["id"] > 1_000_000_000_000
    for key in ("created_at", "updated_at", "processed_at"):
        assert ISO.match(order[key]), order[key]
    for key in ("total_price", "subtotal_price", "total_tax", "total_discounts"):
        assert MONEY.match(order[key])
    assert order["total_price_set"]["shop_money"] == {
        "amount": order["total_price"],
        "currency_code": "USD",
    }
    li = order["line_items"][0]
    assert {
        "id",
        "price",
        "quantity",
        "product_id",
        "variant_id",
        "discount_allocations",
        "tax_lines",
        "title",
        "sku",
    } <= set(li)
    refunds = [r for o in orders for r in o["refunds"]]
    assert refunds and all(r["transactions"] for r in refunds)
    assert any(r["refund_line_items"] for r in refunds)
    assert any(o["customer"] is None for o in orders)  # guests
    assert any(li["product_id"] is None for o in orders for li in o["line_items"])  # custom
    assert any(o["discount_codes"] and o["discount_applications"] for o in orders)
    assert any(o["test"] for o in orders) or len(orders) < 200
    assert any(o["cancelled_at"] and o["cancel_reason"] for o in orders)
    statuses = {o["financial_status"] for o in orders}
    assert {"paid", "refunded", "partially_refunded"} <= statuses


def test_single_record_gets(base: Admin) -> None:
    for resource, key in (
        ("orders", "order"),
        ("customers", "customer"),
        ("products", "product"),
        ("checkouts", "checkout"),
    ):
        first = base.get(f"{resource}.json", limit=1, status="any").json()[resource][0]
        assert base.get(f"{resource}/{first['id']}.json").json() == {key: first}


def test_checkout_shape(base: Admin) -> None:
    checkouts = base.walk("checkouts", limit=250)
    c = checkouts[0]
    assert {
        "id",
        "token",
        "cart_token",
        "email",
        "abandoned_checkout_url",
        "completed_at",
        "created_at",
        "updated_at",
        "currency",
        "total_price",
        "subtotal_price",
        "line_items",
        "customer",
    } <= set(c)
    assert any(c["completed_at"] for c in checkouts)
    assert any(c["completed_at"] is None for c in checkouts)
    assert any(c["customer"] is None and c["email"] for c in checkouts)


def test_product_shape(base: Admin) -> None:
    product = base.get("products.json", limit=1).json()["products"][0]
    assert product["variants"] and MONEY.match(product["variants"][0]["price"])
    assert product["variants"][0]["product_id"] == product["id"]
    assert product["options"] and "images" in product


def test_zero_decimal_currency(sim: RunningSimulator) -> None:
    shops = httpx.get(f"{sim.base_url}/_sim/shops").json()
    yen = Admin(sim, next(s for s in shops if s["name"] == "yen"))
    order = yen.get("orders.json", status="any", limit=1).json()["orders"][0]
    assert order["currency"] == "JPY"
    assert re.match(r"^\d+$", order["total_price"])
    assert order["created_at"].endswith("+09:00")


def test_access_scopes(base: Admin) -> None:
    response = base.http.get(f"{base.sim.base_url}/{base.domain}/admin/oauth/access_scopes.json")
    assert {"handle": "read_orders"} in response.json()["access_scopes"]


def test_sim_shop_listing(sim: RunningSimulator) -> None:
    shops = httpx.get(f"{sim.base_url}/_sim/shops").json()
    assert {"domain", "token", "webhook_secret", "currency", "timezone"} <= set(shops[0])
    assert sim.shop("base").domain == "base.myshopify.com"
    bad = httpx.post(f"{sim.base_url}/_sim/shops", json={"name": "Bad Name!"})
    assert bad.status_code == 422
    dup = httpx.post(f"{sim.base_url}/_sim/shops", json={"name": "base", "orders": 5})
    assert dup.status_code == 422
