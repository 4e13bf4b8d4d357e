"""The main job end to end, through HTTP only, as a new user and Shopify would drive it.

register → log in → connect a simulator store → register webhooks → sync (202, poll) →
dashboard equals the store's truth → orders and an abandoned checkout are created in the
store → Shopify-style webhooks arrive → the worker applies them and the dashboard shows
them → a second user sees none of it. Only `xeno api` and `xeno worker` (real processes),
the simulator and PostgreSQL are involved; no Python call reaches into Xeno.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.api.conftest import PASSWORD
from tests.ingestion.conftest import Simulator, ingestion_env, sim, simulator_url
from tests.webhooks.conftest import server_factory, wh_database, worker_factory

__all__ = [
    "ingestion_env",
    "server_factory",
    "sim",
    "simulator_url",
    "wh_database",
    "worker_factory",
]


def _wait(check: Callable[[], Any], what: str, timeout: float = 180) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(1)


def _login(api: httpx.Client, email: str) -> dict[str, str]:
    assert (
        api.post("/api/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )
    response = api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _dashboard(api: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    today = date.today()
    params = {
        "startDate": (today - timedelta(days=400)).isoformat(),
        "endDate": (today + timedelta(days=1)).isoformat(),
    }
    response = api.get("/api/insights/dashboard", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _differences(board: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """Where the dashboard disagrees with the store's truth (empty: it agrees)."""
    found = []
    if board["totalOrders"] != truth["counts"]["orders_counted"]:
        found.append(f"orders {board['totalOrders']} != {truth['counts']['orders_counted']}")
    if Decimal(str(board["totalRevenue"])) != Decimal(truth["totals"]["total_revenue"]):
        found.append(f"revenue {board['totalRevenue']} != {truth['totals']['total_revenue']}")
    if board["abandonedCarts"] != truth["counts"]["checkouts_abandoned"]:
        found.append(f"carts {board['abandonedCarts']} != {truth['counts']['checkouts_abandoned']}")
    days = {d["date"]: d for d in board["ordersByDate"]}
    for day in truth["revenue_by_day"]:
        shown = days.get(day["date"], {"orders": 0, "revenue": 0})
        if (shown["orders"], Decimal(str(shown["revenue"]))) != (
            day["orders"],
            Decimal(day["total_revenue"]),
        ):
            found.append(f"day {day['date']}: {shown} != {day}")
    return found


def test_newcomer_path(sim: Simulator, server_factory, worker_factory) -> None:
    shop = sim.shop(orders=80, days=45, currency="EUR", timezone="Europe/Berlin")
    server = server_factory(DASHBOARD_CACHE_SECONDS="60")
    worker_factory()
    with httpx.Client(base_url=server.url, timeout=60) as api:
        owner = _login(api, f"owner-{shop['name']}@example.com")
        created = api.post(
            "/api/tenant",
            headers=owner,
            json={
                "name": "Berlin Boutique",
                "shopifyDomain": shop["domain"],
                "shopifyToken": shop["token"],
                "webhookSecret": shop["webhook_secret"],
            },
        )
        assert created.status_code == 201, created.text
        tenant = {**owner, "x-tenant-id": created.json()["id"]}
        assert "shopifyToken" not in created.text and shop["token"] not in created.text

        hooks = api.post("/api/shopify/webhooks/register", headers=tenant)
        assert hooks.status_code == 200, hooks.text
        assert {h["status"] for h in hooks.json()["webhooks"]} == {"created"}

        accepted = api.post("/api/shopify/sync", headers=tenant)
        assert accepted.status_code == 202, accepted.text
        sync_url = f"/api/shopify/sync/{accepted.json()['syncId']}"
        run = _wait(
            lambda: (
                (r := api.get(sync_url, headers=tenant).json())["status"] in {"succeeded", "failed"}
                and r
            ),
            "the first sync",
        )
        assert run["status"] == "succeeded", run
        assert _differences(_dashboard(api, tenant), sim.truth(shop["domain"])) == []

        for _ in range(2):
            sim.create(shop["domain"], "orders", {})
        sim.create(shop["domain"], "checkouts", {})
        truth = sim.truth(shop["domain"])
        _wait(
            lambda: not _differences(_dashboard(api, tenant), truth),
            "webhooks to reach the dashboard",
        )

        stranger = _login(api, f"stranger-{shop['name']}@example.com")
        assert api.get("/api/tenant", headers=stranger).json() == []
        for path in ("/api/insights/dashboard", "/api/shopify/orders", sync_url):
            denied = api.get(path, headers={**stranger, "x-tenant-id": tenant["x-tenant-id"]})
            assert denied.status_code in {403, 404}, (path, denied.status_code)
