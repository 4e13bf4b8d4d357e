"""Record renderers: Shopify REST JSON for one customer, product, order or checkout.

Each takes the shop profile, the record's index and its compact skeleton values and draws
everything else from the record's own random stream, so rendering is deterministic and
needs no other state. Money stays in integer minor units until formatted.
"""

from __future__ import annotations

import random
from bisect import bisect_right

from simulator import money, words
from simulator.generator import (
    CANCELLED,
    CLOSED,
    COMPLETED,
    FULFILLED,
    REFUND_FULL,
    REFUND_PARTIAL,
    S_CHECKOUT,
    S_CUSTOMER,
    S_ORDER,
    TEST,
    UNPAID,
    LineSpec,
    ProductCore,
    ShopProfile,
    customer_updated,
    mix,
    record_rng,
    stride_id,
)


def customer(profile: ShopProfile, c: int, cid: int, created: int, updated: int) -> dict:
    """Customer ``c`` as the REST Admin API returns it (drawn from one 64-bit hash: orders
    embed customers, so this is on the hot path)."""
    h = mix(profile.key, S_CUSTOMER, c)
    first, last = words.FIRST[h % len(words.FIRST)], words.LAST[(h >> 6) % len(words.LAST)]
    fmt = profile.clock.fmt
    subscribed = (h >> 12) % 10 < 4
    addr = profile.address(h >> 24, first, last, profile.id_of("address", c))
    addr["customer_id"] = cid
    addr["default"] = True
    return {
        "id": cid,
        "email": f"{first}.{last}.{c}@example.com".lower(),
        "created_at": fmt(created),
        "updated_at": fmt(updated),
        "first_name": first,
        "last_name": last,
        "state": "enabled" if (h >> 16) % 10 < 7 else "disabled",
        "note": None,
        "verified_email": True,
        "multipass_identifier": None,
        "tax_exempt": False,
        "tags": "vip" if (h >> 20) % 20 == 0 else "",
        "currency": profile.currency,
        "phone": None,
        "addresses": [addr],
        "tax_exemptions": [],
        "email_marketing_consent": {
            "state": "subscribed" if subscribed else "not_subscribed",
            "opt_in_level": "single_opt_in",
            "consent_updated_at": fmt(created) if subscribed else None,
        },
        "sms_marketing_consent": None,
        "admin_graphql_api_id": profile.gid("Customer", cid),
        "default_address": addr,
    }


def customer_summary(rec: dict) -> dict:
    """The customer object nested in orders and checkouts (no address list)."""
    return {k: v for k, v in rec.items() if k != "addresses"}


def product(profile: ShopProfile, core: ProductCore, created: int, updated: int) -> dict:
    """A product with variants, options and one image."""
    fmt = profile.clock.fmt
    c_at, u_at = fmt(created), fmt(updated)
    variants = [
        {
            "id": v.id,
            "product_id": core.id,
            "title": v.title,
            "price": profile.fmt(v.price),
            "position": n + 1,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": v.title,
            "option2": None,
            "option3": None,
            "created_at": c_at,
            "updated_at": u_at,
            "taxable": True,
            "barcode": None,
            "fulfillment_service": "manual",
            "grams": v.grams,
            "inventory_management": "shopify",
            "requires_shipping": True,
            "sku": v.sku,
            "weight": round(v.grams / 1000, 3),
            "weight_unit": "kg",
            "inventory_item_id": v.inventory_item_id,
            "inventory_quantity": v.quantity,
            "old_inventory_quantity": v.quantity,
            "admin_graphql_api_id": profile.gid("ProductVariant", v.id),
            "image_id": None,
        }
        for n, v in enumerate(core.variants)
    ]
    option_name = "Title" if len(core.variants) == 1 else "Size"
    image_id = core.id + 1
    return {
        "id": core.id,
        "title": core.title,
        "body_html": f"<p>{core.title} by {core.vendor}.</p>",
        "vendor": core.vendor,
        "product_type": core.product_type,
        "created_at": c_at,
        "handle": core.handle,
        "updated_at": u_at,
        "published_at": c_at,
        "template_suffix": None,
        "published_scope": "web",
        "tags": core.tags,
        "status": "active",
        "admin_graphql_api_id": profile.gid("Product", core.id),
        "variants": variants,
        "options": [
            {
                "id": core.id + 2,
                "product_id": core.id,
                "name": option_name,
                "position": 1,
                "values": [v.title for v in core.variants],
            }
        ],
        "images": [
            {
                "id": image_id,
                "product_id": core.id,
                "position": 1,
                "created_at": c_at,
                "updated_at": c_at,
                "alt": None,
                "width": 1200,
                "height": 1200,
                "src": f"https://cdn.shopify.com/s/files/1/{profile.shop_id}/{core.handle}.jpg",
                "variant_ids": [],
                "admin_graphql_api_id": profile.gid("ProductImage", image_id),
            }
        ],
        "image": None,
    }


