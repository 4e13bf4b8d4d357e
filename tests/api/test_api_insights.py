"""Dashboard and abandoned carts: seed shapes, figures per range, date validation."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from tests.api.conftest import make_settings

pytestmark = pytest.mark.anyio

RANGE = {"startDate": "2024-06-21", "endDate": "2024-06-30"}


@pytest.fixture
async def shop(register, make_tenant, fill_marts):
    owner = await register()
    tenant = make_tenant(owner)
    fill_marts(tenant, days=10, orders_per_day=2)  # 2024-06-21 .. 2024-06-30
    return owner, tenant


async def test_dashboard_shape_and_figures(client, shop):
    owner, tenant = shop
    params = {"startDate": "2024-06-15", "endDate": "2024-06-30"}
    response = await client.get(
        "/api/insights/dashboard", params=params, headers=owner.headers(tenant)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) >= {
        "totalCustomers",
        "totalOrders",
        "totalRevenue",
        "ordersByDate",
        "topCustomers",
        "revenueByProduct",
        "abandonedCarts",
    }
    days = body["ordersByDate"]
    assert len(days) == 16 and days[0] == {"date": "2024-06-15", "orders": 0, "revenue": 0.0}
    assert days[-1] == {"date": "2024-06-30", "orders": 2, "revenue": 21.0}
    assert body["totalOrders"] == 20 and body["totalRevenue"] == 210.0
    assert body["totalCustomers"] == 10 and body["abandonedCarts"] == 10
    top = body["topCustomers"]
    assert len(top) == 5
    assert set(top[0]) == {"firstName", "lastName", "email", "totalSpent", "ordersCount"}
    assert top[0]["totalSpent"] == 21.0 and top[0]["ordersCount"] == 2
    products = body["revenueByProduct"]
    assert {p["product"] for p in products} == {"Product 1", "Product 2", "Product 3"}
    assert sum(p["revenue"] for p in products) == 210.0
    assert set(products[0]) == {"product", "name", "revenue", "quantity"}
    assert all(p["name"] == p["product"] for p in products)
    assert body["currency"] == "EUR" and body["timeZone"] == "Europe/Berlin"


async def test_every_figure_respects_the_range(client, shop):
    owner, tenant = shop
    params = {"startDate": "2024-06-29", "endDate": "2024-06-30"}
    body = (
        await client.get("/api/insights/dashboard", params=params, headers=owner.headers(tenant))
    ).json()
    assert [d["date"] for d in body["ordersByDate"]] == ["2024-06-29", "2024-06-30"]
    assert body["totalOrders"] == 4 and body["totalCustomers"] == 2
    assert body["abandonedCarts"] == 2 and len(body["topCustomers"]) == 2
    assert sum(p["quantity"] for p in body["revenueByProduct"]) == 4


async def test_default_range_is_the_last_30_days(client, shop):
    owner, tenant = shop
    body = (await client.get("/api/insights/dashboard", headers=owner.headers(tenant))).json()
    assert len(body["ordersByDate"]) == 30


@pytest.mark.parametrize(
    "params",
    [
        {"startDate": "2024-13-01"},
        {"startDate": "yesterday"},
        {"startDate": "2024-06-30", "endDate": "2024-06-01"},
        {"startDate": "2020-01-01", "endDate": "2024-01-01"},
        {"endDate": "2024-02-30"},
    ],
)
async def test_bad_dates_are_400(client, shop, params):
    owner, tenant = shop
    for path in ("/api/insights/dashboard", "/api/insights/abandoned-carts"):
        response = await client.get(path, params=params, headers=owner.headers(tenant))
        assert response.status_code == 400, (path, params)
        assert response.json()["error"]


async def test_iso_timestamps_are_accepted(client, shop):
    owner, tenant = shop
    params = {"startDate": "2024-06-29T00:00:00.000Z", "endDate": "2024-06-30T23:59:59Z"}
    response = await client.get(
        "/api/insights/dashboard", params=params, headers=owner.headers(tenant)
    )
    assert response.status_code == 200 and len(response.json()["ordersByDate"]) == 2


async def test_abandoned_carts_shape(client, shop):
    owner, tenant = shop
    response = await client.get(
        "/api/insights/abandoned-carts", params=RANGE, headers=owner.headers(tenant)
    )
    carts = response.json()
    assert response.status_code == 200 and len(carts) == 10
    cart = carts[0]
    assert set(cart) == {"id", "type", "customer", "data", "createdAt"}
    assert cart["type"] == "cart_abandoned"
    assert set(cart["customer"]) == {"firstName", "lastName", "email"}
    assert set(cart["data"]) == {"cart", "abandonedAt"}
    assert cart["data"]["cart"] == [{"title": "Mug", "quantity": 1}]
    limited = await client.get(
        "/api/insights/abandoned-carts",
        params={**RANGE, "limit": 3},
        headers=owner.headers(tenant),
    )
    assert len(limited.json()) == 3
    for bad in (0, -1, 10_000, "x"):
        response = await client.get(
            "/api/insights/abandoned-carts",
            params={**RANGE, "limit": bad},
            headers=owner.headers(tenant),
        )
        assert response.status_code == 400


async def test_dashboard_cache_follows_mart_builds(client, shop, api_database):
    import psycopg

    owner, tenant = shop
    first = (
        await client.get("/api/insights/dashboard", params=RANGE, headers=owner.headers(tenant))
    ).json()
    with psycopg.connect(api_database, autocommit=True) as conn:
        conn.execute(
            "update marts.agg_revenue_daily set order_count = order_count + 1 where tenant_id = %s",
            (tenant,),
        )
        cached = (
            await client.get("/api/insights/dashboard", params=RANGE, headers=owner.headers(tenant))
        ).json()
        assert cached == first
        conn.execute("insert into app.mart_builds (tenant_id) values (%s)", (tenant,))
    fresh = (
        await client.get("/api/insights/dashboard", params=RANGE, headers=owner.headers(tenant))
    ).json()
    assert fresh["totalOrders"] == first["totalOrders"] + 10


async def test_an_expired_dashboard_is_served_while_one_refresh_recomputes_it(
    shop, api_database, simulator
):
    """Past DASHBOARD_CACHE_SECONDS (no new build) readers get the cached body at once;
    the refresh it triggered makes the next read current."""
    import psycopg

    owner, tenant = shop
    settings = make_settings(api_database, simulator, DASHBOARD_CACHE_SECONDS="1")
    async with AsyncTestClient(app=create_app(settings)) as client:

        async def orders() -> int:
            response = await client.get(
                "/api/insights/dashboard", params=RANGE, headers=owner.headers(tenant)
            )
            return response.json()["totalOrders"]

        first = await orders()
        with psycopg.connect(api_database, autocommit=True) as conn:
            conn.execute(
                "update marts.agg_revenue_daily set order_count = order_count + 1 "
                "where tenant_id = %s",
                (tenant,),
            )
        await asyncio.sleep(1.2)
        assert await orders() == first  # expired: served, and a refresh starts
        for _ in range(50):
            if await orders() == first + 10:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the background refresh never landed")
