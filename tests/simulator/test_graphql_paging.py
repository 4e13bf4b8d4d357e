"""GraphQL connections and search: every record exactly once, even while the store changes."""

from __future__ import annotations

from datetime import datetime

import pytest

from simulator.server import RunningSimulator
from tests.simulator.graphql_helpers import gid_number, gql, walk
from tests.simulator.sim_helpers import Admin, new_shop

PAGE = """query($n: Int, $after: String, $last: Int, $before: String, $reverse: Boolean,
                $sort: OrderSortKeys, $q: String) {
  orders(first: $n, after: $after, last: $last, before: $before, reverse: $reverse,
         sortKey: $sort, query: $q) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id updatedAt } }
  }
}"""


def numbers(nodes: list[dict]) -> list[int]:
    return [gid_number(n["id"]) for n in nodes]


def rest_ids(shop: Admin, resource: str, **params: str) -> list[int]:
    return [r["id"] for r in shop.walk(resource, limit=250, **params)]


@pytest.mark.parametrize("page", [1, 7, 250])
def test_every_order_exactly_once(base: Admin, page: int) -> None:
    walked = numbers(walk(base, "orders", "id", page))
    assert walked == rest_ids(base, "orders", status="any")


@pytest.mark.parametrize(
    ("field", "resource"),
    [("customers", "customers"), ("products", "products"), ("abandonedCheckouts", "checkouts")],
)
def test_other_connections_walk_completely(base: Admin, field: str, resource: str) -> None:
    assert numbers(walk(base, field, "id", 13)) == rest_ids(base, resource)


def test_backwards_and_reversed(base: Admin) -> None:
    forward = numbers(walk(base, "orders", "id", 50))
    assert numbers(walk(base, "orders", "id", 40, reverse="true")) == forward[::-1]
    last = gql(base, PAGE, last=5)["orders"]
    assert numbers([e["node"] for e in last["edges"]]) == forward[-5:]
    assert last["pageInfo"]["hasPreviousPage"] and not last["pageInfo"]["hasNextPage"]
    before = gql(base, PAGE, last=5, before=last["pageInfo"]["startCursor"])["orders"]
    assert numbers([e["node"] for e in before["edges"]]) == forward[-10:-5]
    middle = gql(base, PAGE, n=3, after=before["edges"][0]["cursor"])["orders"]
    assert numbers([e["node"] for e in middle["edges"]]) == forward[-9:-6]
    assert middle["pageInfo"]["hasPreviousPage"] and middle["pageInfo"]["hasNextPage"]


def test_exactly_once_by_id_with_mutations_between_pages(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=80)
    before = rest_ids(shop, "orders", status="any")
    seen: list[int] = []
    created: list[int] = []
    deleted: set[int] = set()
    after = None
    step = 0
    while True:
        page = gql(shop, PAGE, n=9, after=after)["orders"]
        seen.extend(numbers([e["node"] for e in page["edges"]]))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        step += 1
        # change records behind and ahead of the cursor, add one, delete one ahead
        shop.sim_call("PUT", f"orders/{seen[0]}", {"note": f"behind {step}"})
        ahead = [i for i in before if i > seen[-1] and i not in deleted]
        if len(ahead) > 4:
            shop.sim_call("PUT", f"orders/{ahead[0]}", {"note": f"ahead {step}"})
            shop.sim_call("DELETE", f"orders/{ahead[3]}")
            deleted.add(ahead[3])
        if step <= 3:
            created.append(shop.sim_call("POST", "orders", {}).json()["order"]["id"])
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    assert set(seen) == (set(before) - deleted) | set(created)


def test_updated_at_walk_sees_updated_records_again(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=60)
    before = set(rest_ids(shop, "orders", status="any"))
    seen: list[tuple[str, int]] = []
    touched: list[int] = []
    after = None
    while True:
        page = gql(shop, PAGE, n=10, after=after, sort="UPDATED_AT")["orders"]
        nodes = [e["node"] for e in page["edges"]]
        seen.extend((n["updatedAt"], gid_number(n["id"])) for n in nodes)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        if len(touched) < 3:  # an already seen record changes: it moves behind the cursor
            rid = seen[len(touched)][1]
            shop.sim_call("PUT", f"orders/{rid}", {"note": "moved"})
            touched.append(rid)
    ids = [rid for _, rid in seen]
    assert set(ids) == before
    for rid in touched:
        assert ids.count(rid) == 2
    assert len(ids) == len(before) + len(touched)
    epoch = [_ts(ts) for ts, _ in seen]
    assert epoch == sorted(epoch)


