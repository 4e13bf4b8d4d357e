"""Webhook subscriptions through GraphQL: one store with REST ``webhooks.json``, delivered
alike, paged by id, refusals as ``userErrors``; and Xeno's registration over it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from api.webhooks import registration
from core.settings import get_settings
from simulator.graphql.schema import SCHEMA
from simulator.server import RunningSimulator
from simulator.webhooks import TOPICS
from tests.simulator.graphql_helpers import gid_number, gql, gql_raw
from tests.simulator.sim_helpers import Admin
from tests.simulator.test_webhooks import FAST, Receiver, subscribe

CREATE = """
mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id legacyResourceId topic uri format apiVersion { handle } }
    userErrors { field message }
  }
}
"""

PAGE = """
query($first: Int, $last: Int, $after: String, $before: String, $reverse: Boolean,
      $topics: [WebhookSubscriptionTopic!], $url: URL) {
  webhookSubscriptions(first: $first, last: $last, after: $after, before: $before,
                       reverse: $reverse, topics: $topics, callbackUrl: $url) {
    edges { cursor node { legacyResourceId topic uri } }
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
  }
}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def create(shop: Admin, topic: str, uri: str) -> dict:
    return gql(shop, CREATE, topic=topic, uri=uri)["webhookSubscriptionCreate"]


def page(shop: Admin, **args: object) -> dict:
    return gql(shop, PAGE, **args)["webhookSubscriptions"]


def ids(found: dict) -> list[int]:
    return [int(edge["node"]["legacyResourceId"]) for edge in found["edges"]]


def test_topic_enum_is_the_delivered_topics_in_shopifys_spelling() -> None:
    enum = SCHEMA.get_type("WebhookSubscriptionTopic")
    assert set(enum.values) == {t.upper().replace("/", "_") for t in TOPICS}  # type: ignore[union-attr]
    assert {"ORDERS_UPDATED", "CHECKOUTS_DELETE", "BULK_OPERATIONS_FINISH"} <= set(enum.values)  # type: ignore[union-attr]


def test_graphql_subscription_is_listed_through_rest_and_delivered(
    fresh: Admin, receiver: Receiver
) -> None:
    fresh.sim_call("PUT", "webhook_delivery", FAST)
    made = create(fresh, "ORDERS_CREATE", receiver.url)
    assert made["userErrors"] == []
    sub = made["webhookSubscription"]
    assert sub["topic"] == "ORDERS_CREATE" and sub["uri"] == receiver.url
    assert sub["format"] == "JSON" and sub["apiVersion"] == {"handle": "2026-10"}
    assert gid_number(sub["id"]) == int(sub["legacyResourceId"])

    [hook] = fresh.get("webhooks.json").json()["webhooks"]
    assert (hook["id"], hook["topic"], hook["address"]) == (
        int(sub["legacyResourceId"]),
        "orders/create",
        receiver.url,
    )
    assert hook["api_version"] == "2026-10"

    order = fresh.sim_call("POST", "orders", {}).json()["order"]
    [(headers, body)] = receiver.wait(1)
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-API-Version"] == "2026-10"
    assert json.loads(body)["id"] == order["id"]


