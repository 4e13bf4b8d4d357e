"""Bulk query operations over real HTTP: run, poll through node(id:), download the JSONL
(with Range), faults (partial data, dropped downloads, stalls), cancel, limits, webhook."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from ingestion import queries
from simulator.server import RunningSimulator
from tests.simulator.sim_helpers import Admin, new_shop
from tests.simulator.test_webhooks import Receiver

VERSION = "2026-10"
RUN = """
mutation Run($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
"""
POLL = """
query Poll($id: ID!) {
  node(id: $id) {
    ... on BulkOperation {
      id status errorCode createdAt completedAt objectCount rootObjectCount fileSize url
      partialDataUrl query type
    }
  }
}
"""
CANCEL = """
mutation Cancel($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
}
"""
SIX_CONNECTIONS = " ".join(
    f"l{i}: lineItems {{ edges {{ node {{ id }} }} }}" for i in range(5)
)  # with the root connection, one more than Shopify allows
FINISHED = {"COMPLETED", "FAILED", "CANCELED", "EXPIRED"}


def graphql(shop: Admin, document: str, variables: dict[str, Any], version: str = VERSION) -> dict:
    url = f"{shop.sim.base_url}/{shop.domain}/admin/api/{version}/graphql.json"
    response = shop.http.post(url, json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def run(shop: Admin, query: str, version: str = VERSION) -> dict:
    return graphql(shop, RUN, {"query": query}, version)["data"]["bulkOperationRunQuery"]


def poll(shop: Admin, gid: str) -> dict:
    return graphql(shop, POLL, {"id": gid})["data"]["node"]


def finish(shop: Admin, gid: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        op = poll(shop, gid)
        if op["status"] in FINISHED:
            return op
        assert time.monotonic() < deadline, op
        time.sleep(0.05)


def started(shop: Admin, query: str) -> str:
    payload = run(shop, query)
    assert payload["userErrors"] == [], payload
    return payload["bulkOperation"]["id"]


def lines(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.splitlines()]


@pytest.fixture(scope="module")
def orders_done(sim: RunningSimulator) -> tuple[Admin, dict, bytes]:
    """A shop whose orders bulk operation has completed, and the downloaded file."""
    shop = new_shop(sim, orders=80)
    gid = started(shop, queries.ORDERS.bulk_query())
    op = finish(shop, gid)
    body = httpx.get(op["url"]).content
    return shop, op, body


def test_completed_operation_and_its_file(orders_done: tuple[Admin, dict, bytes]) -> None:
    shop, op, body = orders_done
    assert op["status"] == "COMPLETED" and op["errorCode"] is None
    assert op["type"] == "QUERY" and op["query"] == queries.ORDERS.bulk_query()
    assert op["completedAt"] >= op["createdAt"] and op["partialDataUrl"] is None
    records = lines(body)
    roots = [r for r in records if "__parentId" not in r]
    assert op["objectCount"] == str(len(records))
    assert op["rootObjectCount"] == str(len(roots)) == str(shop.info["counts"]["orders"])
    assert op["fileSize"] == str(len(body))
    assert all(r["id"].startswith("gid://shopify/Order/") for r in roots)
    assert len(records) > len(roots)  # line items, shipping lines, transactions


def test_children_follow_their_parent(orders_done: tuple[Admin, dict, bytes]) -> None:
    _, _, body = orders_done
    seen: set[str] = set()
    current_root = None
    kinds = set()
    for record in lines(body):
        parent = record.get("__parentId")
        if parent is None:
            current_root = record["id"]
        else:
            assert parent in seen, record  # the parent came first
            kinds.add(record["id"].split("/")[3])
        seen.add(record["id"])
    assert current_root is not None
    assert {"LineItem", "ShippingLine"} <= kinds


def test_range_requests(orders_done: tuple[Admin, dict, bytes]) -> None:
    _, op, body = orders_done
    size = len(body)
    part = httpx.get(op["url"], headers={"Range": "bytes=10-109"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 10-109/{size}"
    assert part.content == body[10:110]
    tail = httpx.get(op["url"], headers={"Range": f"bytes={size - 7}-"})
    assert tail.status_code == 206 and tail.content == body[-7:]
    suffix = httpx.get(op["url"], headers={"Range": "bytes=-5"})
    assert suffix.content == body[-5:]
    beyond = httpx.get(op["url"], headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    whole = httpx.get(op["url"])
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-length"] == str(size)


def test_unknown_token_is_forbidden(sim: RunningSimulator) -> None:
    response = httpx.get(f"{sim.base_url}/_bulk/not-a-token.jsonl")
    assert response.status_code == 403 and b"AccessDenied" in response.content


def test_dropped_download_resumes_with_range(orders_done: tuple[Admin, dict, bytes]) -> None:
    shop, op, body = orders_done
    shop.sim_call("PUT", "faults", {"download_drop_rate": 1.0})
    got = bytearray()
    try:
        with pytest.raises(httpx.TransportError), httpx.stream("GET", op["url"]) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                got.extend(chunk)
    finally:
        shop.sim_call("PUT", "faults", {"download_drop_rate": 0.0})
    assert 0 < len(got) < len(body)
    rest = httpx.get(op["url"], headers={"Range": f"bytes={len(got)}-"})
    assert rest.status_code == 206
    assert bytes(got) + rest.content == body


def test_node_bulk_operation_and_current(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=10)
    first = started(shop, queries.CUSTOMERS.bulk_query())
    second = started(shop, queries.PRODUCTS.bulk_query())
    finish(shop, first)
    finish(shop, second)
    by_id = graphql(
        shop, "query ($id: ID!) { bulkOperation(id: $id) { id status } }", {"id": first}
    )
    assert by_id["data"]["bulkOperation"] == {"id": first, "status": "COMPLETED"}
    current = graphql(shop, "{ currentBulkOperation { id status } }", {})
    assert current["data"]["currentBulkOperation"]["id"] == second
    missing = graphql(shop, POLL, {"id": "gid://shopify/BulkOperation/1"})
    assert missing["data"]["node"] is None


def test_run_costs_ten_points(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5)
    answer = graphql(shop, RUN, {"query": queries.CUSTOMERS.ids_query()})
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10 and cost["actualQueryCost"] == 10
    finish(shop, answer["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"])


def test_invalid_queries_are_user_errors(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5)
    for query, fragment in [
        ("{ shop { id name } }", "at least one connection"),
        ("{ orders { edges { node { id ", "Invalid bulk query"),
        ("{ orders { edges { node { nope } } } }", "Invalid bulk query"),
        (f"{{ orders {{ edges {{ node {{ {SIX_CONNECTIONS} }} }} }} }}", "more than 5 connections"),
    ]:
        payload = run(shop, query)
        assert payload["bulkOperation"] is None
        [error] = payload["userErrors"]
        assert error["code"] == "INVALID" and error["field"] == ["query"]
        assert fragment in error["message"]


def test_failed_operation_keeps_partial_data(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=40)
    shop.sim_call("PUT", "faults", {"bulk_fail_rate": 1.0, "bulk_fail_after": 6})
    op = finish(shop, started(shop, queries.ORDERS.bulk_query()))
    assert op["status"] == "FAILED" and op["errorCode"] == "INTERNAL_SERVER_ERROR"
    assert op["url"] is None and op["partialDataUrl"]
    records = lines(httpx.get(op["partialDataUrl"]).content)
    roots = [r for r in records if "__parentId" not in r]
    assert len(roots) == 6 and op["rootObjectCount"] == "6"
    assert op["objectCount"] == str(len(records))


def test_stalled_operation_runs_until_canceled(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=10)
    shop.sim_call("PUT", "faults", {"bulk_stall_rate": 1.0})
    gid = started(shop, queries.CUSTOMERS.bulk_query())
    time.sleep(0.3)
    running = poll(shop, gid)
    assert running["status"] == "RUNNING" and running["url"] is None
    assert int(running["objectCount"]) > 0  # progress is visible while it runs
    canceled = graphql(shop, CANCEL, {"id": gid})["data"]["bulkOperationCancel"]
    assert canceled["userErrors"] == []
    assert canceled["bulkOperation"]["status"] in ("CANCELING", "CANCELED")
    assert finish(shop, gid)["status"] == "CANCELED"
    again = graphql(shop, CANCEL, {"id": gid})["data"]["bulkOperationCancel"]
    assert "cannot be canceled when it is canceled" in again["userErrors"][0]["message"]


def test_concurrent_operations_per_version(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5)
    shop.sim_call("PUT", "faults", {"bulk_stall_rate": 1.0})
    gids = [started(shop, queries.CUSTOMERS.ids_query()) for _ in range(5)]
    sixth = run(shop, queries.CUSTOMERS.ids_query())
    assert sixth["bulkOperation"] is None
    assert sixth["userErrors"][0]["code"] == "LIMIT_REACHED"
    older = run(shop, queries.CUSTOMERS.ids_query(), version="2025-10")
    assert older["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
    for gid in gids:
        graphql(shop, CANCEL, {"id": gid})
    shop.sim_call("PUT", "faults", {"bulk_stall_rate": 0.0})
    assert all(finish(shop, gid)["status"] == "CANCELED" for gid in gids)
    assert finish(shop, started(shop, queries.CUSTOMERS.ids_query()))["status"] == "COMPLETED"


def test_slow_operation_reports_progress(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=400)
    shop.sim_call("PUT", "faults", {"bulk_slow_ms": 400})
    gid = started(shop, queries.ORDERS.bulk_query())
    time.sleep(0.2)
    midway = poll(shop, gid)
    assert midway["status"] == "RUNNING" and midway["objectCount"] == "1000"
    done = finish(shop, gid)
    assert done["status"] == "COMPLETED" and int(done["objectCount"]) > 1000


@pytest.mark.parametrize("resource", queries.RESOURCES, ids=lambda r: r.name)
def test_workers_write_the_same_file_as_one_process(
    sim: RunningSimulator, resource: queries.Resource
) -> None:
    shop = new_shop(sim, orders=300)
    alone = finish(shop, started(shop, resource.bulk_query()))
    config = {"parallel_from": 1, "workers": 3}
    assert shop.sim_call("PUT", "bulk", config).json()["workers"] == 3
    split = finish(shop, started(shop, resource.bulk_query()))
    assert split["status"] == "COMPLETED"
    for count in ("objectCount", "rootObjectCount", "fileSize"):
        assert split[count] == alone[count]
    body = httpx.get(split["url"]).content
    assert body == httpx.get(alone["url"]).content
    assert len(lines(body)) == int(split["objectCount"])


def test_canceling_stops_the_workers(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=20_000)
    shop.sim_call("PUT", "bulk", {"parallel_from": 1, "workers": 2})
    gid = started(shop, queries.ORDERS.bulk_query())
    assert graphql(shop, CANCEL, {"id": gid})["data"]["bulkOperationCancel"]["userErrors"] == []
    op = finish(shop, gid)
    assert op["status"] == "CANCELED" and op["url"] is None
    assert int(op["rootObjectCount"]) < 20_000


def test_url_expires(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5)
    assert shop.sim_call("PUT", "bulk", {"url_ttl_s": 0.5}).json()["url_ttl_s"] == 0.5
    op = finish(shop, started(shop, queries.CUSTOMERS.bulk_query()))
    assert httpx.get(op["url"]).status_code == 200
    time.sleep(0.6)
    assert httpx.get(op["url"]).status_code == 403
    expired = poll(shop, op["id"])
    assert expired["status"] == "EXPIRED" and expired["url"] is None


def test_finish_webhook(sim: RunningSimulator) -> None:
    receiver = Receiver()
    try:
        shop = new_shop(sim, orders=5)
        hook = {"webhook": {"topic": "bulk_operations/finish", "address": receiver.url}}
        assert shop.http.post(f"{shop.url}/webhooks.json", json=hook).status_code == 201
        op = finish(shop, started(shop, queries.CUSTOMERS.bulk_query()))
        [(headers, body)] = receiver.wait(1)
        assert headers["X-Shopify-Topic"] == "bulk_operations/finish"
        assert json.loads(body) == {
            "admin_graphql_api_id": op["id"],
            "completed_at": op["completedAt"],
            "created_at": op["createdAt"],
            "error_code": None,
            "status": "completed",
            "type": "query",
        }
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