def pick_lines(profile: ShopProfile, rng: random.Random, catalog: list[ProductCore]) -> list:
    """Basket: few lines, popular products first, heavy-tailed quantities, a few custom items."""
    r = rng.random
    x = r()
    n = 1 if x < 0.55 else 2 if x < 0.8 else 3 if x < 0.92 else rng.randrange(4, 7)
    lines: list[LineSpec] = []
    for _ in range(n):
        if rng.random() < 0.04 or not catalog:
            price = max(1, round(rng.lognormvariate(1.8, 0.6) * profile.scale)) * 10**profile.exp
            lines.append((None, None, rng.choice(words.CUSTOM_ITEMS), price, 1))
            continue
        core = catalog[int(len(catalog) * rng.random() ** 2)]
        variant = core.variants[int(r() * len(core.variants))]
        q = rng.random()
        qty = (
            1
            if q < 0.72
            else 2
            if q < 0.9
            else 3
            if q < 0.97
            else min(50, 3 + int(rng.paretovariate(1.3)))
        )
        lines.append((core, variant, core.title, variant.price, qty))
    return lines


def order(
    profile: ShopProfile,
    i: int,
    oid: int,
    created: int,
    updated: int,
    flags: int,
    aux: int,
    *,
    buyer: dict | bool | None = True,
    lines: list[LineSpec] | None = None,
    catalog: list[ProductCore] | None = None,
) -> dict:
    """Order ``i``; ``buyer=True`` picks a generated customer, else the given one (or a guest).

    Totals follow Shopify: subtotal = line items - discounts; total = subtotal + shipping +
    tax; discount allocations sum to total_discounts; refunds never exceed total_price.
    """
    p = profile
    rng = record_rng(p.key, S_ORDER, i)
    fmt_t, fmt, mset, gid = p.clock.fmt, p.fmt, p.mset, p.gid
    test = bool(flags & TEST)

    customer_obj: dict | None = None
    address: dict | None = None
    if buyer is True:
        k = bisect_right(p.customer_created, created)
        if k and rng.random() >= 0.12:
            customer_obj, address = _customer_snapshot(p, int(k * rng.random() ** 4))
    elif isinstance(buyer, dict):
        customer_obj, address = buyer, _postal(buyer)
    if customer_obj is not None:
        email = customer_obj["email"]
        first, last = customer_obj["first_name"], customer_obj["last_name"]
    else:
        first, last = rng.choice(words.FIRST), rng.choice(words.LAST)
        email = f"{first}.{last}+{i}@guest.example.net".lower() if rng.random() < 0.7 else ""

    specs = lines if lines is not None else pick_lines(p, rng, catalog or p.catalog)
    gross = [price * qty for _, _, _, price, qty in specs]
    total_li = sum(gross)

    discount_codes: list[dict] = []
    discount_apps: list[dict] = []
    total_disc = 0
    if lines is None and rng.random() < 0.18:
        code, kind, value = words.DISCOUNTS[rng.randrange(len(words.DISCOUNTS))]
        if kind == "percentage":
            total_disc = (total_li * value + 50) // 100
            value_text = f"{value}.0"
        else:
            total_disc = min(total_li, value * p.scale * 10**p.exp)
            value_text = fmt(value * p.scale * 10**p.exp)
        discount_codes.append({"code": code, "amount": fmt(total_disc), "type": kind})
        discount_apps.append(
            {
                "target_type": "line_item",
                "type": "discount_code",
                "value": value_text,
                "value_type": kind,
                "allocation_method": "across",
                "target_selection": "all",
                "code": code,
            }
        )
    allocs = money.allocate(total_disc, gross)
    taxes = [money.tax(g - a, p.tax_bp) for g, a in zip(gross, allocs, strict=True)]
    total_tax = sum(taxes)
    rate = p.tax_bp / 10000
    fulfilled = bool(flags & FULFILLED)
    li_base = p.id_of("line_item", i * 8)
    line_items = []
    for n, ((core, variant, title, price, qty), alloc, tx) in enumerate(
        zip(specs, allocs, taxes, strict=True)
    ):
        price_s, tax_s = fmt(price), fmt(tx)
        lid = li_base + n
        line = {
            "id": lid,
            "admin_graphql_api_id": f"gid://shopify/LineItem/{lid}",
            "fulfillable_quantity": 0 if fulfilled else qty,
            "fulfillment_status": "fulfilled" if fulfilled else None,
            "price": price_s,
            "price_set": mset(price_s),
            "quantity": qty,
        }
        line.update(p.line_static(core, variant, title))
        line["tax_lines"] = (
            [
                {
                    "channel_liable": False,
                    "price": tax_s,
                    "price_set": mset(tax_s),
                    "rate": rate,
                    "title": p.tax_title,
                }
            ]
            if tx
            else []
        )
        line["discount_allocations"] = (
            [
                {
                    "amount": fmt(alloc),
                    "amount_set": mset(fmt(alloc)),
                    "discount_application_index": 0,
                }
            ]
            if alloc
            else []
        )
        line_items.append(line)

    subtotal = total_li - total_disc
    shipping = 0
    shipping_lines: list[dict] = []
    if any(core is not None for core, *_ in specs):
        express = rng.random() < 0.1
        unit = 10**p.exp
        if express:
            shipping = 15 * p.scale * unit - (1 if p.exp else 0)
        elif subtotal < 100 * p.scale * unit:
            shipping = 6 * p.scale * unit - (1 if p.exp else 0)
        ship_s = fmt(shipping)
        shipping_lines.append(
            {
                "id": p.id_of("shipping_line", i),
                "carrier_identifier": None,
                "code": "Express" if express else "Standard",
                "discounted_price": ship_s,
                "discounted_price_set": mset(ship_s),
                "phone": None,
                "price": ship_s,
                "price_set": mset(ship_s),
                "requested_fulfillment_service_id": None,
                "source": "shopify",
                "title": "Express Shipping" if express else "Standard Shipping",
                "tax_lines": [],
                "discount_allocations": [],
            }
        )
    total = subtotal + shipping + total_tax

    gateway = "bogus" if test else "shopify_payments"
    sale_txn = p.id_of("transaction", i * 8)
    refunds: list[dict] = []
    refunded = 0
    if flags & (REFUND_FULL | REFUND_PARTIAL):
        when = created + aux
        if flags & REFUND_FULL:
            refund_lines = [(n, specs[n][4]) for n in range(len(specs))]
            amount = total
        else:
            n = rng.randrange(len(specs))
            rq = rng.randrange(1, specs[n][4] + 1)
            refund_lines = [(n, rq)]
            amount = 0
        rli = []
        for n, rq in refund_lines:
            qty = specs[n][4]
            sub = (gross[n] - allocs[n]) * rq // qty
            tx = taxes[n] * rq // qty
            if not flags & REFUND_FULL:
                amount += sub + tx
            li = line_items[n]
            rli.append(
                {
                    "id": li["id"] + 1_000_000,
                    "line_item_id": li["id"],
                    "location_id": None,
                    "quantity": rq,
                    "restock_type": "return" if fulfilled else "cancel",
                    "subtotal": fmt(sub),
                    "subtotal_set": mset(fmt(sub)),
                    "total_tax": fmt(tx),
                    "total_tax_set": mset(fmt(tx)),
                    "line_item": li,
                }
            )
        refunded = amount
        txns = []
        if rng.random() < 0.1:
            tid = p.id_of("transaction", i * 8 + 1)
            txns.append(_refund_txn(p, oid, tid, when, amount, test, sale_txn, False))
        tid = p.id_of("transaction", i * 8 + 2)
        txns.append(_refund_txn(p, oid, tid, when, amount, test, sale_txn, True))
        refund_id = p.id_of("refund", i * 2)
        adjustments = []
        if flags & REFUND_FULL and shipping:
            adjustments.append(
                {
                    "id": refund_id + 1,
                    "order_id": oid,
                    "refund_id": refund_id,
                    "amount": fmt(-shipping),
                    "amount_set": mset(fmt(-shipping)),
                    "tax_amount": fmt(0),
                    "tax_amount_set": mset(p.zero),
                    "kind": "shipping_refund",
                    "reason": "Shipping refund",
                }
            )
        refunds.append(
            {
                "id": refund_id,
                "admin_graphql_api_id": gid("Refund", refund_id),
                "created_at": fmt_t(when),
                "note": None,
                "order_id": oid,
                "processed_at": fmt_t(when),
                "restock": True,
                "total_duties_set": mset(p.zero),
                "user_id": None,
                "order_adjustments": adjustments,
                "transactions": txns,
                "refund_line_items": rli,
                "duties": [],
            }
        )

    if flags & CANCELLED and flags & UNPAID:
        financial = "voided"
    elif flags & UNPAID:
        financial = "pending" if i % 3 else "authorized"
    elif refunded >= total and refunds:
        financial = "refunded"
    elif refunded:
        financial = "partially_refunded"
    else:
        financial = "paid"

    created_s = fmt_t(created)
    number = i + 1
    token_bits = rng.getrandbits(128)
    token = f"{token_bits:032x}"
    if address is None:
        address = p.address(rng.getrandbits(32), first, last, None)
    total_s, sub_s, tax_s = fmt(total), fmt(subtotal), fmt(total_tax)
    disc_s, li_s, ship_s = fmt(total_disc), fmt(total_li), fmt(shipping)
    return {
        "id": oid,
        "admin_graphql_api_id": gid("Order", oid),
        "app_id": 580111,
        "browser_ip": f"203.0.113.{(token_bits & 0xFF) % 254 + 1}",
        "buyer_accepts_marketing": customer_obj is not None and rng.random() < 0.4,
        "cancel_reason": words.CANCEL_REASONS[i % 5] if flags & CANCELLED else None,
        "cancelled_at": fmt_t(created + aux) if flags & CANCELLED else None,
        "cart_token": token[:24],
        "checkout_id": p.id_of("misc", i),
        "checkout_token": token[8:],
        "closed_at": fmt_t(updated) if flags & CLOSED else None,
        "confirmation_number": f"{rng.getrandbits(40):010X}"[:9],
        "confirmed": True,
        "contact_email": email or None,
        "created_at": created_s,
        "currency": p.currency,
        "current_total_price": fmt(total - refunded),
        "current_total_price_set": mset(fmt(total - refunded)),
        "customer_locale": "en",
        "discount_applications": discount_apps,
        "discount_codes": discount_codes,
        "email": email,
        "estimated_taxes": False,
        "financial_status": financial,
        "fulfillment_status": "fulfilled" if fulfilled else None,
        "landing_site": "/",
        "location_id": None,
        "name": f"#{1000 + number}",
        "note": None,
        "note_attributes": [],
        "number": number,
        "order_number": 1000 + number,
        "order_status_url": f"https://{p.domain}/{p.shop_id}/orders/{token}/authenticate",
        "payment_gateway_names": [gateway],
        "phone": None,
        "presentment_currency": p.currency,
        "processed_at": created_s,
        "reference": None,
        "referring_site": "https://www.google.com/" if rng.random() < 0.3 else "",
        "source_identifier": None,
        "source_name": "web",
        "subtotal_price": sub_s,
        "subtotal_price_set": mset(sub_s),
        "tags": "",
        "tax_lines": [
            {
                "price": tax_s,
                "rate": rate,
                "title": p.tax_title,
                "price_set": mset(tax_s),
                "channel_liable": False,
            }
        ]
        if total_tax
        else [],
        "taxes_included": False,
        "test": test,
        "token": token,
        "total_discounts": disc_s,
        "total_discounts_set": mset(disc_s),
        "total_line_items_price": li_s,
        "total_line_items_price_set": mset(li_s),
        "total_outstanding": total_s if flags & UNPAID and not flags & CANCELLED else fmt(0),
        "total_price": total_s,
        "total_price_set": mset(total_s),
        "total_shipping_price_set": mset(ship_s),
        "total_tax": tax_s,
        "total_tax_set": mset(tax_s),
        "total_weight": sum(v.grams * q for _, v, _, _, q in specs if v),
        "updated_at": fmt_t(updated),
        "user_id": None,
        "billing_address": address,
        "customer": customer_obj,
        "fulfillments": [],
        "line_items": line_items,
        "refunds": refunds,
        "shipping_address": address if shipping_lines else None,
        "shipping_lines": shipping_lines,
    }


