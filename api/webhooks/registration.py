"""Subscribe a store to every topic Xeno handles, through Shopify's REST `webhooks.json`.

Idempotent: existing subscriptions are listed first and only missing topics are created;
each topic's outcome (created / exists / failed with the store's answer) is reported.
The compliance topics (customers/data_request, customers/redact, shop/redact) are not
subscribable per store: Shopify sends them to the one URL set in the app's configuration
(`compliance_address`, answered with every registration).
"""

from __future__ import annotations

from api.webhooks.schemas import Subscription
from core.settings import Settings
from ingestion.client import ShopifyError, connect

TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/delete",
    "customers/create",
    "customers/update",
    "customers/delete",
    "products/create",
    "products/update",
    "products/delete",
    "checkouts/create",
    "checkouts/update",
    "checkouts/delete",
    "carts/create",
    "carts/update",
    "app/uninstalled",
)


def webhook_address(settings: Settings, tenant_id: object) -> str:
    return f"{settings.api.base_url.rstrip('/')}/api/webhook/{tenant_id}"


def compliance_address(settings: Settings) -> str:
    """The app-wide URL of the compliance topics (`compliance_topics` in shopify.app.toml)."""
    return f"{settings.api.base_url.rstrip('/')}/api/webhook/compliance"


def register(
    shop_domain: str, access_token: str, address: str, settings: Settings
) -> list[Subscription]:
    """Ensure a subscription per topic at `address` (blocking; run it in a thread)."""
    client = connect(shop_domain, access_token, settings)
    with client.session:
        existing = client.get_json("webhooks.json", {"address": address, "limit": 250})["webhooks"]
        have = {hook["topic"] for hook in existing if hook.get("address") == address}
        results = []
        for topic in TOPICS:
            if topic in have:
                results.append(Subscription(topic, address, "exists"))
                continue
            body = {"webhook": {"topic": topic, "address": address, "format": "json"}}
            try:
                client.post("webhooks.json", json=body)
            except ShopifyError as exc:
                results.append(Subscription(topic, address, "failed", str(exc)))
            else:
                results.append(Subscription(topic, address, "created"))
        return results
