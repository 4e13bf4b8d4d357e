"""/_sim/{shop}/truth equals an independent Decimal computation over REST records."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import Admin


def expected_truth(shop: Admin) -> dict:
    info = shop.get("shop.json").json()["shop"]
    zone, places = (
        ZoneInfo(info["iana_timezone"]),
        Decimal(1) if info["currency"] == "JPY" else Decimal("0.01"),
    )

    def s(value: Decimal) -> str:
        return str(value.quantize(places))

    orders = shop.walk("orders", status="any", limit=250)
    customers = {c["id"]: c for c in shop.walk("customers", limit=250)}
    products = {p["id"]: p for p in shop.walk("products", limit=250)}
    checkouts = shop.walk("checkouts", limit=250)
    counted = [o for o in orders if not o["test"] and o["cancelled_at"] is None]
    day: dict[str, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
    product: dict = {}
    customer: dict = {}
    for o in counted:
        gross = sum(Decimal(li["price"]) * li["quantity"] for li in o["line_items"])
        refunds = sum(
            (
                Decimal(t["amount"])
                for r in o["refunds"]
                for t in r["transactions"]
                if t["kind"] == "refund" and t["status"] == "success"
            ),
            Decimal(0),
        )
        total = Decimal(o["total_price"])
        date = datetime.fromisoformat(o["created_at"]).astimezone(zone).date().isoformat()
        row = day[date]
        row[0] += 1
        row[1] += gross
        row[2] += Decimal(o["total_discounts"])
        row[3] += refunds
        row[4] += total
        for li in o["line_items"]:
            pid = li["product_id"]
            title = "Custom items" if pid is None else products.get(pid, li)["title"]
            entry = product.setdefault(pid, [title, 0, Decimal(0)])
            entry[1] += li["quantity"]
            entry[2] += Decimal(li["price"]) * li["quantity"] - sum(
                (Decimal(a["amount"]) for a in li["discount_allocations"]), Decimal(0)
            )
        if o["customer"]:
            who = customers.get(o["customer"]["id"], o["customer"])
            entry = customer.setdefault(who["id"], [who, 0, Decimal(0)])
            entry[1] += 1
            entry[2] += total - refunds

    def amounts(gross: Decimal, discounts: Decimal, refunds: Decimal, total: Decimal) -> dict:
        return {
            "gross_sales": s(gross),
            "discounts": s(discounts),
            "refunds": s(refunds),
            "total_revenue": s(total),
            "net_revenue": s(total - refunds),
        }

    sums = [sum((r[k] for r in day.values()), Decimal(0)) for k in range(1, 5)]
    recovered = sum(1 for c in checkouts if c["completed_at"])
    return {
        "shop": shop.domain,
        "currency": info["currency"],
        "timezone": info["iana_timezone"],
        "counts": {
            "customers": len(customers),
            "products": len(products),
            "orders_all": len(orders),
            "orders_counted": len(counted),
            "orders_cancelled": sum(1 for o in orders if o["cancelled_at"]),
            "orders_test": sum(1 for o in orders if o["test"]),
            "checkouts_abandoned": len(checkouts) - recovered,
            "checkouts_recovered": recovered,
        },
        "totals": amounts(*sums),
        "revenue_by_day": [
            {"date": d, "orders": r[0], **amounts(*r[1:])} for d, r in sorted(day.items())
        ],
        "revenue_by_product": [
            {"product_id": pid, "title": v[0], "quantity": v[1], "revenue": s(v[2])}
            for pid, v in sorted(product.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
        "revenue_by_customer": [
            {
                "customer_id": cid,
                "email": v[0]["email"],
                "first_name": v[0]["first_name"],
                "last_name": v[0]["last_name"],
                "orders": v[1],
                "spend": s(v[2]),
            }
            for cid, v in sorted(customer.items())
        ],
    }


def test_truth_matches_independent_computation(base: Admin) -> None:
    truth = base.sim_call("GET", "truth").json()
    assert truth == expected_truth(base)
    assert truth["counts"]["orders_cancelled"] and truth["counts"]["checkouts_recovered"]
    assert any(p["product_id"] is None for p in truth["revenue_by_product"])


def test_truth_in_zero_decimal_currency(sim: RunningSimulator) -> None:
    shops = {s["name"]: s for s in __import__("httpx").get(f"{sim.base_url}/_sim/shops").json()}
    yen = Admin(sim, shops["yen"])
    truth = yen.sim_call("GET", "truth").json()
    assert truth == expected_truth(yen)
    assert "." not in truth["totals"]["total_revenue"]


def test_truth_follows_mutations(fresh: Admin) -> None:
    orders = fresh.walk("orders", status="any", limit=250)
    paid = [o for o in orders if o["financial_status"] == "paid" and not o["cancelled_at"]]
    fresh.sim_call("PUT", f"orders/{paid[0]['id']}", {"cancel": True})
    fresh.sim_call("PUT", f"orders/{paid[1]['id']}", {"refund": "1.50"})
    fresh.sim_call("DELETE", f"orders/{paid[2]['id']}")
    fresh.sim_call("POST", "orders", {"test": True})
    new = fresh.sim_call("POST", "orders", {}).json()["order"]
    variant = fresh.get("products.json", limit=1).json()["products"][0]["variants"][0]
    custom = fresh.sim_call(
        "POST",
        "orders",
        {
            "line_items": [
                {"variant_id": variant["id"], "quantity": 3},
                {"title": "Engraving", "price": "4.00"},
            ]
        },
    )
    assert custom.status_code == 201, custom.text
    customer = next(o["customer"] for o in orders if o["customer"])
    fresh.sim_call("PUT", f"customers/{customer['id']}", {"email": "changed@example.com"})
    over = fresh.sim_call("PUT", f"orders/{new['id']}", {"refund": "999999.00"})
    assert over.status_code == 422
    truth = fresh.sim_call("GET", "truth").json()
    assert truth == expected_truth(fresh)
    assert truth["counts"]["orders_all"] == len(orders) + 2
    emails = {c["customer_id"]: c["email"] for c in truth["revenue_by_customer"]}
    assert emails[customer["id"]] == "changed@example.com"
