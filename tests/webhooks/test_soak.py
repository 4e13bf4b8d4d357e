"""Soak: the live loop under steady traffic keeps its queues bounded and its promises.

Several simulated shops receive new orders for SOAK_SECONDS (45 s in CI; set
XENO_SOAK_SECONDS for longer) while their webhooks reach a real `xeno api` and a real
`xeno worker` applies them. Asserted throughout: the work waiting never exceeds one unit
per tenant and no event waits long; in the middle, a user's sync starts within its bound
and finishes; at the end every order created reaches the marts.
"""

from __future__ import annotations

import os
import random
import threading
import time

import httpx
import psycopg

from core.settings import get_settings
from dbt_project.runner import build_tenants
from ingestion.sync import run_sync
from tests.webhooks.conftest import Shop, register_owner
from tests.webhooks.test_apply import wait_until

SOAK_SECONDS = float(os.environ.get("XENO_SOAK_SECONDS", "45"))
SHOPS = 4
ORDERS_PER_SECOND = 4.0
# A user's sync must start this soon after the request (a sync lane is reserved for them).
SYNC_START_SECONDS = 15.0
# No due event may wait longer than this while the loop keeps up.
OLDEST_EVENT_SECONDS = 90.0


def subscribe(sim, shop: Shop, server_url: str) -> None:
    """The shop delivers order webhooks to the API, as a registered store would."""
    address = f"{server_url}/api/webhook/{shop.tenant.id}"
    for topic in ("orders/create", "orders/updated"):
        response = sim.http.post(
            f"/{shop.domain}/admin/api/2024-10/webhooks.json",
            json={"webhook": {"topic": topic, "address": address, "format": "json"}},
            headers={"X-Shopify-Access-Token": shop.info["token"]},
        )
        assert response.status_code == 201, response.text


def backlog(conn: psycopg.Connection) -> tuple[int, int, float]:
    """(queued syncs, tenants with due events, seconds the oldest due event has waited),
    as /metrics reads them."""
    queues = {q: (units, oldest) for q, units, oldest in
              conn.execute("select * from app.live_loop_backlog()")}  # fmt: skip
    return queues["syncs"][0], queues["webhook_tenants"][0], queues["webhook_tenants"][1]


def test_live_loop_soak(sim, make_shop, server_factory, worker_factory, conn, database_url):
    shops = [make_shop(orders=10, customers=5) for _ in range(SHOPS)]
    server = server_factory()
    for shop in shops:
        subscribe(sim, shop, server.url)
        run_sync(shop.tenant.id, get_settings())
    build_tenants(get_settings(), [(s.tenant.id, s.tenant.raw_schema) for s in shops])
    tenants_total = conn.execute("select count(*) from app.tenants").fetchone()[0]
    worker_factory()

    created: dict[str, list[int]] = {str(s.tenant.id): [] for s in shops}
    samples: list[tuple[int, int, float]] = []
    stop = threading.Event()

    def traffic() -> None:
        rng = random.Random(7)
        while not stop.is_set():
            shop = rng.choice(shops)
            order = sim.create(shop.domain, "orders", {})["order"]
            created[str(shop.tenant.id)].append(order["id"])
            stop.wait(1 / ORDERS_PER_SECOND)

    def watch() -> None:
        with psycopg.connect(database_url, autocommit=True) as c:
            while not stop.is_set():
                samples.append(backlog(c))
                stop.wait(1.0)

    threads = [threading.Thread(target=traffic), threading.Thread(target=watch)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(SOAK_SECONDS / 2)
        user = shops[0]
        headers, user_id = register_owner(server.url)
        conn.execute(
            "insert into app.memberships (tenant_id, user_id, role) values (%s, %s, 'owner')",
            (user.tenant.id, user_id),
        )
        headers["x-tenant-id"] = str(user.tenant.id)
        requested = time.monotonic()
        accepted = httpx.post(f"{server.url}/api/shopify/sync", headers=headers)
        assert accepted.status_code == 202, accepted.text
        sync_url = f"{server.url}/api/shopify/sync/{accepted.json()['syncId']}"

        def status() -> str:
            return httpx.get(sync_url, headers=headers).json()["status"]

        wait_until(lambda: status() != "queued", SYNC_START_SECONDS)
        started_after = time.monotonic() - requested
        wait_until(lambda: status() in {"succeeded", "failed"}, 180)
        assert status() == "succeeded"
        time.sleep(max(0.0, SOAK_SECONDS / 2 - (time.monotonic() - requested)))
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert samples, "the watcher sampled nothing"
    assert max(queued for queued, _, _ in samples) <= tenants_total
    assert max(due for _, due, _ in samples) <= tenants_total
    oldest = max(age for _, _, age in samples)
    assert oldest < OLDEST_EVENT_SECONDS, f"an event waited {oldest:.0f} s"
    assert started_after < SYNC_START_SECONDS

    def missing() -> dict[str, int]:
        gaps = {}
        for tenant, ids in created.items():
            found = conn.execute(
                "select count(*) from marts.fct_orders where tenant_id = %s and order_id = any(%s)",
                (tenant, ids),
            ).fetchone()[0]
            if found != len(ids):
                gaps[tenant] = len(ids) - found
        return gaps

    wait_until(lambda: not missing(), 120, why=missing)
    assert sum(len(ids) for ids in created.values()) >= SOAK_SECONDS * ORDERS_PER_SECOND / 2
