"""Store data listings: keyset pages, opaque cursors, bounded limits."""

from __future__ import annotations

import base64

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
async def shop(register, make_tenant, fill_marts):
    owner = await register()
    tenant = make_tenant(owner)
    fill_marts(tenant, days=10, orders_per_day=3)
    return owner, tenant


async def test_orders_page_through_without_gaps_or_repeats(client, shop):
    owner, tenant = shop
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            "/api/shopify/orders", params=params, headers=owner.headers(tenant)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"data", "count", "nextCursor"} and body["count"] == 30
        seen += [o["id"] for o in body["data"]]
        pages += 1
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert pages == 5 and len(seen) == len(set(seen)) == 30
    first = body["data"][0]
    assert first["totalPrice"] == 10.5 and "createdAt" in first


@pytest.mark.parametrize(("resource", "count"), [("products", 3), ("customers", 10)])
async def test_products_and_customers(client, shop, resource, count):
    owner, tenant = shop
    response = await client.get(
        f"/api/shopify/{resource}", params={"limit": 2}, headers=owner.headers(tenant)
    )
    body = response.json()
    assert response.status_code == 200 and body["count"] == count and len(body["data"]) == 2
    rest = await client.get(
        f"/api/shopify/{resource}",
        params={"limit": 250, "cursor": body["nextCursor"]},
        headers=owner.headers(tenant),
    )
    assert len(rest.json()["data"]) == count - 2 and rest.json()["nextCursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": -5},
        {"limit": 251},
        {"limit": "ten"},
        {"cursor": "%%%"},
        {"cursor": base64.urlsafe_b64encode(b'["x"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b'["not a time", 5]').decode()},
        {"cursor": base64.urlsafe_b64encode(b"[99999999999999999999999, 5]").decode()},
        {"cursor": "A" * 600},
    ],
)
async def test_bad_paging_is_400(client, shop, params):
    owner, tenant = shop
    response = await client.get("/api/shopify/orders", params=params, headers=owner.headers(tenant))
    assert response.status_code == 400, response.text
    assert response.json()["error"]
