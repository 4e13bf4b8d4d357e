"""Customer.numberOfOrders and Customer.amountSpent: aggregates over a shop's orders.

REST leaves them out (they are O(store)); GraphQL has them. The first question renders every
order once and keeps each generated order's (customer, spend) in two arrays; after that a
change to the store costs only the changed and deleted orders, so a live shop's increments
do not walk the store again.
"""

from __future__ import annotations

import re
from array import array

from simulator import generator as gen
from simulator import money
from simulator.store import ShopStore

# every flag byte with the DELETED bit set, to find deleted records with one C-level scan
_DELETED = re.compile(
    b"[" + b"".join(re.escape(bytes([b])) for b in range(256) if b & gen.DELETED) + b"]"
)


class CustomerTotals:
    """Orders and spend (minor units, excluding test orders, net of refunds) per customer."""

    def __init__(self, store: ShopStore) -> None:
        self.store = store
        self.version = -1
        self.totals: dict[int, tuple[int, int]] = {}
        self._customers = array("q")  # per generated order: customer id (0: guest)
        self._spent = array("q")
        self._base: dict[int, tuple[int, int]] = {}

    def _contribution(self, order: dict) -> tuple[int, int]:
        buyer = order.get("customer")
        if buyer is None:
            return 0, 0
        spent = (
            0
            if order["test"]
            else money.parse(order["current_total_price"], self.store.profile.exp)
        )
        return buyer["id"], spent

    def _build_base(self) -> None:
        orders = self.store.orders
        for i in range(orders.n_base):
            cid, spent = self._contribution(orders.get(i))
            self._customers.append(cid)
            self._spent.append(spent)
            if cid:
                count, total = self._base.get(cid, (0, 0))
                self._base[cid] = (count + 1, total + spent)

    def _refresh(self) -> None:
        orders = self.store.orders
        if len(self._customers) < orders.n_base:
            self._build_base()
        totals = dict(self._base)
        changed = set(orders.overlay)
        changed.update(m.start() for m in _DELETED.finditer(orders.flags))
        for i in changed:
            if i < orders.n_base and self._customers[i]:
                cid = self._customers[i]
                count, total = totals[cid]
                totals[cid] = (count - 1, total - self._spent[i])
            if not orders.flags[i] & gen.DELETED:
                cid, spent = self._contribution(orders.get(i))
                if cid:
                    count, total = totals.get(cid, (0, 0))
                    totals[cid] = (count + 1, total + spent)
        self.totals, self.version = totals, self.store.version

    def of(self, customer_id: int) -> tuple[int, int]:
        """(number of orders, spend in minor units) of a customer."""
        if self.version != self.store.version:
            self._refresh()
        return self.totals.get(customer_id, (0, 0))


_TOTALS: dict[int, CustomerTotals] = {}


def totals_of(store: ShopStore) -> CustomerTotals:
    """The shop's aggregate (one per store)."""
    hit = _TOTALS.get(id(store))
    if hit is None or hit.store is not store:
        hit = _TOTALS[id(store)] = CustomerTotals(store)
    return hit