_ADDRESS_ONLY = frozenset({"id", "customer_id", "default"})


def _refund_txn(
    p: ShopProfile,
    oid: int,
    tid: int,
    when: int,
    amount: int,
    test: bool,
    parent: int | None,
    ok: bool,
) -> dict:
    """A refund transaction; a failed attempt precedes some successful ones."""
    when_s = p.clock.fmt(when)
    return {
        "id": tid,
        "admin_graphql_api_id": p.gid("OrderTransaction", tid),
        "amount": p.fmt(amount),
        "authorization": None,
        "created_at": when_s,
        "currency": p.currency,
        "device_id": None,
        "error_code": None if ok else "processing_error",
        "gateway": "bogus" if test else "shopify_payments",
        "kind": "refund",
        "location_id": None,
        "message": "Refund processed" if ok else "There was an error processing the refund",
        "order_id": oid,
        "parent_id": parent,
        "payment_id": f"c{oid}.{tid % 7 + 1}",
        "processed_at": when_s,
        "receipt": {},
        "source_name": "web",
        "status": "success" if ok else "failure",
        "test": test,
        "user_id": None,
    }


def refund_transaction(
    p: ShopProfile, oid: int, tid: int, when: int, amount: int, test: bool
) -> dict:
    """A successful refund transaction for refunds made through the control surface."""
    return _refund_txn(p, oid, tid, when, amount, test, None, True)


