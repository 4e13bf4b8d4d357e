"""How each GraphQL field reads the REST record behind it: the one mapping table.

Every GraphQL object is backed by a REST JSON dict (an order, one of its line items, a
money bag ...). A field's entry is a getter ``rec -> value``: a leaf value for scalars and
enums, the child REST dict for an object, a list of child dicts for a list or a
connection. Fields without an entry read the dict key of their own GraphQL name (the bulk
operation types, ``Count`` and ``PageInfo`` are built in GraphQL names). A getter that
needs the shop (aggregates over its orders) is a ``WithShop`` factory resolved once per
request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator import generator as gen
from simulator.graphql.customer_totals import totals_of
from simulator.store import ShopStore

Getter = Callable[[dict], Any]


@dataclass(frozen=True)
class WithShop:
    """A getter built from the shop's store (``factory(store) -> getter``)."""

    factory: Callable[[ShopStore], Getter]


def key(name: str) -> Getter:
    """The REST value under ``name`` (None when absent); ``rest_key`` lets the plan inline
    the lookup."""

    def get(rec: dict) -> Any:
        return rec.get(name)

    get.rest_key = name  # type: ignore[attr-defined]
    return get


def gid(kind: str, name: str = "id") -> Getter:
    """A GID whose number is the REST id under ``name``."""
    prefix = f"gid://shopify/{kind}/"

    def get(rec: dict) -> str | None:
        rid = rec.get(name)
        return None if rid is None else prefix + str(rid)

    return get


def upper(name: str, default: str | None = None) -> Getter:
    """A REST lower-case value as a GraphQL enum value."""

    def get(rec: dict) -> str | None:
        value = rec.get(name)
        return value.upper() if value else default

    return get


def tags(rec: dict) -> list[str]:
    """REST ``"a, b"`` as ``["a", "b"]``."""
    text = rec.get("tags")
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


def bag(amount_key: str) -> Getter:
    """A MoneyBag from a plain REST amount and the record's ``currency``."""

    def get(rec: dict) -> dict | None:
        amount = rec.get(amount_key)
        if amount is None:
            return None
        money = {"amount": amount, "currency_code": rec.get("currency")}
        return {"shop_money": money, "presentment_money": money}

    return get


def _refunded(refunds: list[dict], like: str) -> str:
    """Σ successful refund transactions, in the exponent of the amount ``like``."""
    total = Decimal(like) * 0
    for refund in refunds:
        for txn in refund.get("transactions", ()):
            if txn["kind"] == "refund" and txn["status"] == "success":
                total += Decimal(txn["amount"])
    return str(total)


def _bag_of(amount: str, currency: str | None) -> dict:
    money = {"amount": amount, "currency_code": currency}
    return {"shop_money": money, "presentment_money": money}


def order_refunded(rec: dict) -> dict:
    """Order.totalRefundedSet."""
    return _bag_of(_refunded(rec["refunds"], rec["total_price"]), rec["currency"])


def refund_total(rec: dict) -> dict:
    """Refund.totalRefundedSet (the refund's transactions carry the currency)."""
    txns = rec.get("transactions") or []
    currency = txns[0]["currency"] if txns else None
    like = txns[0]["amount"] if txns else "0"
    return _bag_of(_refunded([rec], like), currency)


def line_variant(rec: dict) -> dict | None:
    """The ProductVariant a line item refers to, from the line's own REST fields."""
    if rec.get("variant_id") is None:
        return None
    return {
        "id": rec["variant_id"],
        "product_id": rec.get("product_id"),
        "title": rec.get("variant_title"),
        "sku": rec.get("sku"),
        "price": rec.get("variant_price", rec.get("price")),
    }


def line_product(rec: dict) -> dict | None:
    """The Product a line item refers to."""
    if rec.get("product_id") is None:
        return None
    return {"id": rec["product_id"], "title": rec.get("title"), "vendor": rec.get("vendor")}


def checkout_lines(rec: dict) -> list[dict]:
    """Checkout line items with deterministic ids (REST gives them only a ``key``): the
    checkout id times 1000 plus the line's position."""
    base = rec["id"] * 1000
    currency = rec.get("currency")
    return [
        {**line, "id": base + n, "currency": currency} for n, line in enumerate(rec["line_items"])
    ]


def transactions(rec: dict) -> list[dict]:
    return rec.get("transactions") or []


def display_name(rec: dict) -> str:
    return " ".join(p for p in (rec.get("first_name"), rec.get("last_name")) if p)


def email_address(rec: dict) -> dict | None:
    """Customer.defaultEmailAddress: the customer record itself when it has an email."""
    return rec if rec.get("email") else None


