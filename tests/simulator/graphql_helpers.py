"""Talking to a simulated shop's GraphQL Admin endpoint (imported by the GraphQL tests)."""

from __future__ import annotations

from typing import Any

from tests.simulator.sim_helpers import Admin

GRAPHQL_VERSION = "2026-10"


def graphql_url(shop: Admin) -> str:
    return f"{shop.sim.base_url}/{shop.domain}/admin/api/{GRAPHQL_VERSION}/graphql.json"


def gql(shop: Admin, query: str, **variables: Any) -> dict:
    """``data`` of a query that must succeed."""
    body = gql_raw(shop, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def gql_raw(shop: Admin, query: str, **variables: Any) -> dict:
    """The whole JSON answer (HTTP 200 expected)."""
    response = shop.http.post(graphql_url(shop), json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def gid_number(gid: str) -> int:
    return int(gid.rsplit("/", 1)[1])


def walk(shop: Admin, field: str, selection: str, page: int, **args: Any) -> list[dict]:
    """Every node of a root connection, following ``endCursor`` (``args`` as GraphQL
    arguments, e.g. ``sortKey="UPDATED_AT"``)."""
    extra = "".join(f", {k}: {v}" for k, v in args.items())
    query = (
        f"query($after: String) {{ {field}(first: {page}, after: $after{extra}) "
        f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {selection} }} }} }}"
    )
    out: list[dict] = []
    after = None
    while True:
        found = gql(shop, query, after=after)[field]
        out.extend(found["nodes"])
        if not found["pageInfo"]["hasNextPage"]:
            return out
        after = found["pageInfo"]["endCursor"]