def test_search_ranges_match_rest_filters(base: Admin) -> None:
    orders = base.walk("orders", status="any", limit=250)
    pivot_u = sorted(o["updated_at"] for o in orders)[len(orders) // 2]
    pivot_c = orders[len(orders) // 3]["created_at"]
    low_id = orders[40]["id"]

    def search(q: str) -> list[int]:
        return numbers(walk(base, "orders", "id", 100, query=f'"{_escape(q)}"'))

    def count(q: str) -> int:
        query = "query($q: String) { ordersCount(query: $q) { count } }"
        return gql(base, query, q=q)["ordersCount"]["count"]

    expected = rest_ids(base, "orders", status="any", updated_at_min=pivot_u)
    assert search(f"updated_at:>='{pivot_u}'") == expected
    assert count(f"updated_at:>='{pivot_u}'") == len(expected)
    newer = [o["id"] for o in orders if _ts(o["updated_at"]) > _ts(pivot_u)]
    assert search(f"updated_at:>'{pivot_u}'") == newer
    older = [o["id"] for o in orders if _ts(o["created_at"]) < _ts(pivot_c)]
    assert search(f"created_at:<'{pivot_c}'") == older
    assert search(f"created_at:<='{pivot_c}'") == [*older, orders[len(orders) // 3]["id"]]
    both = [i for i in expected if i > low_id and i in older]
    assert search(f"updated_at:>='{pivot_u}' AND id:>{low_id} created_at:<'{pivot_c}'") == both
    assert search(f"id:<={low_id}") == [o["id"] for o in orders[:41]]
    assert search(f"id:>=gid://shopify/Order/{low_id} id:<{orders[45]['id']}") == [
        o["id"] for o in orders[40:45]
    ]
    assert search("status:any colour:blue") == [o["id"] for o in orders]
    assert search("status:cancelled") == rest_ids(base, "orders", status="cancelled")
    assert search("status:open") == rest_ids(base, "orders", status="open")


def test_search_with_updated_at_sort(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=50)
    orders = shop.walk("orders", status="any", limit=250)
    pivot = sorted(o["updated_at"] for o in orders)[30]
    shop.sim_call("PUT", f"orders/{orders[0]['id']}", {"note": "late"})
    query = f"updated_at:>='{pivot}'"
    nodes = walk(shop, "orders", "id updatedAt", 4, sortKey="UPDATED_AT", query=f'"{query}"')
    expected = {o["id"] for o in orders if _ts(o["updated_at"]) >= _ts(pivot)} | {orders[0]["id"]}
    assert set(numbers(nodes)) == expected and len(nodes) == len(expected)
    assert numbers(nodes)[-1] == orders[0]["id"]  # the latest change comes last


def _ts(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _escape(text: str) -> str:
    return text.replace('"', '\\"')


def test_checkout_recovery_state(base: Admin) -> None:
    checkouts = base.walk("checkouts", limit=250)
    recovered = [c["id"] for c in checkouts if c["completed_at"]]
    assert 0 < len(recovered) < len(checkouts)
    found = walk(base, "abandonedCheckouts", "id", 50, query='"recovery_state:recovered"')
    assert numbers(found) == recovered
    others = walk(base, "abandonedCheckouts", "id", 50, query='"recovery_state:not_recovered"')
    assert set(numbers(others)) == {c["id"] for c in checkouts} - set(recovered)


def test_updated_at_order_backwards(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=40)
    first = shop.walk("orders", status="any", limit=250)[0]["id"]
    shop.sim_call("PUT", f"orders/{first}", {"note": "latest"})
    forward = numbers(walk(shop, "orders", "id", 7, sortKey="UPDATED_AT"))
    assert forward[-1] == first and sorted(forward) == rest_ids(shop, "orders", status="any")
    backward = numbers(walk(shop, "orders", "id", 6, sortKey="UPDATED_AT", reverse="true"))
    assert backward == forward[::-1]
    last = gql(shop, PAGE, last=4, sort="UPDATED_AT")["orders"]
    assert numbers([e["node"] for e in last["edges"]]) == forward[-4:]
    cursor = last["pageInfo"]["startCursor"]
    before = gql(shop, PAGE, last=4, before=cursor, sort="UPDATED_AT")["orders"]
    assert numbers([e["node"] for e in before["edges"]]) == forward[-8:-4]
