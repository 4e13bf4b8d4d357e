"""Simulator -> API sync request -> worker (ingestion, then dbt) -> dashboard equals the truth."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from core.settings import get_settings
from orchestration.worker import Worker
from tests.api.conftest import make_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_dashboard_equals_the_simulator_truth(register, simulator, api_database, monkeypatch):
    # the worker reads the environment, like `xeno worker` does
    monkeypatch.setenv("DATABASE_URL", api_database)
    monkeypatch.setenv("SHOPIFY_ENDPOINT_TEMPLATE", simulator.endpoint_template)
    get_settings.cache_clear()
    settings = make_settings(api_database, simulator, WORKER_FIRST_SYNCS="false")
    worker = Worker(settings)
    worker.start()
    shop = simulator.shop("gamma")
    truth = httpx.get(f"{simulator.base_url}/_sim/{shop.domain}/truth").json()
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            owner = await register_via(client)
            created = await client.post(
                "/api/tenant",
                json={"name": "Gamma", "shopifyDomain": shop.domain, "shopifyToken": shop.token},
                headers=owner,
            )
            assert created.status_code == 201, created.text
            tenant = created.json()["id"]
            headers = {**owner, "x-tenant-id": tenant}
            sync = await client.post("/api/shopify/sync", headers=headers)
            assert sync.status_code == 202
            sync_id = sync.json()["syncId"]
            for _ in range(240):
                run = (await client.get(f"/api/shopify/sync/{sync_id}", headers=headers)).json()
                if run["status"] in ("succeeded", "failed"):
                    break
                await asyncio.sleep(0.5)
            assert run["status"] == "succeeded", run
            assert run["rowsLoaded"].get("orders", 0) >= truth["counts"]["orders_all"]
            for _ in range(240):  # the build follows the load; it invalidates the cache
                body = (await client.get("/api/insights/dashboard", headers=headers)).json()
                today = datetime.now(UTC).date()
                params = {
                    "startDate": (today - timedelta(days=90)).isoformat(),
                    "endDate": (today + timedelta(days=1)).isoformat(),
                }
                body = (
                    await client.get("/api/insights/dashboard", params=params, headers=headers)
                ).json()
                if body["totalOrders"]:
                    break
                await asyncio.sleep(0.5)
    finally:
        worker.shutdown()
        get_settings.cache_clear()

    assert body["totalOrders"] == truth["counts"]["orders_counted"]
    assert body["currency"] == shop.currency and body["timeZone"] == shop.timezone
    assert Decimal(str(body["totalRevenue"])) == Decimal(truth["totals"]["total_revenue"])
    by_day = {d["date"]: d for d in truth["revenue_by_day"]}
    for day in body["ordersByDate"]:
        expected = by_day.get(day["date"], {"orders": 0, "total_revenue": "0"})
        assert day["orders"] == expected["orders"], day
        assert Decimal(str(day["revenue"])) == Decimal(expected["total_revenue"]), day
    assert body["totalCustomers"] == len(truth["revenue_by_customer"])
    best = sorted(
        truth["revenue_by_customer"], key=lambda c: (-Decimal(c["spend"]), c["customer_id"])
    )
    assert [
        (c["email"], Decimal(str(c["totalSpent"])), c["ordersCount"]) for c in body["topCustomers"]
    ] == [(c["email"], Decimal(c["spend"]), c["orders"]) for c in best[:5]]
    products = sorted(Decimal(p["revenue"]) for p in truth["revenue_by_product"])[::-1][:10]
    assert [Decimal(str(p["revenue"])) for p in body["revenueByProduct"]] == products
    assert body["abandonedCarts"] == truth["counts"]["checkouts_abandoned"]


async def register_via(client) -> dict[str, str]:
    import uuid

    from tests.api.conftest import PASSWORD

    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    response = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}
