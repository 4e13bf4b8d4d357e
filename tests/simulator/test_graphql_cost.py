"""Calculated query cost: Shopify's arithmetic, refunds, the point bucket per plan."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, parse

from ingestion import queries
from simulator.graphql.cost import actual_cost, requested_cost
from simulator.graphql.schema import SCHEMA
from simulator.ratelimit import PLANS, PointBucket, QueryCostLimit
from simulator.server import RunningSimulator
from tests.simulator.graphql_helpers import graphql_url
from tests.simulator.sim_helpers import Admin, new_shop


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return SCHEMA


def cost(schema: GraphQLSchema, text: str, **variables: object) -> int:
    return requested_cost(schema, parse(text), variables)


def test_objects_cost_one_scalars_nothing(schema: GraphQLSchema) -> None:
    assert cost(schema, "{ shop { id name } }") == 1
    # shop 1, primaryDomain 1, plan 1
    assert cost(schema, queries.SHOP) == 3
    assert cost(schema, queries.ORDERS.count_query(), query="updated_at:>'2024-01-01'") == 1


def test_connection_is_two_plus_page_size_times_node_cost(schema: GraphQLSchema) -> None:
    page = queries.CUSTOMERS.page_query()
    # per customer: defaultEmailAddress, defaultPhoneNumber, defaultAddress
    for first in (1, 10, 50, 250):
        assert cost(schema, page, first=first, after=None, query=None) == 2 + first + 3 * first
    assert cost(schema, "{ orders(first: 7) { nodes { id } pageInfo { hasNextPage } } }") == 9
    assert cost(schema, "{ orders(last: 3) { edges { cursor node { id } } } }") == 5


def test_nested_connections_multiply(schema: GraphQLSchema) -> None:
    text = (
        "{ products(first: 10) { edges { node { title "
        "variants(first: 5) { edges { node { id price } } } } } } }"
    )
    assert cost(schema, text) == 2 + 10 + 10 * (2 + 5)
    orders = queries.ORDERS.page_query()
    one = cost(schema, orders, first=1, after=None, query=None)
    assert cost(schema, orders, first=2, after=None, query=None) == 2 + 2 * (one - 2)
    # A paged order fits the single-query maximum; a full page of them does not.
    assert one < 1_000 < cost(schema, orders, first=250, after=None, query=None)


def test_mutation_costs_ten_and_abstract_types_the_costliest_branch(schema: GraphQLSchema) -> None:
    run = 'mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") '
    assert cost(schema, run + "{ bulkOperation { id status } userErrors { message } } }") == 10
    node = "query ($id: ID!) { node(id: $id) { id ... on BulkOperation { status url } } }"
    assert cost(schema, node, id="gid://shopify/BulkOperation/1") == 1
    fragments = (
        'query { node(id: "x") { ...Op ... on Order { customer { id } totalPriceSet '
        "{ shopMoney { amount } } } } } fragment Op on BulkOperation { id }"
    )
    assert cost(schema, fragments) == 1 + 3  # the Order branch: customer 1 + MoneyBag 1 + MoneyV2 1


def test_actual_cost_counts_what_came_back(schema: GraphQLSchema) -> None:
    text = (
        "{ products(first: 10) { edges { node { title "
        "variants(first: 5) { edges { node { id } } } } } } }"
    )
    document = parse(text)
    product = {
        "title": "t",
        "variants": {"edges": [{"node": {"id": "v1"}}, {"node": {"id": "v2"}}]},
    }
    data = {"products": {"edges": [{"node": product}] * 3}}
    assert actual_cost(schema, document, {}, data) == 2 + 3 + 3 * (2 + 2)
    assert actual_cost(schema, document, {}, {"products": {"edges": []}}) == 2
    nullable = parse("{ orders(first: 2) { nodes { customer { id } } } }")
    returned = {"orders": {"nodes": [{"customer": None}, {"customer": {"id": "c"}}]}}
    assert requested_cost(schema, nullable, {}) == 2 + 2 + 2
    assert actual_cost(schema, nullable, {}, returned) == 2 + 2 + 1


def test_aliases_and_variables(schema: GraphQLSchema) -> None:
    text = "query ($n: Int) { a: customers(first: $n) { nodes { id } } b: shop { id } }"
    document = parse(text)
    assert requested_cost(schema, document, {"n": 20}) == 22 + 1
    data = {"a": {"nodes": [{"id": "1"}]}, "b": {"id": "s"}}
    assert actual_cost(schema, document, {"n": 20}, data) == 3 + 1


def test_bucket_takes_refunds_and_restores_exactly() -> None:
    bucket = PointBucket(QueryCostLimit(plan="standard"))
    assert bucket.status() == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 2000,
        "restoreRate": 100.0,
    }
    assert bucket.take(1_000, enforce=True)
    assert bucket.take(1_000, enforce=True)
    assert not bucket.take(100, enforce=True)  # a refused query takes nothing
    bucket.give_back(40)
    started = time.monotonic()
    time.sleep(0.3)
    available = bucket.status()["currentlyAvailable"]
    elapsed = time.monotonic() - started
    assert 40 + 100 * 0.3 - 1 <= available <= 40 + 100 * elapsed
    assert not bucket.take(200, enforce=True)
    assert bucket.take(200, enforce=False)  # rate limit off: reported, never refused
    assert bucket.status()["currentlyAvailable"] == 0


def test_plans_as_published() -> None:
    assert {name: plan.restore_rate for name, plan in PLANS.items()} == {
        "standard": 100.0,
        "advanced": 200.0,
        "plus": 1_000.0,
        "enterprise": 2_000.0,
    }
    bucket = PointBucket(QueryCostLimit(plan="standard"))
    bucket.take(500, enforce=True)
    bucket.configure(QueryCostLimit(plan="plus"))
    status = bucket.status()
    assert status["maximumAvailable"] == 20_000.0 and status["restoreRate"] == 1_000.0
    assert 19_500 <= status["currentlyAvailable"] <= 19_502  # the points used stay used


# over HTTP ---------------------------------------------------------------------------------

DRAIN = "{ orders(first: 249) { nodes { totalPriceSet { shopMoney { amount } presentmentMoney { amount } } } } }"  # noqa: E501
DRAIN_COST = 2 + 249 + 249 * 3


def answer(shop: Admin, document: str, **variables: Any) -> dict:
    response = shop.http.post(graphql_url(shop), json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def limited(sim: RunningSimulator) -> Admin:
    return new_shop(sim, orders=300, customers=120, rate_limit=True)


def test_every_answer_reports_cost_and_refunds_the_unused(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5, customers=3, rate_limit=True)
    body = answer(shop, "{ customers(first: 50) { nodes { id } } }")
    assert len(body["data"]["customers"]["nodes"]) == 3
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 52 and cost["actualQueryCost"] == 5
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0 and status["restoreRate"] == 100.0
    assert 1_995 <= status["currentlyAvailable"] <= 2_000  # charged 52, refunded 47


def test_throttled_in_shopify_shape(limited: Admin) -> None:
    limited.sim_call("PUT", "query_cost", {"plan": "standard"})
    for _ in range(2):
        assert answer(limited, DRAIN)["extensions"]["cost"]["actualQueryCost"] == DRAIN_COST
    body = answer(limited, DRAIN)
    assert "data" not in body
    assert body["errors"] == [
        {
            "message": "Throttled",
            "extensions": {
                "code": "THROTTLED",
                "documentation": "https://shopify.dev/api/usage/rate-limits",
            },
        }
    ]
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == DRAIN_COST and cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < DRAIN_COST
    # the rate limit switched off: cost still reported, never throttled
    limited.sim_call("PUT", "rate_limit", {"enabled": False})
    try:
        free = answer(limited, DRAIN)
        assert "errors" not in free and free["extensions"]["cost"]["actualQueryCost"] == DRAIN_COST
    finally:
        limited.sim_call("PUT", "rate_limit", {"enabled": True})


def test_max_cost_exceeded(limited: Admin) -> None:
    page = queries.ORDERS.page_query()
    body = answer(limited, page, first=250, after=None, query=None)
    [error] = body["errors"]
    requested = requested_cost(SCHEMA, parse(page), {"first": 250})
    assert error["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": requested,
        "maxCost": 1000,
        "documentation": "https://shopify.dev/api/usage/rate-limits",
    }
    assert error["message"].startswith(f"Query cost is {requested}, which exceeds the single")
    assert "data" not in body


def test_plans_per_shop_and_through_sim(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=5, plan="advanced", rate_limit=True)
    assert shop.info["query_cost"] == {"plan": "advanced"}
    status = answer(shop, "{ shop { id } }")["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 4000.0 and status["restoreRate"] == 200.0
    assert shop.sim_call("PUT", "query_cost", {"plan": "plus"}).json() == {"plan": "plus"}
    status = answer(shop, "{ shop { id } }")["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 20_000.0 and status["restoreRate"] == 1_000.0
    assert shop.sim_call("PUT", "query_cost", {"plan": "basic"}).status_code == 422
    created = httpx.post(f"{sim.base_url}/_sim/shops", json={"name": "badplan", "plan": "gold"})
    assert created.status_code == 422


def test_paced_client_uses_the_restore_rate_without_throttling(limited: Admin) -> None:
    """Drain the Standard bucket, then ask only what ``throttleStatus`` says it holds."""
    limited.sim_call("PUT", "query_cost", {"plan": "standard"})
    query = "{ customers(first: 50) { nodes { id } } }"
    status: dict = {}
    for _ in range(3):  # the first drain (it may end THROTTLED)
        status = answer(limited, DRAIN)["extensions"]["cost"]["throttleStatus"]
    rate = status["restoreRate"]
    available, at = status["currentlyAvailable"], time.monotonic()
    start, spent = at, 0
    for _ in range(8):
        short = 52 - (available + (time.monotonic() - at) * rate)
        if short > 0:
            time.sleep(short / rate)
        body = answer(limited, query)
        assert "errors" not in body, body
        cost = body["extensions"]["cost"]
        spent += cost["actualQueryCost"]
        available, at = cost["throttleStatus"]["currentlyAvailable"], time.monotonic()
    used_rate = (spent - status["currentlyAvailable"]) / (at - start)
    assert used_rate >= 0.95 * rate