def marketing_state(rec: dict) -> str:
    consent = rec.get("email_marketing_consent") or {}
    return (consent.get("state") or "not_subscribed").upper()


def phone_number(rec: dict) -> dict | None:
    return {"phone_number": rec["phone"]} if rec.get("phone") else None


def address_gid(rec: dict) -> str | None:
    rid = rec.get("id")
    return None if rid is None else f"gid://shopify/MailingAddress/{rid}?model_name=CustomerAddress"


FULFILLMENT = {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED", "restocked": "RESTOCKED"}


def fulfillment(rec: dict) -> str:
    return FULFILLMENT.get(rec.get("fulfillment_status") or "", "UNFULFILLED")


def limited(name: str) -> Getter:
    """A plain list (``first`` is applied by the plan)."""
    return lambda rec: rec.get(name) or []


def _orders_count(store: ShopStore) -> Getter:
    totals = totals_of(store)
    return lambda rec: str(totals.of(rec["id"])[0])


def _amount_spent(store: ShopStore) -> Getter:
    totals = totals_of(store)
    fmt, currency = store.profile.fmt, store.profile.currency
    return lambda rec: {"amount": fmt(totals.of(rec["id"])[1]), "currency_code": currency}


FIELDS: dict[str, dict[str, Getter | WithShop]] = {
    "MoneyBag": {"shopMoney": key("shop_money"), "presentmentMoney": key("presentment_money")},
    "MoneyV2": {"amount": key("amount"), "currencyCode": key("currency_code")},
    "Shop": {
        "id": gid("Shop"),
        "myshopifyDomain": key("myshopify_domain"),
        "primaryDomain": lambda rec: {"host": rec["domain"], "id": rec["id"]},
        "currencyCode": key("currency"),
        "ianaTimezone": key("iana_timezone"),
        "plan": lambda rec: rec,
        "createdAt": key("created_at"),
        "updatedAt": key("updated_at"),
    },
    "Domain": {
        "id": gid("Domain"),
        "url": lambda rec: f"https://{rec['host']}",
    },
    "ShopPlan": {
        "publicDisplayName": key("plan_display_name"),
        "shopifyPlus": lambda rec: rec["plan_name"] == "shopify_plus",
        "partnerDevelopment": lambda rec: False,
    },
    "Customer": {
        "id": gid("Customer"),
        "firstName": key("first_name"),
        "lastName": key("last_name"),
        "displayName": display_name,
        "state": upper("state"),
        "tags": tags,
        "taxExempt": key("tax_exempt"),
        "verifiedEmail": key("verified_email"),
        "createdAt": key("created_at"),
        "updatedAt": key("updated_at"),
        "defaultEmailAddress": email_address,
        "defaultPhoneNumber": phone_number,
        "defaultAddress": key("default_address"),
        "amountSpent": WithShop(_amount_spent),
        "numberOfOrders": WithShop(_orders_count),
    },
    "CustomerEmailAddress": {"emailAddress": key("email"), "marketingState": marketing_state},
    "CustomerPhoneNumber": {"phoneNumber": key("phone_number")},
    "MailingAddress": {
        "id": address_gid,
        "firstName": key("first_name"),
        "lastName": key("last_name"),
        "countryCodeV2": key("country_code"),
        "provinceCode": key("province_code"),
    },
    "Product": {
        "id": gid("Product"),
        "descriptionHtml": key("body_html"),
        "productType": key("product_type"),
        "status": upper("status"),
        "tags": tags,
        "createdAt": key("created_at"),
        "updatedAt": key("updated_at"),
        "publishedAt": key("published_at"),
        "variants": limited("variants"),
    },
    "ProductVariant": {
        "id": gid("ProductVariant"),
        "compareAtPrice": key("compare_at_price"),
        "createdAt": key("created_at"),
        "updatedAt": key("updated_at"),
        "displayName": key("title"),
        "inventoryQuantity": key("inventory_quantity"),
        "product": lambda rec: {"id": rec.get("product_id")},
    },
    "Order": {
        "id": gid("Order"),
        # Shopify's `number` is the order number its `name` shows (#1001), REST's order_number
        "number": key("order_number"),
        "cancelReason": upper("cancel_reason"),
        "cancelledAt": key("cancelled_at"),
        "closed": lambda rec: rec.get("closed_at") is not None,
        "closedAt": key("closed_at"),
        "createdAt": key("created_at"),
        "currencyCode": key("currency"),
        "currentTotalPriceSet": key("current_total_price_set"),
        "discountCode": lambda rec: (
            rec["discount_codes"][0]["code"] if rec["discount_codes"] else None
        ),
        "discountCodes": lambda rec: [d["code"] for d in rec["discount_codes"]],
        "displayFinancialStatus": upper("financial_status"),
        "displayFulfillmentStatus": fulfillment,
        "lineItems": limited("line_items"),
        "processedAt": key("processed_at"),
        "refunds": limited("refunds"),
        "shippingLines": limited("shipping_lines"),
        "subtotalPriceSet": key("subtotal_price_set"),
        "tags": tags,
        "totalDiscountsSet": key("total_discounts_set"),
        "totalPriceSet": key("total_price_set"),
        "totalRefundedSet": order_refunded,
        "totalShippingPriceSet": key("total_shipping_price_set"),
        "totalTaxSet": key("total_tax_set"),
        "updatedAt": key("updated_at"),
    },
    "LineItem": {
        "id": gid("LineItem"),
        "currentQuantity": key("quantity"),
        "discountAllocations": limited("discount_allocations"),
        "isGiftCard": key("gift_card"),
        "originalUnitPriceSet": key("price_set"),
        "product": line_product,
        "requiresShipping": key("requires_shipping"),
        "variant": line_variant,
        "variantTitle": key("variant_title"),
    },
    "DiscountAllocation": {
        "allocatedAmountSet": key("amount_set"),
        "discountApplication": lambda rec: {"index": rec["discount_application_index"]},
    },
    "ShippingLine": {"id": gid("ShippingLine"), "originalPriceSet": key("price_set")},
    "Refund": {
        "id": gid("Refund"),
        "createdAt": key("created_at"),
        "updatedAt": key("processed_at"),
        "refundLineItems": limited("refund_line_items"),
        "totalRefundedSet": refund_total,
        "transactions": transactions,
    },
    "RefundLineItem": {
        "id": gid("RefundLineItem"),
        "lineItem": key("line_item"),
        "restockType": upper("restock_type"),
        "subtotalSet": key("subtotal_set"),
        "totalTaxSet": key("total_tax_set"),
    },
    "OrderTransaction": {
        "id": gid("OrderTransaction"),
        "amountSet": bag("amount"),
        "createdAt": key("created_at"),
        "errorCode": upper("error_code"),
        "kind": upper("kind"),
        "processedAt": key("processed_at"),
        "status": upper("status"),
    },
    "AbandonedCheckout": {
        "id": gid("AbandonedCheckout"),
        "abandonedCheckoutUrl": key("abandoned_checkout_url"),
        "completedAt": key("completed_at"),
        "createdAt": key("created_at"),
        "discountCodes": lambda rec: [d["code"] for d in rec.get("discount_codes") or ()],
        "lineItems": checkout_lines,
        "note": lambda rec: rec.get("note") or "",
        "subtotalPriceSet": bag("subtotal_price"),
        "taxesIncluded": key("taxes_included"),
        "totalDiscountSet": bag("total_discounts"),
        "totalLineItemsPriceSet": bag("total_line_items_price"),
        "totalPriceSet": bag("total_price"),
        "totalTaxSet": bag("total_tax"),
        "updatedAt": key("updated_at"),
    },
    "AbandonedCheckoutLineItem": {
        "id": gid("AbandonedCheckoutLineItem"),
        "originalTotalPriceSet": bag("line_price"),
        "originalUnitPriceSet": bag("price"),
        "product": line_product,
        "variant": line_variant,
        "variantTitle": key("variant_title"),
    },
}

# The concrete type behind an abstract field type (Node is resolved from the GID).
CONCRETE = {"DiscountApplication": "DiscountCodeApplication"}

# Root connections: QueryRoot field -> (store table, GraphQL type of its nodes).
ROOTS = {
    "customers": ("customers", "Customer"),
    "products": ("products", "Product"),
    "orders": ("orders", "Order"),
    "abandonedCheckouts": ("checkouts", "AbandonedCheckout"),
}
COUNTS = {f"{name}Count": table for name, (table, _) in ROOTS.items()}
# GID type -> store table, for node(id:) / nodes(ids:).
NODE_TABLES = {type_name: table for table, type_name in ROOTS.values()}
# REST record flags that hide a record from every GraphQL answer.
HIDDEN = gen.DELETED


def getter(type_name: str, field_name: str, store: ShopStore) -> Getter:
    """The getter of one field (its own GraphQL name as the dict key when unmapped)."""
    entry = FIELDS.get(type_name, {}).get(field_name)
    if entry is None:
        return key(_snake(field_name)) if type_name in FIELDS else key(field_name)
    if isinstance(entry, WithShop):
        return entry.factory(store)
    return entry


def _snake(name: str) -> str:
    """``variantTitle`` -> ``variant_title`` (REST spells most plain fields this way)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
