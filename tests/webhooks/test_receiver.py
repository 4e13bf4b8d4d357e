"""The receiver: only verified deliveries are stored, each exactly once, durably."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import psycopg

from tests.webhooks.conftest import Shop, stored

BODY = json.dumps({"id": 1, "updated_at": "2024-06-01T10:00:00-04:00"}).encode()


def post(url: str, shop: Shop, body: bytes, headers: dict[str, str], tenant: object = None):
    return httpx.post(
        f"{url}/api/webhook/{tenant or shop.tenant.id}", content=body, headers=headers
    )


def test_unverified_deliveries_get_401_and_nothing_is_stored(server, make_shop, conn):
    shop, other = make_shop(), make_shop()
    good = shop.headers(BODY, "orders/create")
    cases = {
        "bad signature": {
            **good,
            "X-Shopify-Hmac-Sha256": shop.headers(b"{}", "x")["X-Shopify-Hmac-Sha256"],
        },
        "another shop's signature": other.headers(BODY, "orders/create"),
        "wrong shop domain": {**good, "X-Shopify-Shop-Domain": other.domain},
        "missing hmac": {k: v for k, v in good.items() if k != "X-Shopify-Hmac-Sha256"},
        "missing webhook id": {k: v for k, v in good.items() if k != "X-Shopify-Webhook-Id"},
        "missing topic": {k: v for k, v in good.items() if k != "X-Shopify-Topic"},
    }
    for case, headers in cases.items():
        response = post(server.url, shop, BODY, headers)
        assert response.status_code == 401, case
        assert "error" in response.json(), case
    for tenant in (uuid.uuid4(), "not-a-uuid"):
        assert post(server.url, shop, BODY, good, tenant).status_code == 401
    assert stored(conn, shop.tenant.id) == 0
    assert post(server.url, shop, BODY, good).json() == {"received": True}
    assert stored(conn, shop.tenant.id) == 1


def test_no_secret_anywhere_means_401(server, make_shop, conn):
    shop = make_shop()
    conn.execute(
        "update app.tenants set webhook_secret_encrypted = null where id = %s", (shop.tenant.id,)
    )
    response = post(server.url, shop, BODY, shop.headers(BODY, "orders/create"))
    assert response.status_code == 401  # SHOPIFY_API_SECRET is unset: no fallback secret
    assert stored(conn, shop.tenant.id) == 0


def test_a_signed_body_that_is_not_json_is_a_400_and_not_stored(server, make_shop, conn):
    shop = make_shop()
    for body in (b"not json", b"\xff\xfe"):
        response = post(server.url, shop, body, shop.headers(body, "orders/create"))
        assert response.status_code == 400, body
        assert "JSON" in response.json()["error"]
    assert stored(conn, shop.tenant.id) == 0


def test_oversized_body_is_refused(server, make_shop, conn):
    shop = make_shop()
    body = b'{"pad": "' + b"x" * 3_000_000 + b'"}'
    assert post(server.url, shop, body, shop.headers(body, "orders/create")).status_code == 413
    assert stored(conn, shop.tenant.id) == 0


async def deliver(
    url: str, deliveries: list[tuple[bytes, dict]], concurrency: int = 64
) -> list[int]:
    """POST every delivery, `concurrency` at a time; the status of each (0: no answer)."""
    limits = httpx.Limits(max_connections=concurrency)
    statuses = [0] * len(deliveries)
    async with httpx.AsyncClient(limits=limits, timeout=10) as client:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(i: int, body: bytes, headers: dict) -> None:
            async with semaphore:
                try:
                    statuses[i] = (
                        await client.post(url, content=body, headers=headers)
                    ).status_code
                except httpx.HTTPError:
                    statuses[i] = 0

        await asyncio.gather(*(one(i, b, h) for i, (b, h) in enumerate(deliveries)))
    return statuses


def signed_orders(shop: Shop, n: int, duplicate_every: int = 10) -> list[tuple[bytes, dict]]:
    deliveries = []
    for i in range(n):
        body = json.dumps({"id": 10_000 + i, "updated_at": "2024-06-01T10:00:00Z"}).encode()
        deliveries.append((body, shop.headers(body, "orders/updated")))
    duplicates = deliveries[::duplicate_every]
    return deliveries + duplicates


def test_concurrent_deliveries_with_duplicates_are_stored_exactly_once(server, make_shop, conn):
    shop = make_shop()
    deliveries = signed_orders(shop, 1_000)  # + 100 duplicates (10%)
    url = f"{server.url}/api/webhook/{shop.tenant.id}"
    statuses = asyncio.run(deliver(url, deliveries))
    assert statuses.count(200) == 1_100
    assert stored(conn, shop.tenant.id) == 1_000


def test_every_acknowledged_delivery_survives_sigkill(server_factory, make_shop, conn):
    shop = make_shop()
    victim = server_factory()
    deliveries = signed_orders(shop, 3_000, duplicate_every=3_001)
    url = f"{victim.url}/api/webhook/{shop.tenant.id}"

    async def load_and_kill() -> list[int]:
        task = asyncio.create_task(deliver(url, deliveries, concurrency=32))
        while stored_now() < 300:
            await asyncio.sleep(0.02)
        victim.kill()
        return await task

    def stored_now() -> int:
        with psycopg.connect(conn.info.dsn, autocommit=True) as c:
            return stored(c, shop.tenant.id)

    statuses = asyncio.run(load_and_kill())
    acknowledged = {
        deliveries[i][1]["X-Shopify-Webhook-Id"] for i, s in enumerate(statuses) if s == 200
    }
    assert 300 <= len(acknowledged) < len(deliveries)  # the kill landed mid-load
    server_factory()  # restart: recovery needs nothing
    kept = {
        row[0]
        for row in conn.execute(
            "select webhook_id from app.webhook_events where tenant_id = %s", (shop.tenant.id,)
        )
    }
    assert acknowledged <= kept


def test_a_signed_body_that_is_not_an_object_is_a_400_and_not_stored(server, make_shop, conn):
    shop = make_shop()
    for body in (b"42", b'"text"', b"[1, 2]", b"null", b" true", b"[" * 50_000 + b"]" * 50_000):
        response = post(server.url, shop, body, shop.headers(body, "orders/create"))
        assert response.status_code == 400, body[:20]
    deep = b'{"a":' * 100 + b"1" + b"}" * 100
    assert post(server.url, shop, deep, shop.headers(deep, "orders/create")).status_code == 400
    assert stored(conn, shop.tenant.id) == 0


def test_nul_in_a_signed_delivery_is_stored_as_a_replacement_character(server, make_shop, conn):
    shop = make_shop()
    body = b'{"id": 5, "note": "a\\u0000b", "kept": "\\\\u0000", "k\\u0000": 1}'
    response = post(server.url, shop, body, shop.headers(body, "orders/create"))
    assert response.status_code == 200, response.text
    payload = conn.execute(
        "select payload from app.webhook_events where tenant_id = %s", (shop.tenant.id,)
    ).fetchone()[0]
    assert payload == {"id": 5, "note": "a\ufffdb", "kept": "\\u0000", "k\ufffd": 1}
    raw_nul = b'{"id": 5, "note": "a\x00b"}'
    assert post(server.url, shop, raw_nul, shop.headers(raw_nul, "x/y")).status_code == 400


def test_oversized_shopify_headers_are_a_400_and_not_stored(server, make_shop, conn):
    shop = make_shop()
    for name in ("X-Shopify-Webhook-Id", "X-Shopify-Topic", "X-Shopify-Api-Version"):
        headers = {**shop.headers(BODY, "orders/create"), name: "w" * 5_000}
        response = post(server.url, shop, BODY, headers)
        assert response.status_code == 400, (name, response.text)
        assert "longer" in response.json()["error"]
    assert stored(conn, shop.tenant.id) == 0
