"""Ground truth: exact totals computed by walking the shop's own records.

Definitions (mirrored in docs/simulator.md and docs/metrics.md):
a counted order is not test, not cancelled and not deleted; its date is ``created_at`` in
the shop's zone; gross sales = sum of line price x quantity; discounts = total_discounts;
refunds = successful refund transactions; total revenue = total_price; net revenue =
total revenue - refunds.
"""

from __future__ import annotations

from typing import Any

from simulator import generator as gen
from simulator import money
from simulator.store import ShopStore

CUSTOM_TITLE = "Custom items"


def _refunds(rec: dict, exp: int) -> int:
    return sum(
        money.parse(t["amount"], exp)
        for r in rec.get("refunds") or ()
        for t in r.get("transactions") or ()
        if t.get("kind") == "refund" and t.get("status") == "success"
    )


def compute(store: ShopStore) -> dict[str, Any]:
    """The ``/_sim/{shop}/truth`` document (O(n) time, streaming over records)."""
    p = store.profile
    exp, fmt = p.exp, p.fmt
    titles = {rec["id"]: rec["title"] for rec in store.products.iter_shared()}
    people = {rec["id"]: _names(rec) for rec in store.customers.iter_shared()}
    counts = dict.fromkeys(("orders_all", "orders_counted", "orders_cancelled", "orders_test"), 0)
    by_day: dict[str, list[int]] = {}
    by_product: dict[int | None, list[Any]] = {}
    by_customer: dict[int, list[Any]] = {}
    sums = [0, 0, 0, 0]  # gross, discounts, refunds, total
    for rec in store.orders.iter_shared():
        counts["orders_all"] += 1
        test, cancelled = bool(rec.get("test")), rec.get("cancelled_at") is not None
        counts["orders_test"] += test
        counts["orders_cancelled"] += cancelled
        if test or cancelled:
            continue
        counts["orders_counted"] += 1
        gross = 0
        for li in rec["line_items"]:
            line = money.parse(li["price"], exp) * li["quantity"]
            gross += line
            allocated = sum(money.parse(a["amount"], exp) for a in li["discount_allocations"])
            pid = li.get("product_id")
            entry = by_product.get(pid)
            if entry is None:
                title = CUSTOM_TITLE if pid is None else titles.get(pid, li["title"])
                entry = by_product[pid] = [title, 0, 0]
            entry[1] += li["quantity"]
            entry[2] += line - allocated
        discounts = money.parse(rec["total_discounts"], exp)
        refunds = _refunds(rec, exp)
        total = money.parse(rec["total_price"], exp)
        day = by_day.setdefault(
            p.clock.local_date(int(p.clock.parse(rec["created_at"]))), [0, 0, 0, 0, 0]
        )
        for k, v in enumerate((1, gross, discounts, refunds, total)):
            day[k] += v
        for k, v in enumerate((gross, discounts, refunds, total)):
            sums[k] += v
        buyer = rec.get("customer")
        if buyer:
            who = by_customer.setdefault(buyer["id"], [0, 0, buyer])
            who[0] += 1
            who[1] += total - refunds

    def amounts(gross: int, discounts: int, refunds: int, total: int) -> dict[str, str]:
        return {
            "gross_sales": fmt(gross),
            "discounts": fmt(discounts),
            "refunds": fmt(refunds),
            "total_revenue": fmt(total),
            "net_revenue": fmt(total - refunds),
        }

    tables = store.tables
    flags = tables["checkouts"].flags
    recovered = sum(1 for f in flags if f & gen.COMPLETED and not f & gen.DELETED)
    return {
        "shop": p.domain,
        "currency": p.currency,
        "timezone": p.timezone,
        "counts": {
            "customers": tables["customers"].live,
            "products": tables["products"].live,
            **counts,
            "checkouts_abandoned": tables["checkouts"].live - recovered,
            "checkouts_recovered": recovered,
        },
        "totals": amounts(*sums),
        "revenue_by_day": [
            {"date": d, "orders": v[0], **amounts(*v[1:])} for d, v in sorted(by_day.items())
        ],
        "revenue_by_product": [
            {"product_id": pid, "title": v[0], "quantity": v[1], "revenue": fmt(v[2])}
            for pid, v in sorted(by_product.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        "revenue_by_customer": [
            dict(
                zip(("customer_id", "email", "first_name", "last_name"), (cid, *who), strict=True),
                orders=v[0],
                spend=fmt(v[1]),
            )
            for cid, v in sorted(by_customer.items())
            for who in [people.get(cid) or _names(v[2])]
        ],
    }


def _names(customer: dict) -> tuple[Any, Any, Any]:
    """Email and names of a deleted customer, from the order's nested copy."""
    return customer.get("email"), customer.get("first_name"), customer.get("last_name")
