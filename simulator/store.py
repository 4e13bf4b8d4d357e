"""A shop's records: compact arrays for generated ones plus an overlay for changes.

Generated record ``i`` is rendered on demand from the shop key and its array entries;
records created, updated or deleted through the control surface live in ``overlay``
(and flags) so nothing O(store) is held as Python objects.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from simulator import generator as gen
from simulator import money, records
from simulator.timeutil import now

RESOURCES = ("customers", "products", "orders", "checkouts")
SINGULAR = {
    "customers": "customer",
    "products": "product",
    "orders": "order",
    "checkouts": "checkout",
}
READ_ONLY = {"id", "created_at", "updated_at", "admin_graphql_api_id"}

Event = tuple[str, dict]  # (webhook topic, payload)


class ApiError(Exception):
    """An error answered as Shopify would: status plus the ``errors`` value."""

    def __init__(self, status: int, errors: Any) -> None:
        super().__init__(errors)
        self.status = status
        self.errors = errors


def copy(rec: dict) -> dict:
    """Deep copy through JSON (records are JSON data; cached parts are shared)."""
    return msgspec.json.decode(msgspec.json.encode(rec))


class Table:
    """One resource of one shop; index ``i`` orders records by id (and creation time)."""

    def __init__(
        self,
        kind: str,
        profile: gen.ShopProfile,
        arrays: tuple[array, array, bytearray, array],
        render: Callable[[int], dict],
    ) -> None:
        self.kind = kind
        self.profile = profile
        self.created, self.updated, self.flags, self.aux = arrays
        self.n_base = len(self.created)
        self.extra_ids: list[int] = []
        self.overlay: dict[int, dict] = {}
        self.deleted = 0
        self._render = render

    def __len__(self) -> int:
        return len(self.created)

    @property
    def live(self) -> int:
        """Number of records that exist."""
        return len(self.created) - self.deleted

    def id_at(self, i: int) -> int:
        """Id of record ``i``."""
        if i < self.n_base:
            return gen.stride_id(self.profile, self.kind, i)
        return self.extra_ids[i - self.n_base]

    def index_after(self, rid: int) -> int:
        """First index whose id is greater than ``rid``."""
        n_base = self.n_base
        if n_base and rid < self.id_at(n_base - 1):
            stride = gen.STRIDES[self.kind]
            first = gen.BASES[self.kind] + self.profile.slot * gen.SLOT
            i = min(max(0, (rid - first) // stride), n_base - 1)
            while i > 0 and self.id_at(i - 1) > rid:
                i -= 1
            while i < n_base and self.id_at(i) <= rid:
                i += 1
            return i
        return n_base + bisect_right(self.extra_ids, rid)

    def index_of(self, rid: int) -> int | None:
        """Index of a live record with id ``rid``."""
        i = self.index_after(rid - 1)
        if i < len(self) and self.id_at(i) == rid and not self.flags[i] & gen.DELETED:
            return i
        return None

    def get(self, i: int) -> dict:
        """Record ``i`` as the REST API renders it (treat as read-only)."""
        rec = self.overlay.get(i)
        return rec if rec is not None else self._render(i)

    def put(self, i: int, rec: dict, updated: int, flags: int) -> None:
        """Store a changed record; the arrays keep filters and sorting exact."""
        self.overlay[i] = rec
        self.updated[i] = updated
        self.flags[i] = flags

    def append(self, rid: int, created: int, rec: dict, flags: int) -> int:
        """Add a new record (its id is larger than every existing id)."""
        self.extra_ids.append(rid)
        self.created.append(created)
        self.updated.append(created)
        self.flags.append(flags)
        self.aux.append(0)
        i = len(self.created) - 1
        self.overlay[i] = rec
        return i

    def delete(self, i: int) -> None:
        """Drop a record from every listing."""
        self.overlay.pop(i, None)
        self.flags[i] |= gen.DELETED
        self.deleted += 1

    def next_id(self, rng: random.Random) -> int:
        """A fresh id above every existing one."""
        last = self.id_at(len(self) - 1) if len(self) else gen.stride_id(self.profile, self.kind, 0)
        return last + rng.randrange(1, gen.STRIDES[self.kind] * 4)

    def next_created(self) -> int:
        """Creation time for a new record: now, but never before the newest record."""
        return max(now(), self.created[-1] if len(self) else 0)

    def iter_live(self) -> Iterator[dict]:
        """Every existing record in id order, as independent copies the caller may change."""
        for rec in self.iter_shared():
            yield copy(rec)

    def iter_shared(self) -> Iterator[dict]:
        """Every existing record in id order, read-only: rendered records share cached
        sub-objects (money bags, line item parts), so mutating one would corrupt others."""
        flags = self.flags
        for i in range(len(self)):
            if not flags[i] & gen.DELETED:
                yield self.get(i)


def order_flags(rec: dict) -> int:
    """Filter bits of an order record."""
    flags = gen.TEST if rec.get("test") else 0
    if rec.get("cancelled_at"):
        flags |= gen.CANCELLED
    if rec.get("closed_at"):
        flags |= gen.CLOSED
    return flags


class ShopStore:
    """All records of one shop and the mutations the control surface offers."""

    def __init__(self, profile: gen.ShopProfile) -> None:
        self.profile = p = profile
        arrays = gen.skeletons(profile)
        self.customers = Table("customer", p, arrays["customers"], self._customer)
        self.products = Table("product", p, arrays["products"], self._product)
        self.orders = Table("order", p, arrays["orders"], self._order)
        self.checkouts = Table("checkout", p, arrays["checkouts"], self._checkout)
        self.tables = {
            "customers": self.customers,
            "products": self.products,
            "orders": self.orders,
            "checkouts": self.checkouts,
        }
        self._serial = 0
        self.version = 0  # bumped by every mutation (invalidates read-ahead pages)
        self._rng = random.Random(gen.mix(p.key, 211, 0))

    # base renderers ---------------------------------------------------------------------

    def _customer(self, i: int) -> dict:
        t = self.customers
        return records.customer(self.profile, i, t.id_at(i), t.created[i], t.updated[i])

    def _product(self, i: int) -> dict:
        t = self.products
        return records.product(self.profile, self.profile.catalog[i], t.created[i], t.updated[i])

    def _order(self, i: int) -> dict:
        t = self.orders
        flags = t.flags[i] & ~gen.DELETED
        return records.order(
            self.profile, i, t.id_at(i), t.created[i], t.updated[i], flags, t.aux[i]
        )

    def _checkout(self, i: int) -> dict:
        t = self.checkouts
        return records.checkout(
            self.profile, i, t.id_at(i), t.created[i], t.updated[i], t.flags[i] & ~gen.DELETED
        )

    # helpers ------------------------------------------------------------------------------

    def table(self, resource: str) -> Table:
        """The table of a resource name (``orders`` ...)."""
        try:
            return self.tables[resource]
        except KeyError:
            raise ApiError(404, "Not Found") from None

    def find(self, resource: str, rid: int) -> tuple[Table, int]:
        """Table and index of a live record, or 404."""
        table = self.table(resource)
        i = table.index_of(rid)
        if i is None:
            raise ApiError(404, "Not Found")
        return table, i

    def _misc_id(self) -> int:
        """Ids for sub-records made at run time (refunds, transactions)."""
        self._serial += 1
        return self.profile.id_of("misc", 10_000_000_000 + self._serial)

    def _catalog(self) -> list[gen.ProductCore]:
        """Live products as catalogue entries (new orders only use existing products)."""
        t = self.products
        out = []
        for i in range(len(t)):
            if t.flags[i] & gen.DELETED:
                continue
            rec = t.overlay.get(i)
            if rec is None:
                out.append(self.profile.catalog[i])
            else:
                out.append(gen.core_from_product(rec, self.profile.exp))
        return out

    def _random_customer(self, rng: random.Random) -> dict | None:
        """A live customer, favouring long-standing ones (repeat buyers); None for a guest."""
        t = self.customers
        if not t.live or rng.random() < 0.12:
            return None
        for _ in range(20):
            i = int(len(t) * rng.random() ** 3)
            if not t.flags[i] & gen.DELETED:
                return records.customer_summary(t.get(i))
        return None

    def _buyer(self, body: dict, rng: random.Random) -> dict | None:
        """Customer of a new order/checkout: ``customer_id``/``customer.id``, guest, or random."""
        explicit_guest = "customer" in body and body["customer"] is None
        cid = body.pop("customer_id", None)
        nested = body.pop("customer", None)
        if isinstance(nested, dict):
            cid = nested.get("id", cid)
        if body.pop("guest", False) or explicit_guest:
            return None
        if cid is None:
            return self._random_customer(rng)
        table, i = self.find("customers", _as_id(cid, "customer_id"))
        return records.customer_summary(table.get(i))

    def _lines(self, specs: Any) -> list[gen.LineSpec]:
        """Line items requested by a control-surface body."""
        if not isinstance(specs, list) or not specs:
            raise ApiError(422, {"line_items": ["must be a non-empty list"]})
        by_variant = {v.id: (c, v) for c in self._catalog() for v in c.variants}
        out: list[gen.LineSpec] = []
        for spec in specs:
            if not isinstance(spec, dict):
                raise ApiError(422, {"line_items": ["must be objects"]})
            qty = spec.get("quantity", 1)
            if not isinstance(qty, int) or qty < 1:
                raise ApiError(422, {"line_items": ["quantity must be a positive integer"]})
            if "variant_id" in spec:
                hit = by_variant.get(spec["variant_id"])
                if hit is None:
                    raise ApiError(422, {"line_items": [f"unknown variant {spec['variant_id']}"]})
                core, variant = hit
                price = self._amount(spec["price"], "price") if "price" in spec else variant.price
                out.append((core, variant, core.title, price, qty))
            else:
                title = spec.get("title") or "Custom item"
                out.append((None, None, str(title), self._amount(spec.get("price"), "price"), qty))
        return out

    def _amount(self, value: Any, field: str) -> int:
        try:
            minor = money.parse(str(value), self.profile.exp)
        except ValueError:
            raise ApiError(422, {field: ["is not a valid amount"]}) from None
        if minor < 0:
            raise ApiError(422, {field: ["must be positive"]})
        return minor

    def _override(self, rec: dict, body: dict) -> None:
        """Apply arbitrary top-level field overrides (ids and timestamps stay the shop's)."""
        for key, value in body.items():
            if key in READ_ONLY:
                raise ApiError(422, {key: ["is read-only"]})
            rec[key] = value

    # mutations ----------------------------------------------------------------------------

    def create(self, resource: str, body: dict) -> tuple[dict, list[Event]]:
        """Create a realistic record (partial fields in ``body`` override the defaults)."""
        p = self.profile
        table = self.table(resource)
        body = dict(body)
        n = len(table)
        rid = table.next_id(self._rng)
        created = table.next_created()
        rng = gen.record_rng(p.key, 307, n)
        flags = 0
        if resource == "customers":
            rec = records.customer(p, n, rid, created, created)
        elif resource == "products":
            rec = records.product(p, p.product_core(n, rid), created, created)
        elif resource == "orders":
            buyer = self._buyer(body, rng)
            lines = self._lines(body.pop("line_items")) if "line_items" in body else None
            test = bool(body.pop("test", False))
            rec = records.order(
                p,
                n,
                rid,
                created,
                created,
                gen.TEST if test else 0,
                0,
                buyer=buyer,
                lines=lines,
                catalog=self._catalog(),
            )
        else:
            buyer = self._buyer(body, rng)
            rec = records.checkout(
                p, n, rid, created, created, 0, buyer=buyer, catalog=self._catalog()
            )
        rec = copy(rec)
        self._override(rec, body)
        if resource == "orders":
            flags = order_flags(rec)
        elif resource == "checkouts" and rec.get("completed_at"):
            flags = gen.COMPLETED
        table.append(rid, created, rec, flags)
        self.version += 1
        return rec, [(f"{resource}/create", rec)]

    def update(self, resource: str, rid: int, body: dict) -> tuple[dict, list[Event]]:
        """Partial update; moves ``updated_at`` to now. Orders also take cancel/refund/close."""
        table, i = self.find(resource, rid)
        rec = copy(table.get(i))
        body = dict(body)
        ts = max(now(), table.updated[i])
        stamp = self.profile.clock.fmt(ts)
        topic = {"customers": "customers/update", "products": "products/update"}.get(
            resource, f"{resource}/update"
        )
        events: list[Event] = []
        flags = table.flags[i]
        if resource == "orders":
            topic = "orders/updated"
            events = self._order_actions(rec, body, ts, stamp)
        elif resource == "checkouts" and body.pop("completed", False):
            rec["completed_at"] = stamp
        self._override(rec, body)
        rec["updated_at"] = stamp
        if resource == "orders":
            flags = order_flags(rec)
        elif resource == "checkouts":
            flags = gen.COMPLETED if rec.get("completed_at") else 0
        table.put(i, rec, ts, flags)
        self.version += 1
        return rec, [*events, (topic, rec)]

    def _order_actions(self, rec: dict, body: dict, ts: int, stamp: str) -> list[Event]:
        """``cancel`` (with optional ``reason``), ``refund`` (amount), ``close``."""
        p = self.profile
        events: list[Event] = []
        if body.pop("close", False):
            rec["closed_at"] = stamp
        amount = body.pop("refund", None)
        cancel = body.pop("cancel", False)
        reason = body.pop("reason", "other")
        total = money.parse(rec["total_price"], p.exp)
        refunded = sum(
            money.parse(t["amount"], p.exp)
            for r in rec["refunds"]
            for t in r["transactions"]
            if t["kind"] == "refund" and t["status"] == "success"
        )
        if amount is not None:
            minor = self._amount(amount, "refund")
            if minor == 0 or refunded + minor > total:
                raise ApiError(422, {"refund": ["exceeds the refundable amount"]})
            events.append(("refunds/create", self._refund(rec, minor, ts, stamp)))
            refunded += minor
            rec["financial_status"] = "refunded" if refunded == total else "partially_refunded"
        if cancel:
            if rec["cancelled_at"]:
                raise ApiError(422, {"base": ["Order has already been cancelled"]})
            rec["cancelled_at"] = stamp
            rec["cancel_reason"] = reason
            if rec["financial_status"] in ("pending", "authorized"):
                rec["financial_status"] = "voided"
                rec["total_outstanding"] = p.zero
            elif refunded < total:
                self._refund(rec, total - refunded, ts, stamp)
                refunded = total
                rec["financial_status"] = "refunded"
            events.append(("orders/cancelled", rec))
        rec["current_total_price"] = p.fmt(total - refunded)
        rec["current_total_price_set"] = copy(p.mset(rec["current_total_price"]))
        return events

    def _refund(self, rec: dict, minor: int, ts: int, stamp: str) -> dict:
        """Append an amount-only refund with one successful transaction."""
        p = self.profile
        refund_id = self._misc_id()
        txn = records.refund_transaction(p, rec["id"], self._misc_id(), ts, minor, rec["test"])
        refund = {
            "id": refund_id,
            "admin_graphql_api_id": p.gid("Refund", refund_id),
            "created_at": stamp,
            "note": None,
            "order_id": rec["id"],
            "processed_at": stamp,
            "restock": False,
            "total_duties_set": copy(p.mset(p.zero)),
            "user_id": None,
            "order_adjustments": [],
            "transactions": [txn],
            "refund_line_items": [],
            "duties": [],
        }
        rec["refunds"].append(refund)
        return refund

    def delete(self, resource: str, rid: int) -> list[Event]:
        """Delete a record; it disappears from lists and counts."""
        table, i = self.find(resource, rid)
        table.delete(i)
        self.version += 1
        return [(f"{resource}/delete", {"id": rid})]


def _as_id(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(422, {field: ["is invalid"]}) from None
