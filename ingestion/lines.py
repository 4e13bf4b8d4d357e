"""Bulk-format lines from the other ways records arrive: paged queries and webhooks.

A bulk operation's JSONL is the one input `ingestion.flatten` reads: one line per node,
nodes of nested connections as lines of their own after their parent, carrying
`"__parentId"`; plain lists (and connections inside them) stay inline. These functions
rewrite a page of nodes (same selection as `ingestion.queries`, connections as
`edges { node }`) and a REST webhook payload into exactly those lines, so every arrival
ends in the same raw rows. Records here are few (a page, a webhook batch): plain Python
per record is fine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

Line = dict[str, Any]
PARENT = "__parentId"

GID_TYPES = {
    "shop": "Shop",
    "customers": "Customer",
    "products": "Product",
    "orders": "Order",
    "abandoned_checkouts": "AbandonedCheckout",
}


def gid(type_name: str, record_id: object) -> str | None:
    """`gid://shopify/<type>/<id>`, or None without an id."""
    return None if record_id is None else f"gid://shopify/{type_name}/{record_id}"


# -- paged GraphQL nodes ------------------------------------------------------------------


def _connection_nodes(value: object) -> list[dict[str, Any]] | None:
    """The nodes of a connection value (`edges { node }` or `nodes`), None if not one."""
    if not isinstance(value, dict):
        return None
    if "edges" in value:
        return [edge["node"] for edge in value["edges"] or []]
    if "nodes" in value:
        return list(value["nodes"] or [])
    return None


def _node_lines(node: dict[str, Any], parent: str | None) -> Iterator[Line]:
    """A node's line (its connections taken out), then the lines of their nodes. Plain
    lists, and connections inside them (a refund's transactions), stay inline."""
    line: Line = {}
    nested: list[dict[str, Any]] = []
    for key, value in node.items():
        nodes = _connection_nodes(value)
        if nodes is None:
            line[key] = value
        else:
            nested += nodes
    if parent is not None:
        line[PARENT] = parent
    yield line
    for child in nested:
        yield from _node_lines(child, node["id"])


def page_lines(resource: str, nodes: Iterable[dict[str, Any]]) -> Iterator[Line]:
    """The bulk lines of a page of GraphQL nodes of `resource` (a raw root table name)."""
    if resource not in GID_TYPES:
        raise ValueError(f"unknown resource {resource!r}")
    for node in nodes:
        yield from _node_lines(node, None)


# -- REST webhook payloads ----------------------------------------------------------------


def _money(amount: object, currency: str | None) -> dict[str, Any] | None:
    if amount is None:
        return None
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


def _upper(value: object) -> str | None:
    return value.upper() if isinstance(value, str) and value else None


def _tags(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(tag) for tag in value]
    return [tag.strip() for tag in str(value or "").split(",") if tag.strip()]


def _ref(type_name: str, record_id: object) -> dict[str, str] | None:
    return None if record_id is None else {"id": f"gid://shopify/{type_name}/{record_id}"}


def _email(value: object) -> dict[str, Any] | None:
    return {"emailAddress": value} if value else None


def _customer_ref(customer: dict[str, Any] | None) -> dict[str, Any] | None:
    if not customer or customer.get("id") is None:
        return None
    return {
        "id": gid("Customer", customer["id"]),
        "firstName": customer.get("first_name"),
        "lastName": customer.get("last_name"),
        "defaultEmailAddress": _email(customer.get("email")),
    }


FULFILLMENT = {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED", "restocked": "RESTOCKED"}


def _refund(refund: dict[str, Any], currency: str | None) -> dict[str, Any]:
    """A refund inline in its order, its transactions as the connection's edges."""
    transactions = [
        {
            "node": {
                "id": gid("OrderTransaction", txn.get("id")),
                "kind": _upper(txn.get("kind")),
                "status": _upper(txn.get("status")),
                "gateway": txn.get("gateway"),
                "createdAt": txn.get("created_at"),
                "processedAt": txn.get("processed_at"),
                "amountSet": _money(txn.get("amount"), txn.get("currency") or currency),
            }
        }
        for txn in refund.get("transactions") or []
    ]
    return {
        "id": gid("Refund", refund.get("id")),
        "createdAt": refund.get("created_at"),
        "transactions": {"edges": transactions},
    }


def _order(p: dict[str, Any]) -> list[Line]:
    currency = p.get("currency")
    order_gid = gid("Order", p["id"])
    shipping = (p.get("total_shipping_price_set") or {}).get("shop_money") or {}
    refunds = p.get("refunds") or []
    root: Line = {
        "id": order_gid,
        "name": p.get("name"),
        "number": p.get("order_number"),
        "email": p.get("email") or None,
        "createdAt": p.get("created_at"),
        "updatedAt": p.get("updated_at"),
        "processedAt": p.get("processed_at"),
        "cancelledAt": p.get("cancelled_at"),
        "cancelReason": _upper(p.get("cancel_reason")),
        "closedAt": p.get("closed_at"),
        "test": p.get("test"),
        "displayFinancialStatus": _upper(p.get("financial_status")),
        "displayFulfillmentStatus": FULFILLMENT.get(
            p.get("fulfillment_status") or "", "UNFULFILLED"
        ),
        "currencyCode": currency,
        "subtotalPriceSet": _money(p.get("subtotal_price"), currency),
        "totalPriceSet": _money(p.get("total_price"), currency),
        "totalTaxSet": _money(p.get("total_tax"), currency),
        "totalDiscountsSet": _money(p.get("total_discounts"), currency),
        "totalShippingPriceSet": _money(shipping.get("amount"), currency),
        "discountCodes": [c.get("code") for c in p.get("discount_codes") or []],
        "customer": _customer_ref(p.get("customer")),
        "refunds": [_refund(r, currency) for r in refunds],
    }
    lines = [root]
    for item in p.get("line_items") or []:
        lines.append(
            {
                "id": gid("LineItem", item.get("id")),
                "title": item.get("title"),
                "variantTitle": item.get("variant_title"),
                "name": item.get("name"),
                "sku": item.get("sku"),
                "vendor": item.get("vendor"),
                "quantity": item.get("quantity"),
                "isGiftCard": item.get("gift_card"),
                "originalUnitPriceSet": _money(item.get("price"), currency),
                "variant": _ref("ProductVariant", item.get("variant_id")),
                "product": _ref("Product", item.get("product_id")),
                "discountAllocations": [
                    {
                        "allocatedAmountSet": _money(a.get("amount"), currency),
                        "discountApplication": {"index": a.get("discount_application_index")},
                    }
                    for a in item.get("discount_allocations") or []
                ],
                PARENT: order_gid,
            }
        )
    for ship in p.get("shipping_lines") or []:
        lines.append(
            {
                "id": gid("ShippingLine", ship.get("id")),
                "title": ship.get("title"),
                "code": ship.get("code"),
                "originalPriceSet": _money(ship.get("price"), currency),
                PARENT: order_gid,
            }
        )
    return lines


def _customer(p: dict[str, Any]) -> list[Line]:
    consent = p.get("email_marketing_consent") or {}
    address = p.get("default_address")
    email = _email(p.get("email"))
    if email is not None:
        email["marketingState"] = _upper(consent.get("state"))
    return [
        {
            "id": gid("Customer", p["id"]),
            "firstName": p.get("first_name"),
            "lastName": p.get("last_name"),
            "state": _upper(p.get("state")),
            "tags": _tags(p.get("tags")),
            "verifiedEmail": p.get("verified_email"),
            "createdAt": p.get("created_at"),
            "updatedAt": p.get("updated_at"),
            "defaultEmailAddress": email,
            "defaultPhoneNumber": {"phoneNumber": p["phone"]} if p.get("phone") else None,
            "defaultAddress": {
                "city": address.get("city"),
                "province": address.get("province"),
                "country": address.get("country"),
                "countryCodeV2": address.get("country_code"),
            }
            if address
            else None,
        }
    ]


def _product(p: dict[str, Any]) -> list[Line]:
    product_gid = gid("Product", p["id"])
    root: Line = {
        "id": product_gid,
        "title": p.get("title"),
        "handle": p.get("handle"),
        "vendor": p.get("vendor"),
        "productType": p.get("product_type"),
        "status": _upper(p.get("status")),
        "tags": _tags(p.get("tags")),
        "createdAt": p.get("created_at"),
        "updatedAt": p.get("updated_at"),
        "publishedAt": p.get("published_at"),
    }
    variants = [
        {
            "id": gid("ProductVariant", v.get("id")),
            "title": v.get("title"),
            "sku": v.get("sku"),
            "price": v.get("price"),
            "compareAtPrice": v.get("compare_at_price"),
            "position": v.get("position"),
            "inventoryQuantity": v.get("inventory_quantity"),
            PARENT: product_gid,
        }
        for v in p.get("variants") or []
    ]
    return [root, *variants]


def _checkout(p: dict[str, Any]) -> list[Line]:
    currency = p.get("currency")
    checkout_gid = gid("AbandonedCheckout", p["id"])
    root: Line = {
        "id": checkout_gid,
        "name": p.get("name"),
        "createdAt": p.get("created_at"),
        "updatedAt": p.get("updated_at"),
        "completedAt": p.get("completed_at"),
        "abandonedCheckoutUrl": p.get("abandoned_checkout_url"),
        "subtotalPriceSet": _money(p.get("subtotal_price"), currency),
        "totalPriceSet": _money(p.get("total_price"), currency),
        "totalTaxSet": _money(p.get("total_tax"), currency),
        "totalDiscountSet": _money(p.get("total_discounts"), currency),
        "customer": _customer_ref(p.get("customer")),
    }
    items = [
        {
            "title": item.get("title"),
            "variantTitle": item.get("variant_title"),
            "sku": item.get("sku"),
            "quantity": item.get("quantity"),
            "originalUnitPriceSet": _money(item.get("price"), currency),
            "originalTotalPriceSet": _money(item.get("line_price"), currency),
            "variant": _ref("ProductVariant", item.get("variant_id")),
            "product": _ref("Product", item.get("product_id")),
            PARENT: checkout_gid,
        }
        for item in p.get("line_items") or []
    ]
    return [root, *items]


def _shop(p: dict[str, Any]) -> list[Line]:
    return [
        {
            "id": gid("Shop", p["id"]),
            "name": p.get("name"),
            "myshopifyDomain": p.get("myshopify_domain"),
            "primaryDomain": {"host": p.get("domain")},
            "currencyCode": p.get("currency"),
            "ianaTimezone": p.get("iana_timezone"),
            "email": p.get("email"),
            "plan": {"publicDisplayName": p.get("plan_display_name")},
            "createdAt": p.get("created_at"),
            "updatedAt": p.get("updated_at"),
        }
    ]


_WEBHOOK: dict[str, Callable[[dict[str, Any]], list[Line]]] = {
    "shop": _shop,
    "customers": _customer,
    "products": _product,
    "orders": _order,
    "abandoned_checkouts": _checkout,
}


def webhook_lines(resource: str, payload: dict[str, Any]) -> list[Line]:
    """The bulk lines of one REST webhook payload (orders/create|updated, products/update,
    customers/update, checkouts/update: REST JSON) of `resource`, in GraphQL names and
    GIDs. Abandoned checkouts' REST line items have no ids: their lines carry none (the
    raw rows key them by position either way)."""
    try:
        convert = _WEBHOOK[resource]
    except KeyError:
        raise ValueError(f"unknown resource {resource!r}") from None
    return convert(payload)


def write_lines(lines: Iterable[Line], path: Path) -> int:
    """Append lines to a JSONL file; how many were written."""
    count = 0
    with path.open("a", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
