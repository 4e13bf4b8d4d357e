"""``webhookSubscriptions`` and ``webhookSubscriptionCreate`` over the shop's webhook hub.

GraphQL and REST ``webhooks.json`` share one subscription store (``simulator.webhooks``), so
a subscription created either way is listed by both and delivered by the same deliverer.
Topics are the REST names in Shopify's enum spelling (``orders/create`` <-> ``ORDERS_CREATE``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from simulator.graphql.connections import PageArgs, decode_cursor, encode_cursor
from simulator.graphql.plan import ConnectionPlan
from simulator.store import ApiError
from simulator.webhooks import TOPICS, WebhookHub

ENUM_TOPICS = {topic.upper().replace("/", "_"): topic for topic in TOPICS}
GID_PREFIX = "gid://shopify/WebhookSubscription/"

# The REST error key of a refused subscription -> the argument path of its GraphQL userError.
ERROR_FIELDS = {
    "topic": ["topic"],
    "address": ["webhookSubscription", "uri"],
    "format": ["webhookSubscription", "format"],
}


def as_node(sub: dict[str, Any]) -> dict[str, Any]:
    """A hub subscription as a ``WebhookSubscription`` object (GraphQL field names as keys)."""
    version = sub["api_version"]
    return {
        "id": f"{GID_PREFIX}{sub['id']}",
        "legacyResourceId": str(sub["id"]),
        "topic": sub["topic"].upper().replace("/", "_"),
        "uri": sub["address"],
        "callbackUrl": sub["address"],
        "format": sub["format"].upper(),
        "includeFields": sub["fields"],
        "metafieldNamespaces": sub["metafield_namespaces"],
        "createdAt": sub["created_at"],
        "updatedAt": sub["updated_at"],
        "apiVersion": {"handle": version, "displayName": version, "supported": True},
    }


def connection(hooks: WebhookHub, plan: ConnectionPlan, args: dict[str, Any]) -> dict:
    """A page of the shop's subscriptions, filtered by ``topics``/``format``/``callbackUrl``.

    Cursors hold the subscription id (ids grow with creation, so ``ID`` and ``CREATED_AT``
    are one order): a walk sees every subscription that exists throughout exactly once.
    """
    page = PageArgs.of(args, required=True)
    subs = [as_node(s) for s in hooks.listing({})]
    if args.get("topics") is not None:
        subs = [s for s in subs if s["topic"] in args["topics"]]
    if args.get("format") is not None:
        subs = [s for s in subs if s["format"] == args["format"]]
    if args.get("callbackUrl") is not None:
        subs = [s for s in subs if s["uri"] == args["callbackUrl"]]
    if page.reverse:
        subs.reverse()
    sign = -1 if page.reverse else 1  # sort keys ascending in walk order
    keys = [sign * int(s["legacyResourceId"]) for s in subs]
    lo, hi = 0, len(subs)
    if page.after is not None:
        lo = bisect_right(keys, sign * decode_cursor(page.after)[0])
    if page.before is not None:
        hi = bisect_left(keys, sign * decode_cursor(page.before)[0])
    window = subs[lo:hi]
    has_prev, has_next = lo > 0, hi < len(subs)
    if page.first is not None and len(window) > page.first:
        window, has_next = window[: page.first], True
    if page.last is not None and len(window) > page.last:
        window, has_prev = window[len(window) - page.last :], True
    items = [(_cursor(s), s) for s in window]
    return plan.render(items, has_prev, has_next)


def _cursor(node: dict[str, Any]) -> str:
    sid = int(node["legacyResourceId"])
    return encode_cursor(sid, sid)


def create(hooks: WebhookHub, args: dict[str, Any], version: str) -> dict[str, Any]:
    """``WebhookSubscriptionCreatePayload``: the hub's refusals become ``userErrors``."""
    given = args["webhookSubscription"]
    hook = {
        "topic": ENUM_TOPICS[args["topic"]],
        "address": given.get("uri"),
        "format": (given.get("format") or "JSON").lower(),
        "fields": given.get("includeFields") or [],
        "metafield_namespaces": given.get("metafieldNamespaces") or [],
    }
    try:
        sub = hooks.subscribe({"webhook": hook}, version)
    except ApiError as exc:
        errors = [
            {"field": ERROR_FIELDS[name], "message": f"{name.capitalize()} {message}"}
            for name, messages in exc.errors.items()
            for message in messages
        ]
        return {"webhookSubscription": None, "userErrors": errors}
    return {"webhookSubscription": as_node(sub), "userErrors": []}
