"""List filters behave as Shopify's: time windows, since_id, ids, status, fields."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.simulator.sim_helpers import Admin


@pytest.fixture(scope="module")
def orders(base: Admin) -> list[dict]:
    return base.walk("orders", status="any", limit=250)


def ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def test_updated_at_window(base: Admin, orders: list[dict]) -> None:
    stamps = sorted(o["updated_at"] for o in orders)
    low, high = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    got = base.walk("orders", status="any", limit=50, updated_at_min=low, updated_at_max=high)
    expected = [o["id"] for o in orders if ts(low) <= ts(o["updated_at"]) <= ts(high)]
    assert [o["id"] for o in got] == expected
    count = base.get("orders/count.json", status="any", updated_at_min=low, updated_at_max=high)
    assert count.json()["count"] == len(expected)


def test_created_at_window_in_other_zone(base: Admin, orders: list[dict]) -> None:
    low = datetime.fromisoformat(orders[40]["created_at"]).astimezone().isoformat()
    high = orders[200]["created_at"]
    got = base.walk("orders", status="any", created_at_min=low, created_at_max=high)
    assert [o["id"] for o in got] == [o["id"] for o in orders[40:201]]


def test_naive_and_date_only_values_are_shop_local(base: Admin, orders: list[dict]) -> None:
    day = orders[100]["created_at"][:10]
    got = base.walk("orders", status="any", created_at_min=day, limit=250)
    assert [o["id"] for o in got] == [o["id"] for o in orders if o["created_at"][:10] >= day]


def test_since_id(base: Admin, orders: list[dict]) -> None:
    pivot = orders[123]["id"]
    got = base.walk("orders", status="any", since_id=pivot, limit=100)
    assert [o["id"] for o in got] == [o["id"] for o in orders[124:]]
    assert base.get("orders/count.json", status="any", since_id=pivot).json()["count"] == 176


def test_ids(base: Admin, orders: list[dict]) -> None:
    wanted = [orders[i]["id"] for i in (250, 3, 77)]
    got = base.get("orders.json", status="any", ids=",".join(map(str, [*wanted, 42])))
    assert [o["id"] for o in got.json()["orders"]] == sorted(wanted)
    paged = base.walk("orders", status="any", ids=",".join(map(str, wanted)), limit=1)
    assert [o["id"] for o in paged] == sorted(wanted)


def test_status(base: Admin, orders: list[dict]) -> None:
    def select(predicate) -> list[int]:
        return [o["id"] for o in orders if predicate(o)]

    expected = {
        "open": select(lambda o: o["closed_at"] is None and o["cancelled_at"] is None),
        "closed": select(lambda o: o["closed_at"] is not None),
        "cancelled": select(lambda o: o["cancelled_at"] is not None),
        "any": select(lambda o: True),
    }
    assert all(expected.values())
    for status, want in expected.items():
        assert [o["id"] for o in base.walk("orders", status=status, limit=77)] == want
        assert base.get("orders/count.json", status=status).json()["count"] == len(want)
    assert [o["id"] for o in base.walk("orders", limit=250)] == expected["open"]  # default


def test_fields_projection(base: Admin, orders: list[dict]) -> None:
    page = base.get("orders.json", status="any", fields="id,total_price,nope", limit=3).json()
    assert page["orders"] == [{"id": o["id"], "total_price": o["total_price"]} for o in orders[:3]]
    one = base.get(f"orders/{orders[0]['id']}.json", fields="id,name").json()
    assert one == {"order": {"id": orders[0]["id"], "name": orders[0]["name"]}}
