"""The demo of `xeno dev --demo`, set up through the public HTTP API only.

A demo user is registered (or logged in on a second run), each simulated shop is
connected as a tenant with its webhook secret, webhooks are registered and a first sync
is requested and awaited — exactly the calls a frontend would make, so the demo also
proves the contract. Core stays free of layer imports: this module speaks HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

DEMO_EMAIL = "demo@xeno.dev"
DEMO_PASSWORD = "demo-password-1234"  # noqa: S105 - development demo account
FINISHED = {"succeeded", "failed"}


class DemoError(RuntimeError):
    """A demo step failed; the message names the step and the API's answer."""


@dataclass
class DemoTenant:
    id: str
    name: str
    shop_domain: str
    sync_status: str = "queued"
    webhooks: dict[str, int] = field(default_factory=dict)


@dataclass
class Demo:
    api_url: str
    token: str
    tenants: list[DemoTenant]


def wait_until_up(url: str, *, timeout: float = 120.0) -> None:
    """Poll `url` until it answers 200 (a component is still starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"{url} did not come up within {timeout:.0f} s")
        time.sleep(0.5)


def _check(response: httpx.Response, step: str, *ok: int) -> Any:
    if response.status_code not in ok:
        raise DemoError(f"{step}: HTTP {response.status_code} {response.text[:300]}")
    return response.json()


def _login(client: httpx.Client) -> str:
    credentials = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    response = client.post("/api/auth/register", json=credentials)
    if response.status_code == 409:  # a second run: the demo user exists
        response = client.post("/api/auth/login", json=credentials)
    token: str = _check(response, "log in the demo user", 200, 201)["token"]
    return token


def _connect(client: httpx.Client, shops: list[dict[str, Any]]) -> list[DemoTenant]:
    existing = {t["shopifyDomain"]: t for t in _check(client.get("/api/tenant"), "list", 200)}
    connected = []
    for shop in shops:
        tenant = existing.get(shop["domain"])
        if tenant is None:
            body = {
                "name": f"Demo {shop['name']} ({shop['currency']})",
                "shopifyDomain": shop["domain"],
                "shopifyToken": shop["token"],
                "webhookSecret": shop["webhook_secret"],
            }
            tenant = _check(client.post("/api/tenant", json=body), "connect a store", 201)
        connected.append(DemoTenant(tenant["id"], tenant["name"], shop["domain"]))
    return connected


def _register_webhooks(client: httpx.Client, tenant: DemoTenant) -> None:
    answer = _check(
        client.post("/api/shopify/webhooks/register", headers={"x-tenant-id": tenant.id}),
        f"register webhooks of {tenant.shop_domain}",
        200,
    )
    for hook in answer["webhooks"]:
        tenant.webhooks[hook["status"]] = tenant.webhooks.get(hook["status"], 0) + 1


def _sync(client: httpx.Client, tenants: list[DemoTenant], report: Callable[[str], None]) -> None:
    sync_ids = {}
    for tenant in tenants:
        response = client.post("/api/shopify/sync", headers={"x-tenant-id": tenant.id})
        sync_ids[tenant.id] = _check(response, f"sync {tenant.shop_domain}", 202)["syncId"]
    deadline = time.monotonic() + 900
    while any(t.sync_status not in FINISHED for t in tenants):
        if time.monotonic() > deadline:
            raise DemoError("the first syncs did not finish within 15 minutes")
        time.sleep(2)
        for tenant in (t for t in tenants if t.sync_status not in FINISHED):
            status = _check(
                client.get(
                    f"/api/shopify/sync/{sync_ids[tenant.id]}", headers={"x-tenant-id": tenant.id}
                ),
                "sync status",
                200,
            )
            if status["status"] != tenant.sync_status:
                tenant.sync_status = status["status"]
                report(f"  {tenant.shop_domain}: sync {tenant.sync_status}")


def set_up(api_url: str, simulator_url: str, report: Callable[[str], None]) -> Demo:
    """Connect every simulated shop for the demo user; return what to print."""
    wait_until_up(f"{simulator_url}/_sim/shops")
    wait_until_up(f"{api_url}/ready")
    shops = httpx.get(f"{simulator_url}/_sim/shops", timeout=10).json()
    with httpx.Client(base_url=api_url, timeout=60) as client:
        token = _login(client)
        client.headers["authorization"] = f"Bearer {token}"
        tenants = _connect(client, shops)
        for tenant in tenants:
            _register_webhooks(client, tenant)
            report(f"  {tenant.shop_domain}: webhooks {tenant.webhooks}")
        _sync(client, tenants, report)
    return Demo(api_url, token, tenants)


def instructions(demo: Demo) -> str:
    """The demo login and three copy-paste commands that show real insights."""
    first = demo.tenants[0].id
    auth = f'-H "Authorization: Bearer $TOKEN" -H "x-tenant-id: {first}"'
    return "\n".join(
        [
            f"demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}",
            f"dashboard page: {demo.api_url}/app (log in with the demo login)",
            "try:",
            f"  TOKEN=$(curl -s {demo.api_url}/api/auth/login -H 'content-type: application/json'"
            f' -d \'{{"email":"{DEMO_EMAIL}","password":"{DEMO_PASSWORD}"}}\''
            " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')",
            f"  curl -s {auth} {demo.api_url}/api/insights/dashboard",
            f"  curl -s {auth} '{demo.api_url}/api/shopify/orders?limit=5'",
            f"  curl -s {auth} {demo.api_url}/api/insights/abandoned-carts",
        ]
    )
