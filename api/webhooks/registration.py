"""Subscribe a store to every topic Xeno handles, through Shopify's GraphQL Admin API
(`webhookSubscriptions`, `webhookSubscriptionCreate`).

Idempotent: existing subscriptions are listed first and only missing topics are created;
each topic's outcome (created / exists / failed with the store's answer) is reported.
The compliance topics (customers/data_request, customers/redact, shop/redact) are not
subscribable per store: Shopify sends them to the one URL set in the app's configuration
(`compliance_address`, answered with every registration).
"""

from __future__ import annotations

from api.webhooks.schemas import Subscription
from core.settings import Settings
from ingestion.graphql import ShopifyError, ShopifyGraphQL, connect

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

LIST = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 250, after: $after) {
    nodes { topic uri }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id }
    userErrors { field message }
  }
}
"""


def webhook_address(settings: Settings, tenant_id: object) -> str:
    return f"{settings.api.base_url.rstrip('/')}/api/webhook/{tenant_id}"


def compliance_address(settings: Settings) -> str:
    """The app-wide URL of the compliance topics (`compliance_topics` in shopify.app.toml)."""
    return f"{settings.api.base_url.rstrip('/')}/api/webhook/compliance"


def register(
    shop_domain: str, access_token: str, address: str, settings: Settings
) -> list[Subscription]:
    """Ensure a subscription per topic at `address` (blocking; run it in a thread)."""
    with connect(shop_domain, access_token, settings) as client:
        have = _topics_at(client, address)
        results = []
        for topic in TOPICS:
            if enum_topic(topic) in have:
                results.append(Subscription(topic, address, "exists"))
                continue
            try:  # the client raises the store's userErrors as a ShopifyError
                client.query(CREATE, {"topic": enum_topic(topic), "uri": address})
            except ShopifyError as exc:
                results.append(Subscription(topic, address, "failed", str(exc)))
            else:
                results.append(Subscription(topic, address, "created"))
        return results


def enum_topic(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE` (the GraphQL `WebhookSubscriptionTopic` value)."""
    return topic.upper().replace("/", "_")


def _topics_at(client: ShopifyGraphQL, address: str) -> set[str]:
    """The topics (enum spelling) the store already sends to `address`."""
    topics: set[str] = set()
    after = None
    while True:
        found = client.query(LIST, {"after": after})["webhookSubscriptions"]
        topics.update(node["topic"] for node in found["nodes"] if node["uri"] == address)
        if not found["pageInfo"]["hasNextPage"]:
            return topics
        after = found["pageInfo"]["endCursor"]
