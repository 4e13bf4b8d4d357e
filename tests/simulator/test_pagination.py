"""Cursor pagination: every record exactly once, even while the store changes."""

from __future__ import annotations

import random

import httpx
import pytest

from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import NEXT, PREVIOUS, Admin, new_shop


def ids(records: list[dict]) -> list[int]:
    return [r["id"] for r in records]


@pytest.mark.parametrize("limit", [1, 7, 50, 250])
def test_every_order_exactly_once(base: Admin, limit: int) -> None:
    walked = ids(base.walk("orders", status="any", limit=limit))
    assert walked == sorted(set(walked))
    assert len(walked) == base.get("orders/count.json", status="any").json()["count"] == 300


@pytest.mark.parametrize("resource", ["customers", "products", "checkouts"])
def test_other_resources_walk_completely(base: Admin, resource: str) -> None:
    walked = ids(base.walk(resource, limit=13))
    assert walked == sorted(set(walked))
    assert len(walked) == base.get(f"{resource}/count.json").json()["count"]


def test_random_page_sizes(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=90)
    expected = ids(shop.walk("orders", status="any", limit=250))
    rng = random.Random(1234)
    for limit in [rng.randint(1, 250) for _ in range(12)] + [1, 89, 90, 91]:
        assert ids(shop.walk("orders", status="any", limit=limit)) == expected, limit


def test_previous_links_walk_back(base: Admin) -> None:
    first = base.get("orders.json", status="any", limit=20)
    assert "previous" not in first.headers["link"]
    second = base.http.get(NEXT.search(first.headers["link"]).group(1))
    third = base.http.get(NEXT.search(second.headers["link"]).group(1))
    back = base.http.get(PREVIOUS.search(third.headers["link"]).group(1))
    assert ids(back.json()["orders"]) == ids(second.json()["orders"])
    back2 = base.http.get(PREVIOUS.search(back.headers["link"]).group(1))
    assert ids(back2.json()["orders"]) == ids(first.json()["orders"])
    assert 'rel="previous"' not in back2.headers["link"]


def test_links_are_absolute_and_keep_fields(base: Admin) -> None:
    response = base.get("orders.json", status="any", limit=5, fields="id,updated_at")
    url = NEXT.search(response.headers["link"]).group(1)
    assert url.startswith(base.url + "/orders.json?")
    page = base.http.get(url).json()["orders"]
    assert all(set(r) == {"id", "updated_at"} for r in page)


def test_exactly_once_with_mutations_between_pages(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=80)
    before = ids(shop.walk("orders", status="any", limit=250))
    deleted = before[10::17]
    updated = [i for i in before[5::9] if i not in deleted]
    seen: list[int] = []
    response = shop.get("orders.json", status="any", limit=7)
    step = 0
    while True:
        seen.extend(ids(response.json()["orders"]))
        step += 1
        # mutate between pages: create, update, delete (some behind, some ahead of the cursor)
        if step < len(updated):
            assert shop.sim_call("PUT", f"orders/{updated[step]}", {"note": "x"}).is_success
        if step < len(deleted):
            assert shop.sim_call("DELETE", f"orders/{deleted[step]}").is_success
        assert shop.sim_call("POST", "orders", {}).status_code == 201
        match = NEXT.search(response.headers.get("link", ""))
        if not match:
            break
        response = shop.http.get(match.group(1))
    assert len(seen) == len(set(seen))  # nothing twice
    assert seen == sorted(seen)
    gone = set(deleted[1:])
    assert {i for i in before if i not in gone} <= set(seen)  # survivors all seen
    assert len(set(seen) - set(before)) >= step - 1  # records created mid-walk show up
    after = ids(shop.walk("orders", status="any", limit=250))
    assert not gone & set(after)
    assert len(after) == len(before) - len(gone) + step


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 251},
        {"limit": "ten"},
        {"created_at_min": "yesterday"},
        {"updated_at_max": "2024-13-45"},
        {"since_id": "abc"},
        {"ids": "1,two"},
        {"status": "pending"},
    ],
)
def test_bad_parameters_are_400(base: Admin, params: dict) -> None:
    response = base.get("orders.json", **params)
    assert response.status_code == 400
    assert "errors" in response.json()


def test_page_info_rejects_other_parameters(base: Admin) -> None:
    url = NEXT.search(base.get("orders.json", status="any", limit=3).headers["link"]).group(1)
    assert base.http.get(url).status_code == 200
    for extra in ("&status=any", "&updated_at_min=2024-01-01", "&since_id=1"):
        response = base.http.get(url + extra)
        assert response.status_code == 400
        assert "cannot be passed when page_info is present" in response.json()["errors"]
    assert base.http.get(url + "&limit=9&fields=id").status_code == 200


def test_tampered_page_info_is_400(base: Admin) -> None:
    url = NEXT.search(base.get("orders.json", status="any", limit=3).headers["link"]).group(1)
    token = url.split("page_info=")[1]
    for bad in (token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "garbage", token[5:]):
        assert base.get("orders.json", page_info=bad).status_code == 400
    # a token for orders does not page customers
    assert base.get("customers.json", page_info=token).status_code == 400


def test_unknown_params_without_page_info_are_ignored(base: Admin) -> None:
    assert base.get("orders.json", order="created_at asc", status="any").status_code == 200


def test_limit_default_is_50(base: Admin) -> None:
    assert len(base.get("orders.json", status="any").json()["orders"]) == 50


def test_empty_result_has_no_link(base: Admin) -> None:
    response = base.get("orders.json", ids="1,2,3")
    assert response.json() == {"orders": []}
    assert "link" not in response.headers


def test_link_uses_request_host(sim: RunningSimulator, base: Admin) -> None:
    url = base.url.replace("127.0.0.1", "localhost")
    response = httpx.get(
        f"{url}/orders.json",
        params={"limit": 2, "status": "any"},
        headers={"X-Shopify-Access-Token": base.info["token"]},
    )
    assert NEXT.search(response.headers["link"]).group(1).startswith(url)
