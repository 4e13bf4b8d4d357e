"""Deterministic shop data: profile, catalogue, ids and the compact startup skeleton.

Record ``i`` of a resource is a pure function of the shop's key, ``i`` and a few compact
per-record values (creation/update times, status flags) that ``skeletons`` precomputes
into arrays; ``records`` renders it on demand, so nothing O(store) is held in memory.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from simulator import money, words
from simulator.timeline import Timeline
from simulator.timeutil import ShopClock

DAY = 86400
_MASK = (1 << 64) - 1

# Order flag bits (one byte per order). DELETED is shared by every resource.
TEST, CANCELLED, CLOSED, DELETED = 1, 2, 4, 8
REFUND_PARTIAL, REFUND_FULL, UNPAID, FULFILLED = 16, 32, 64, 128
COMPLETED = 2  # checkouts: recovered (completed_at set)

# Stream salts so that each resource draws from its own random sequence.
S_ORDER, S_CUSTOMER, S_PRODUCT, S_CHECKOUT, S_SKELETON, S_UPDATE = 11, 23, 37, 53, 71, 97

# Id bases: realistic magnitudes; each shop gets its own slot so shops do not share ids
# (Shopify's ids are global). SLOTS keeps every id below 2**53, safe in JavaScript.
BASES = {
    "order": 5_100_000_000_000,
    "customer": 6_400_000_000_000,
    "product": 7_900_000_000_000,
    "checkout": 28_000_000_000_000,
    "variant": 40_000_000_000_000,
    "inventory_item": 42_000_000_000_000,
    "line_item": 13_000_000_000_000,
    "refund": 900_000_000_000,
    "transaction": 6_000_000_000_000,
    "address": 8_100_000_000_000,
    "shipping_line": 4_100_000_000_000,
    "misc": 99_000_000_000_000,
}
STRIDES = {"order": 41, "customer": 53, "product": 29, "checkout": 47}
SLOT = 100_000_000_000
SLOTS = 80_000


def mix(key: int, salt: int, i: int) -> int:
    """splitmix64 of (key, salt, i): a cheap hash where a ``Random`` would be too slow."""
    z = (key + salt * 0x9E3779B97F4A7C15 + i * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def record_rng(key: int, salt: int, i: int) -> random.Random:
    """The random stream of one record."""
    return random.Random(mix(key, salt, i))


@dataclass(frozen=True, slots=True)
class Variant:
    """The parts of a variant that orders and checkouts copy into line items."""

    id: int
    product_id: int
    title: str
    price: int
    sku: str
    grams: int
    inventory_item_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class ProductCore:
    """A product's catalogue facts; small enough to keep every product in memory."""

    id: int
    title: str
    handle: str
    vendor: str
    product_type: str
    tags: str
    variants: tuple[Variant, ...]


# A line to put on an order: (product or None for a custom item, variant, title, price, qty).
LineSpec = tuple[ProductCore | None, Variant | None, str, int, int]


