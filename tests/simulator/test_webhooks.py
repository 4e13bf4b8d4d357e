"""Webhook subscriptions and signed deliveries, checked by a real HTTP receiver."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.simulator.sim_helpers import Admin

FAST = {"backoff_ms": 20, "max_backoff_ms": 100, "max_retries": 3}


class Receiver:
    """Records POSTs; answers 500 to the first ``fail_first`` attempts of each webhook id."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = 0
        self._attempts: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                webhook_id = self.headers["X-Shopify-Webhook-Id"]
                seen = receiver._attempts.get(webhook_id, 0)
                receiver._attempts[webhook_id] = seen + 1
                status = 500 if seen < receiver.fail_first else 200
                if status == 200:
                    receiver.received.append((dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait(self, n: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def subscribe(shop: Admin, topic: str, address: str) -> httpx.Response:
    return shop.http.post(
        f"{shop.url}/webhooks.json",
        json={"webhook": {"topic": topic, "address": address, "format": "json"}},
    )


def test_subscription_crud(fresh: Admin, receiver: Receiver) -> None:
    created = subscribe(fresh, "orders/create", receiver.url)
    assert created.status_code == 201
    hook = created.json()["webhook"]
    assert {
        "id",
        "address",
        "topic",
        "created_at",
        "updated_at",
        "format",
        "api_version",
        "fields",
        "metafield_namespaces",
    } <= set(hook)
    assert hook["api_version"] == "2024-10"
    duplicate = subscribe(fresh, "orders/create", receiver.url)
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": {"address": ["for this topic has already been taken"]}}
    assert subscribe(fresh, "orders/nope", receiver.url).status_code == 422
    assert subscribe(fresh, "orders/updated", receiver.url).status_code == 201
    assert fresh.get("webhooks/count.json").json() == {"count": 2}
    listed = fresh.get("webhooks.json", topic="orders/create").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert fresh.get(f"webhooks/{hook['id']}.json").json()["webhook"] == hook
    assert fresh.http.delete(f"{fresh.url}/webhooks/{hook['id']}.json").status_code == 200
    assert fresh.get("webhooks/count.json").json() == {"count": 1}
    assert fresh.http.delete(f"{fresh.url}/webhooks/{hook['id']}.json").status_code == 404


def test_deliveries_are_signed(fresh: Admin, receiver: Receiver) -> None:
    fresh.sim_call("PUT", "webhook_delivery", FAST)
    for topic in (
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/delete",
        "customers/create",
        "products/update",
        "checkouts/update",
    ):
        assert subscribe(fresh, topic, receiver.url).status_code == 201
    order = fresh.sim_call("POST", "orders", {}).json()["order"]
    fresh.sim_call("PUT", f"orders/{order['id']}", {"cancel": True, "reason": "customer"})
    fresh.sim_call("DELETE", f"orders/{order['id']}")
    fresh.sim_call("POST", "customers", {"first_name": "Ada"})
    product = fresh.get("products.json", limit=1).json()["products"][0]
    fresh.sim_call("PUT", f"products/{product['id']}", {"title": "Renamed"})
    checkout = fresh.get("checkouts.json", limit=1).json()["checkouts"][0]
    fresh.sim_call("PUT", f"checkouts/{checkout['id']}", {"completed": True})
    got = receiver.wait(7)
    assert sorted(h["X-Shopify-Topic"] for h, _ in got) == [
        "checkouts/update",
        "customers/create",
        "orders/cancelled",
        "orders/create",
        "orders/delete",
        "orders/updated",
        "products/update",
    ]
    secret = fresh.info["webhook_secret"].encode()
    for headers, body in got:
        digest = hmac.new(secret, body, hashlib.sha256).digest()
        assert headers["X-Shopify-Hmac-Sha256"] == base64.b64encode(digest).decode()
        assert headers["X-Shopify-Shop-Domain"] == fresh.domain
        assert headers["X-Shopify-API-Version"] == "2024-10"
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Shopify-Webhook-Id"] and headers["X-Shopify-Event-Id"]
        assert headers["X-Shopify-Triggered-At"].endswith("Z")
    bodies = {h["X-Shopify-Topic"]: json.loads(b) for h, b in got}
    assert bodies["orders/delete"] == {"id": order["id"]}
    assert bodies["orders/create"]["id"] == order["id"]
    assert bodies["orders/cancelled"]["cancelled_at"] is not None
    assert bodies["customers/create"]["first_name"] == "Ada"
    assert bodies["checkouts/update"]["completed_at"] is not None


def test_retries_after_errors_keep_the_webhook_id(fresh: Admin, receiver: Receiver) -> None:
    fresh.sim_call("PUT", "webhook_delivery", FAST)
    receiver.fail_first = 2
    subscribe(fresh, "customers/create", receiver.url)
    fresh.sim_call("POST", "customers", {})
    ((headers, _),) = receiver.wait(1)
    log = fresh.sim_call("GET", "deliveries").json()["deliveries"]
    assert log[0]["status"] == "delivered"
    assert log[0]["attempts"] == 3
    assert log[0]["responses"] == [500, 500, 200]
    assert log[0]["webhook_id"] == headers["X-Shopify-Webhook-Id"]


def test_gives_up_after_max_retries(fresh: Admin, receiver: Receiver) -> None:
    fresh.sim_call("PUT", "webhook_delivery", {**FAST, "max_retries": 1})
    receiver.fail_first = 10
    subscribe(fresh, "customers/create", receiver.url)
    fresh.sim_call("POST", "customers", {})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        log = fresh.sim_call("GET", "deliveries").json()["deliveries"]
        if log and log[0]["status"] != "pending":
            break
        time.sleep(0.02)
    assert log[0]["status"] == "failed" and log[0]["attempts"] == 2


def test_duplicates_share_the_webhook_id(fresh: Admin, receiver: Receiver) -> None:
    fresh.sim_call("PUT", "webhook_delivery", {**FAST, "duplicate_rate": 1.0})
    subscribe(fresh, "customers/create", receiver.url)
    fresh.sim_call("POST", "customers", {})
    first, second = receiver.wait(2)
    assert first[0]["X-Shopify-Webhook-Id"] == second[0]["X-Shopify-Webhook-Id"]
    assert first[1] == second[1]


def test_shuffle_delivers_out_of_order(fresh: Admin, receiver: Receiver) -> None:
    fresh.sim_call("PUT", "webhook_delivery", {**FAST, "shuffle": True, "shuffle_window_ms": 300})
    subscribe(fresh, "customers/create", receiver.url)
    created = [fresh.sim_call("POST", "customers", {}).json()["customer"]["id"] for _ in range(12)]
    got = [json.loads(body)["id"] for _, body in receiver.wait(12)]
    assert sorted(got) == sorted(created)
    assert got != created