def _customer_snapshot(p: ShopProfile, c: int) -> tuple[dict, dict | None]:
    """Generated customer ``c`` as nested in an order (its base version, so an order renders
    identically whatever happens to the customer later) and its address as orders use it."""
    cached = p.snapshots.get(c)
    if cached is None:
        created = p.customer_created[c]
        rec = customer(p, c, stride_id(p, "customer", c), created, customer_updated(p, c, created))
        summary = customer_summary(rec)
        cached = (summary, _postal(summary))
        if len(p.snapshots) > 8192:
            p.snapshots.clear()
        p.snapshots[c] = cached
    return cached


def _postal(customer_obj: dict) -> dict | None:
    """A customer's default address without its customer-only keys."""
    home = customer_obj.get("default_address")
    return {k: v for k, v in home.items() if k not in _ADDRESS_ONLY} if home else None


def checkout(
    profile: ShopProfile,
    i: int,
    kid: int,
    created: int,
    updated: int,
    flags: int,
    *,
    buyer: dict | bool | None = True,
    catalog: list[ProductCore] | None = None,
) -> dict:
    """Abandoned checkout ``i``; ``completed_at`` is set when it was later recovered."""
    p = profile
    rng = record_rng(p.key, S_CHECKOUT, i)
    fmt_t, fmt = p.clock.fmt, p.fmt
    customer_obj: dict | None = None
    if buyer is True:
        k = bisect_right(p.customer_created, created)
        if k and rng.random() < 0.6:
            customer_obj = _customer_snapshot(p, int(k * rng.random() ** 2))[0]
    elif isinstance(buyer, dict):
        customer_obj = buyer
    if customer_obj is not None:
        email = customer_obj["email"]
    else:
        email = f"{rng.choice(words.FIRST)}.{i}@shopper.example.org".lower()
    specs = pick_lines(p, rng, catalog or p.catalog)
    token = f"{rng.getrandbits(128):032x}"
    line_items = []
    subtotal = total_tax = 0
    for n, (core, variant, title, price, qty) in enumerate(specs):
        line_price = price * qty
        tx = money.tax(line_price, p.tax_bp)
        subtotal += line_price
        total_tax += tx
        line_items.append(
            {
                "key": f"{token[:16]}{n}",
                "fulfillment_service": "manual",
                "gift_card": False,
                "grams": variant.grams if variant else 0,
                "presentment_title": title,
                "presentment_variant_title": variant.title if variant else "",
                "product_id": core.id if core else None,
                "quantity": qty,
                "requires_shipping": core is not None,
                "sku": variant.sku if variant else "",
                "tax_lines": [{"price": fmt(tx), "rate": p.tax_bp / 10000, "title": p.tax_title}],
                "taxable": True,
                "title": title,
                "variant_id": variant.id if variant else None,
                "variant_title": variant.title if variant else "",
                "variant_price": fmt(price),
                "vendor": core.vendor if core else "",
                "compare_at_price": None,
                "line_price": fmt(line_price),
                "price": fmt(price),
                "applied_discounts": [],
                "destination_location_id": None,
                "user_id": None,
                "rank": None,
                "origin_location_id": None,
                "properties": {},
            }
        )
    first = customer_obj["first_name"] if customer_obj else rng.choice(words.FIRST)
    last = customer_obj["last_name"] if customer_obj else rng.choice(words.LAST)
    address = p.address(rng.getrandbits(32), first, last, None)
    total = subtotal + total_tax
    return {
        "id": kid,
        "token": token,
        "cart_token": f"{rng.getrandbits(96):024x}",
        "email": email,
        "gateway": None,
        "buyer_accepts_marketing": False,
        "created_at": fmt_t(created),
        "updated_at": fmt_t(updated),
        "landing_site": "/",
        "note": None,
        "note_attributes": [],
        "referring_site": "",
        "shipping_lines": [],
        "taxes_included": False,
        "total_weight": sum(v.grams * q for _, v, _, _, q in specs if v),
        "currency": p.currency,
        "completed_at": fmt_t(updated) if flags & COMPLETED else None,
        "closed_at": None,
        "user_id": None,
        "location_id": None,
        "source_identifier": None,
        "source_url": None,
        "device_id": None,
        "phone": None,
        "customer_locale": "en",
        "line_items": line_items,
        "name": f"#{kid % 10_000_000}",
        "source": None,
        "abandoned_checkout_url": (
            f"https://{p.domain}/{p.shop_id}/checkouts/ac/{token}/recover?key={token[16:]}"
        ),
        "discount_codes": [],
        "tax_lines": [{"price": fmt(total_tax), "rate": p.tax_bp / 10000, "title": p.tax_title}],
        "source_name": "web",
        "presentment_currency": p.currency,
        "buyer_accepts_sms_marketing": False,
        "sms_marketing_phone": None,
        "total_discounts": fmt(0),
        "total_line_items_price": fmt(subtotal),
        "total_price": fmt(total),
        "total_tax": fmt(total_tax),
        "subtotal_price": fmt(subtotal),
        "total_duties": None,
        "billing_address": address,
        "shipping_address": address,
        "customer": customer_obj,
    }