class ShopProfile:
    """Static facts of one simulated shop plus its product catalogue."""

    def __init__(
        self,
        *,
        name: str,
        seed: int,
        currency: str,
        timezone: str,
        anchor: int,
        days: int,
        orders: int,
        customers: int | None = None,
        products: int | None = None,
        checkouts: int | None = None,
    ) -> None:
        if currency not in money.CURRENCIES:
            raise ValueError(f"unsupported currency {currency!r}")
        self.name = name
        self.seed = seed
        self.domain = f"{name}.myshopify.com"
        digest = hashlib.blake2b(f"{seed}:{name}".encode(), digest_size=32).digest()
        self.key = int.from_bytes(digest[:8], "big")
        self.token = "shpat_" + digest[8:24].hex()
        self.webhook_secret = digest[24:32].hex() + hashlib.sha256(digest).hexdigest()[:16]
        self.slot = self.key % SLOTS + 1
        self.shop_id = 60_000_000_000 + self.slot * 100_000 + self.key % 100_000
        self.currency = currency
        self.exp, self.scale, _, self.tax_title, self.tax_bp = money.CURRENCIES[currency]
        self.timezone = timezone
        self.clock = ShopClock(timezone)
        self.anchor = anchor
        self.start = anchor - days * DAY
        self.n_orders = orders
        self.n_customers = customers if customers is not None else max(5, orders // 3)
        self.n_products = products if products is not None else min(1500, 8 + int(orders**0.5))
        self.n_checkouts = checkouts if checkouts is not None else max(3, orders // 4)
        self.country, self.country_code, self.places = words.PLACES.get(
            currency, words.PLACES["USD"]
        )
        self.catalog = [self.product_core(p) for p in range(self.n_products)]
        self.customer_created = array("q")  # set by skeletons(); needed to pick buyers
        self.snapshots: dict[
            int, tuple[dict, dict | None]
        ] = {}  # bounded cache of nested customer objects
        self.mset = lru_cache(maxsize=16384)(self._mset)
        self.fmt = lru_cache(maxsize=65536)(self._fmt)
        self.zero = self.fmt(0)
        self._line_static: dict[tuple[int | None, str], dict] = {}

    # ids ------------------------------------------------------------------------------

    def id_of(self, kind: str, n: int) -> int:
        """Id of the ``n``-th sub-record (line item, refund, ...) of this shop."""
        return BASES[kind] + self.slot * SLOT + n

    def _fmt(self, minor: int) -> str:
        """Money string in the shop currency (cached as ``fmt``)."""
        return money.fmt(minor, self.exp)

    def _mset(self, amount: str) -> dict[str, Any]:
        """Shopify's MoneyBag for a shop-currency amount (cached; never mutated)."""
        m = {"amount": amount, "currency_code": self.currency}
        return {"shop_money": m, "presentment_money": m}

    def gid(self, kind: str, rid: int) -> str:
        """``admin_graphql_api_id`` of a record."""
        return f"gid://shopify/{kind}/{rid}"

    def line_static(self, core: ProductCore | None, variant: Variant | None, title: str) -> dict:
        """Line item fields fixed by the variant (cached): most of a line item's keys."""
        key = (variant.id if variant else None, title)
        hit = self._line_static.get(key)
        if hit is None:
            vt = variant.title if variant else None
            hit = {
                "fulfillment_service": "manual",
                "gift_card": False,
                "grams": variant.grams if variant else 0,
                "name": title if vt in (None, "Default Title") else f"{title} - {vt}",
                "product_exists": core is not None,
                "product_id": core.id if core else None,
                "properties": [],
                "requires_shipping": core is not None,
                "sku": variant.sku if variant else None,
                "taxable": True,
                "title": title,
                "total_discount": self.zero,
                "total_discount_set": self.mset(self.zero),
                "variant_id": variant.id if variant else None,
                "variant_inventory_management": "shopify" if variant else None,
                "variant_title": vt,
                "vendor": core.vendor if core else None,
                "duties": [],
            }
            if len(self._line_static) > 50_000:
                self._line_static.clear()
            self._line_static[key] = hit
        return hit

    # catalogue ------------------------------------------------------------------------

    def product_core(self, p: int, pid: int | None = None) -> ProductCore:
        """Catalogue facts of product ``p`` (``pid`` given for products created at run time)."""
        rng = record_rng(self.key, S_PRODUCT, p)
        pid = pid if pid is not None else product_id(self, p)
        title = f"{rng.choice(words.ADJECTIVES)} {rng.choice(words.NOUNS)}"
        if p >= len(words.ADJECTIVES) * len(words.NOUNS) // 4:
            title += f" {p}"
        base = rng.lognormvariate(3.2, 0.7) * self.scale
        n_variants = rng.choice((1, 1, 2, 3, 4))
        variants = []
        for v in range(n_variants):
            major = max(1, round(base * (1 + 0.15 * v)))
            price = major * 10**self.exp - (1 if self.exp else 0)
            variants.append(
                Variant(
                    id=self.id_of("variant", p * 4 + v),
                    product_id=pid,
                    title=words.SIZES[v] if n_variants > 1 else "Default Title",
                    price=price,
                    sku=f"SKU-{p:05d}-{v}",
                    grams=rng.randrange(50, 2000),
                    inventory_item_id=self.id_of("inventory_item", p * 4 + v),
                    quantity=rng.randrange(0, 500),
                )
            )
        return ProductCore(
            id=pid,
            title=title,
            handle=title.lower().replace(" ", "-"),
            vendor=rng.choice(words.VENDORS),
            product_type=rng.choice(words.PRODUCT_TYPES),
            tags=", ".join(sorted({rng.choice(words.ADJECTIVES).lower() for _ in range(2)})),
            variants=tuple(variants),
        )

    def address(self, h: int, first: str, last: str, aid: int | None) -> dict:
        """A postal address in the shop's country, picked by the bits of hash ``h``."""
        city, province, province_code, zip_code = self.places[h % len(self.places)]
        addr: dict[str, Any] = {}
        if aid is not None:
            addr["id"] = aid
        addr.update(
            first_name=first,
            last_name=last,
            company=None,
            address1=f"{(h >> 8) % 998 + 1} {words.STREETS[(h >> 20) % len(words.STREETS)]}",
            address2="",
            city=city,
            province=province,
            country=self.country,
            zip=zip_code,
            phone=None,
            name=f"{first} {last}",
            province_code=province_code,
            country_code=self.country_code,
            country_name=self.country,
        )
        return addr


def stride_id(profile: ShopProfile, kind: str, i: int) -> int:
    """Id of generated record ``i``: strictly increasing in ``i`` with a little jitter."""
    stride = STRIDES[kind]
    return BASES[kind] + profile.slot * SLOT + i * stride + mix(profile.key, stride, i) % stride


def product_id(profile: ShopProfile, p: int) -> int:
    """Id of generated product ``p``."""
    return stride_id(profile, "product", p)


def core_from_product(rec: dict, exp: int) -> ProductCore:
    """Rebuild catalogue facts from a product record (for products created at run time)."""
    return ProductCore(
        id=rec["id"],
        title=rec["title"],
        handle=rec["handle"],
        vendor=rec["vendor"],
        product_type=rec["product_type"],
        tags=rec["tags"],
        variants=tuple(
            Variant(
                id=v["id"],
                product_id=rec["id"],
                title=v["title"],
                price=money.parse(v["price"], exp),
                sku=v["sku"],
                grams=v["grams"],
                inventory_item_id=v["inventory_item_id"],
                quantity=v["inventory_quantity"],
            )
            for v in rec["variants"]
        ),
    )


# skeletons ----------------------------------------------------------------------------


def customer_updated(profile: ShopProfile, c: int, created: int) -> int:
    """Base ``updated_at`` of generated customer ``c`` (a fifth were edited after sign-up)."""
    h = mix(profile.key, S_UPDATE, c)
    if h % 5:
        return created
    return created + (h >> 8) % max(1, profile.anchor - created)


def skeletons(profile: ShopProfile) -> dict[str, tuple[array, array, bytearray, array]]:
    """Per-resource (created, updated, flags, aux) arrays, computed once at startup.

    One sequential random stream per resource makes this a few hundred ns per record,
    so a million-order shop starts in seconds.
    """
    anchor, start = profile.anchor, profile.start
    offset = profile.clock.offset(anchor)[0]
    seasonal = Timeline(start, anchor, offset)
    rng = random.Random(mix(profile.key, S_SKELETON, 0))
    out: dict[str, tuple[array, array, bytearray, array]] = {}

    # Customers: a tenth signed up before the window; the rest follow the season.
    n_c = profile.n_customers
    early = Timeline(start - 120 * DAY, start, offset, seasonal=False).spread(n_c // 10, rng)
    cust = early + seasonal.spread(n_c - len(early), rng)
    profile.customer_created = cust
    cust_upd = array("q", (customer_updated(profile, c, cust[c]) for c in range(n_c)))
    out["customers"] = (array("q", cust), cust_upd, bytearray(n_c), array("i", bytes(4 * n_c)))

    # Products: all listed before the window opens, some edited since.
    n_p = profile.n_products
    prod = Timeline(start - 365 * DAY, start, offset, seasonal=False).spread(n_p, rng)
    prod_upd = array("q", (t + int(rng.random() ** 3 * (anchor - t)) for t in prod))
    out["products"] = (prod, prod_upd, bytearray(n_p), array("i", bytes(4 * n_p)))

    out["orders"] = _order_skeleton(profile, seasonal, rng)

    n_k = profile.n_checkouts
    chk = seasonal.spread(n_k, rng)
    chk_upd = array("q")
    chk_flags = bytearray(n_k)
    for i, t in enumerate(chk):
        age = anchor - t
        if age > 3600 and rng.random() < 0.15:
            chk_flags[i] = COMPLETED
            chk_upd.append(t + 3600 + int(rng.random() * min(age - 3600, 7 * DAY)))
        else:
            chk_upd.append(t + min(age, int(rng.random() * 1800)))
    out["checkouts"] = (chk, chk_upd, chk_flags, array("i", bytes(4 * n_k)))
    return out


def _order_skeleton(
    profile: ShopProfile, seasonal: Timeline, rng: random.Random
) -> tuple[array, array, bytearray, array]:
    """Order lifecycle: test, unpaid, cancelled, fulfilled, closed, refunded; and when.

    ``aux`` is the delay from creation to the cancellation or refund; ``closed_at`` is
    always the last event, so it equals ``updated_at``.
    """
    anchor = profile.anchor
    created = seasonal.spread(profile.n_orders, rng)
    updated = array("q")
    flags = bytearray(profile.n_orders)
    aux = array("i")
    r = rng.random
    for i, t in enumerate(created):
        age = anchor - t
        f = TEST if r() < 0.015 else 0
        if r() < 0.04:
            f |= UNPAID
        event = 0
        last = t + min(age, int(r() * 900))
        if age > 3600 and r() < 0.03:
            event = 3600 + int(r() * min(age - 3600, 3 * DAY))
            f |= CANCELLED | (0 if f & UNPAID else REFUND_FULL)
            last = t + event
            if r() < 0.8:
                f |= CLOSED
        elif not f & UNPAID:
            if age > 2 * DAY and r() < 0.97:
                f |= FULFILLED
            if age > 3 * DAY:
                x = r()
                if x < 0.08:
                    f |= REFUND_PARTIAL if x < 0.06 else REFUND_FULL
                    event = DAY + int(r() * min(age - DAY, 30 * DAY))
                    last = t + event
            if f & FULFILLED and age > 14 * DAY and r() < 0.85:
                f |= CLOSED
                last = max(last, t + 3 * DAY + int(r() * (age - 3 * DAY)))
        flags[i] = f
        aux.append(event)
        updated.append(last)
    return created, updated, flags, aux