def test_rest_subscription_is_listed_through_graphql_and_duplicates_are_user_errors(
    fresh: Admin, receiver: Receiver
) -> None:
    rest = subscribe(fresh, "customers/update", receiver.url).json()["webhook"]
    [edge] = page(fresh, first=10)["edges"]
    assert edge["node"] == {
        "legacyResourceId": str(rest["id"]),
        "topic": "CUSTOMERS_UPDATE",
        "uri": receiver.url,
    }
    again = create(fresh, "CUSTOMERS_UPDATE", receiver.url)
    assert again == {
        "webhookSubscription": None,
        "userErrors": [
            {
                "field": ["webhookSubscription", "uri"],
                "message": "Address for this topic has already been taken",
            }
        ],
    }
    bad = create(fresh, "ORDERS_CREATE", "ftp://example.com/hook")
    assert bad["userErrors"] == [
        {"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}
    ]
    assert fresh.get("webhooks/count.json").json() == {"count": 1}


def test_unknown_topic_is_a_validation_error_and_a_mutation_costs_ten(fresh: Admin) -> None:
    refused = gql_raw(fresh, CREATE, topic="ORDERS_NOPE", uri="https://example.com/h")
    assert "data" not in refused and refused["errors"]
    body = gql_raw(fresh, CREATE, topic="ORDERS_CREATE", uri="https://example.com/h")
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["actualQueryCost"] == 10


def test_pages_by_id_and_filters(fresh: Admin) -> None:
    topics = ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_DELETE", "PRODUCTS_UPDATE"]
    made = [
        int(create(fresh, topic, "https://a.example/h")["webhookSubscription"]["legacyResourceId"])
        for topic in topics
    ]
    other = create(fresh, "ORDERS_CREATE", "https://b.example/h")["webhookSubscription"]
    every = [*made, int(other["legacyResourceId"])]

    first = page(fresh, first=2)
    assert ids(first) == every[:2] and first["pageInfo"]["hasNextPage"]
    fresh.http.delete(f"{fresh.url}/webhooks/{every[1]}.json")  # gone behind the cursor
    rest = page(fresh, first=10, after=first["pageInfo"]["endCursor"])
    assert ids(rest) == every[2:] and not rest["pageInfo"]["hasNextPage"]
    assert rest["pageInfo"]["hasPreviousPage"]

    backwards = page(fresh, first=2, reverse=True)
    assert ids(backwards) == [every[4], every[3]]
    tail = page(fresh, first=10, reverse=True, after=backwards["pageInfo"]["endCursor"])
    assert ids(tail) == [every[2], every[0]]
    last = page(fresh, last=2, before=rest["pageInfo"]["endCursor"])
    assert ids(last) == [every[2], every[3]] and last["pageInfo"]["hasPreviousPage"]

    assert ids(page(fresh, first=10, topics=["ORDERS_CREATE"])) == [every[0], every[4]]
    assert ids(page(fresh, first=10, url="https://b.example/h")) == [every[4]]
    too_many = gql_raw(fresh, PAGE, first=251)
    assert too_many["errors"][0]["extensions"]["code"] == "MAX_PAGE_SIZE_EXCEEDED"


def test_registration_creates_missing_topics_once(fresh: Admin, sim: RunningSimulator) -> None:
    defaults = get_settings()
    shopify = defaults.shopify.model_copy(update={"endpoint_template": f"{sim.base_url}/{{shop}}"})
    settings = defaults.model_copy(update={"shopify": shopify})
    address = "https://xeno.example/api/webhook/tenant"
    subscribe(fresh, "orders/create", address)  # already there, through REST
    subscribe(fresh, "orders/updated", "https://elsewhere.example/h")  # another address

    first = registration.register(fresh.domain, fresh.info["token"], address, settings)
    assert [s.topic for s in first] == list(registration.TOPICS)
    status = {s.topic: s.status for s in first}
    assert status.pop("orders/create") == "exists"
    assert set(status.values()) == {"created"}
    hooks = fresh.get("webhooks.json", address=address).json()["webhooks"]
    assert sorted(h["topic"] for h in hooks) == sorted(registration.TOPICS)

    again = registration.register(fresh.domain, fresh.info["token"], address, settings)
    assert {s.status for s in again} == {"exists"}
    assert fresh.get("webhooks/count.json").json() == {"count": len(registration.TOPICS) + 1}

    refused = registration.register(fresh.domain, fresh.info["token"], "ftp://x/h", settings)
    assert {s.status for s in refused} == {"failed"}
    assert all(s.reason and s.reason.endswith("uri: Address is invalid") for s in refused)
