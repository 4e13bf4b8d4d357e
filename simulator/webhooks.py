"""Webhook subscriptions (Shopify's ``webhooks.json``) and signed, retried delivery.

Deliveries run as background tasks on the server's event loop, so a mutation answers at
once; retries back off exponentially, and duplicates / out-of-order delivery can be
switched on to exercise the receiver's idempotency.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import random
import uuid
from collections import deque
from typing import Any

import httpx
import msgspec

from simulator.store import ApiError
from simulator.timeutil import ShopClock, now, utc_iso_now

TOPICS = frozenset(
    {
        "app/uninstalled",
        "bulk_operations/finish",
        "carts/create",
        "carts/update",
        "checkouts/create",
        "checkouts/delete",
        "checkouts/update",
        "customers/create",
        "customers/delete",
        "customers/disable",
        "customers/enable",
        "customers/update",
        "orders/cancelled",
        "orders/create",
        "orders/delete",
        "orders/edited",
        "orders/fulfilled",
        "orders/paid",
        "orders/partially_fulfilled",
        "orders/updated",
        "products/create",
        "products/delete",
        "products/update",
        "refunds/create",
        "shop/update",
    }
)


class DeliveryConfig(msgspec.Struct):
    """How a shop delivers: retries, backoff, duplicates and shuffling."""

    duplicate_rate: float = 0.0
    shuffle: bool = False
    shuffle_window_ms: int = 200
    max_retries: int = 5
    backoff_ms: int = 1000
    max_backoff_ms: int = 30_000
    timeout_s: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.duplicate_rate <= 1.0:
            raise msgspec.ValidationError("duplicate_rate must be between 0 and 1")
        if not 0 <= self.max_retries <= 20:
            raise msgspec.ValidationError("max_retries must be between 0 and 20")
        if self.backoff_ms < 0 or self.max_backoff_ms < 0 or self.shuffle_window_ms < 0:
            raise msgspec.ValidationError("delays must be >= 0")


class Delivery(msgspec.Struct):
    """One webhook to one subscriber; ``webhook_id`` is stable across retries/duplicates."""

    webhook_id: str
    event_id: str
    subscription_id: int
    topic: str
    address: str
    resource_id: int | None
    triggered_at: str
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    duplicates: int = 0
    responses: list[int | str] = msgspec.field(default_factory=list)


def sign(secret: str, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of HMAC-SHA256 over the exact body bytes."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class WebhookHub:
    """Subscriptions and the delivery log of one shop."""

    _ids = itertools.count(1_100_000_000_000)

    def __init__(self, domain: str, secret: str, clock: ShopClock) -> None:
        self.domain = domain
        self.secret = secret
        self.clock = clock
        self.config = DeliveryConfig()
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)
        self.client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()
        self._rng = random.Random(0)

    def configure(self, config: DeliveryConfig) -> None:
        """New delivery settings; the duplicate/shuffle draws restart from its seed."""
        self.config = config
        self._rng = random.Random(config.seed)

    # subscriptions ----------------------------------------------------------------------

    def subscribe(self, body: Any, api_version: str) -> dict[str, Any]:
        """Create a subscription from ``{"webhook": {...}}`` (422s as Shopify)."""
        hook = body.get("webhook") if isinstance(body, dict) else None
        if not isinstance(hook, dict):
            raise ApiError(400, {"webhook": "Required parameter missing or invalid"})
        topic, address = hook.get("topic"), hook.get("address")
        fmt = hook.get("format", "json")
        errors: dict[str, list[str]] = {}
        if topic not in TOPICS:
            errors["topic"] = [f"Invalid topic specified: {topic}"]
        if not isinstance(address, str) or not address.startswith(("http://", "https://")):
            errors["address"] = ["is invalid"]
        elif any(
            s["topic"] == topic and s["address"] == address for s in self.subscriptions.values()
        ):
            errors["address"] = ["for this topic has already been taken"]
        if fmt != "json":
            errors["format"] = ["is not included in the list"]
        if errors:
            raise ApiError(422, errors)
        stamp = self.clock.fmt(now())
        sid = next(self._ids)
        sub = {
            "id": sid,
            "address": address,
            "topic": topic,
            "created_at": stamp,
            "updated_at": stamp,
            "format": "json",
            "fields": list(hook.get("fields") or []),
            "metafield_namespaces": list(hook.get("metafield_namespaces") or []),
            "api_version": api_version,
            "private_metafield_namespaces": [],
        }
        self.subscriptions[sid] = sub
        return sub

    def listing(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Subscriptions filtered by ``topic``/``address``/``since_id``, id order."""
        subs = sorted(self.subscriptions.values(), key=lambda s: s["id"])
        if "topic" in params:
            subs = [s for s in subs if s["topic"] == params["topic"]]
        if "address" in params:
            subs = [s for s in subs if s["address"] == params["address"]]
        if params.get("since_id", "").isdigit():
            subs = [s for s in subs if s["id"] > int(params["since_id"])]
        return subs

    def get(self, sid: int) -> dict[str, Any]:
        """One subscription or 404."""
        if sid not in self.subscriptions:
            raise ApiError(404, "Not Found")
        return self.subscriptions[sid]

    def unsubscribe(self, sid: int) -> None:
        """Delete a subscription or 404."""
        self.get(sid)
        del self.subscriptions[sid]

    # delivery ---------------------------------------------------------------------------

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        """Queue ``topic`` for every subscriber; must run on the server's event loop."""
        subs = [s for s in self.subscriptions.values() if s["topic"] == topic]
        if not subs:
            return
        event_id = str(uuid.uuid4())
        triggered = utc_iso_now()
        for sub in subs:
            body = payload
            if sub["fields"]:
                body = {k: v for k, v in payload.items() if k in sub["fields"]}
            delivery = Delivery(
                webhook_id=str(uuid.uuid4()),
                event_id=event_id,
                subscription_id=sub["id"],
                topic=topic,
                address=sub["address"],
                resource_id=payload.get("id"),
                triggered_at=triggered,
            )
            self.deliveries.append(delivery)
            delay = 0.0
            if self.config.shuffle:
                delay = self._rng.random() * self.config.shuffle_window_ms / 1000
            duplicate = self._rng.random() < self.config.duplicate_rate
            data = msgspec.json.encode(body)
            task = asyncio.get_running_loop().create_task(
                self._deliver(delivery, data, sub["api_version"], delay, duplicate)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _headers(self, delivery: Delivery, body: bytes, api_version: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": delivery.topic,
            "X-Shopify-Hmac-Sha256": sign(self.secret, body),
            "X-Shopify-Shop-Domain": self.domain,
            "X-Shopify-API-Version": api_version,
            "X-Shopify-Webhook-Id": delivery.webhook_id,
            "X-Shopify-Event-Id": delivery.event_id,
            "X-Shopify-Triggered-At": delivery.triggered_at,
        }

    async def _post(self, delivery: Delivery, body: bytes, headers: dict[str, str]) -> bool:
        if self.client is None:
            self.client = httpx.AsyncClient()
        delivery.attempts += 1
        try:
            response = await self.client.post(
                delivery.address, content=body, headers=headers, timeout=self.config.timeout_s
            )
        except httpx.HTTPError as exc:
            delivery.responses.append(type(exc).__name__)
            return False
        delivery.responses.append(response.status_code)
        return 200 <= response.status_code < 300

    async def _deliver(
        self, delivery: Delivery, body: bytes, api_version: str, delay: float, duplicate: bool
    ) -> None:
        """Send with bounded exponential backoff, then maybe once more as a duplicate."""
        config = self.config
        headers = self._headers(delivery, body, api_version)
        if delay:
            await asyncio.sleep(delay)
        for attempt in range(config.max_retries + 1):
            if await self._post(delivery, body, headers):
                delivery.status = "delivered"
                break
            if attempt < config.max_retries:
                wait_ms = min(config.max_backoff_ms, config.backoff_ms * 2**attempt)
                await asyncio.sleep(wait_ms / 1000)
        else:
            delivery.status = "failed"
            return
        if duplicate:
            delivery.duplicates += 1
            await self._post(delivery, body, headers)

    def log(self) -> list[Delivery]:
        """Delivery log, oldest first."""
        return list(self.deliveries)

    async def close(self) -> None:
        """Cancel pending deliveries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self.client is not None:
            await self.client.aclose()
            self.client = None
