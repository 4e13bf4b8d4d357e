"""The GraphQL Admin endpoint: Xeno's selections resolve on the same records as REST."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import FieldNode, GraphQLNonNull, get_named_type, parse

from ingestion import queries
from simulator.graphql.schema import SCHEMA
from simulator.server import RunningSimulator
from tests.simulator.graphql_helpers import gid_number, gql, gql_raw, graphql_url
from tests.simulator.sim_helpers import Admin, new_shop


def small(selection: str) -> str:
    """A selection with nested pages of 5, so one page stays under the cost limit."""
    return selection.replace("first: 20", "first: 5")


def assert_resolved(type_: Any, selection_set: Any, value: Any, path: str = "") -> None:
    """Every selected field is present, and non-null fields are not null."""
    if isinstance(value, list):
        for item in value:
            assert_resolved(type_, selection_set, item, path)
        return
    for node in selection_set.selections:
        assert isinstance(node, FieldNode)
        key = node.alias.value if node.alias else node.name.value
        assert key in value, f"{path}.{key} missing"
        definition = type_.fields[node.name.value]
        if isinstance(definition.type, GraphQLNonNull):
            assert value[key] is not None, f"{path}.{key} is null"
        if node.selection_set and value[key] is not None:
            named = get_named_type(definition.type)
            assert_resolved(named, node.selection_set, value[key], f"{path}.{key}")


def page_of(shop: Admin, resource: queries.Resource, total: int, page: int = 8) -> list[dict]:
    """The first ``total`` nodes in pages small enough for the cost limit, each checked."""
    document = (
        f"query($n: Int!, $after: String) {{ {resource.field}(first: $n, after: $after) "
        f"{{ pageInfo {{ endCursor }} nodes {{ {small(resource.page_selection)} }} }} }}"
    )
    selection = parse(document).definitions[0].selection_set
    nodes: list[dict] = []
    after = None
    while len(nodes) < total:
        data = gql(shop, document, n=min(page, total - len(nodes)), after=after)
        assert_resolved(SCHEMA.query_type, selection, data)
        nodes.extend(data[resource.field]["nodes"])
        after = data[resource.field]["pageInfo"]["endCursor"]
    return nodes


def by_id(records: list[dict]) -> dict[int, dict]:
    return {r["id"]: r for r in records}


def money(bag: dict) -> str:
    return bag["shopMoney"]["amount"]


def test_shop(base: Admin) -> None:
    data = gql(base, queries.SHOP)["shop"]
    rest = base.get("shop.json").json()["shop"]
    assert gid_number(data["id"]) == rest["id"]
    assert data["myshopifyDomain"] == base.domain
    assert data["currencyCode"] == rest["currency"]
    assert data["ianaTimezone"] == rest["iana_timezone"]
    assert data["plan"]["publicDisplayName"] == rest["plan_display_name"]


def test_orders_match_rest(base: Admin) -> None:
    # refunded and discounted orders are among the first 60
    rest = by_id(base.walk("orders", status="any", limit=60)[:60])
    nodes = page_of(base, queries.ORDERS, 60)
    assert [gid_number(n["id"]) for n in nodes] == list(rest)
    for node in nodes:
        order = rest[gid_number(node["id"])]
        assert node["name"] == order["name"] and node["number"] == order["order_number"]
        assert node["displayFinancialStatus"] == order["financial_status"].upper()
        assert node["test"] == order["test"] and node["cancelledAt"] == order["cancelled_at"]
        assert money(node["totalPriceSet"]) == order["total_price"]
        assert money(node["subtotalPriceSet"]) == order["subtotal_price"]
        assert money(node["totalTaxSet"]) == order["total_tax"]
        assert money(node["totalDiscountsSet"]) == order["total_discounts"]
        assert node["totalPriceSet"]["shopMoney"]["currencyCode"] == order["currency"]
        assert node["discountCodes"] == [d["code"] for d in order["discount_codes"]]
        if order["customer"]:
            assert gid_number(node["customer"]["id"]) == order["customer"]["id"]
            assert node["customer"]["defaultEmailAddress"]["emailAddress"] == order["email"]
        else:
            assert node["customer"] is None
        lines = [e["node"] for e in node["lineItems"]["edges"]]
        assert [gid_number(li["id"]) for li in lines] == [li["id"] for li in order["line_items"]][
            :5
        ]
        for li, rest_li in zip(lines, order["line_items"], strict=False):
            assert money(li["originalUnitPriceSet"]) == rest_li["price"]
            assert li["quantity"] == rest_li["quantity"]
            variant = rest_li["variant_id"]
            assert (li["variant"] and gid_number(li["variant"]["id"])) == variant
            allocated = [money(a["allocatedAmountSet"]) for a in li["discountAllocations"]]
            assert allocated == [a["amount"] for a in rest_li["discount_allocations"]]
        ships = [e["node"] for e in node["shippingLines"]["edges"]]
        assert [gid_number(s["id"]) for s in ships] == [s["id"] for s in order["shipping_lines"]]
        refunded = Decimal(0)
        assert [gid_number(r["id"]) for r in node["refunds"]] == [r["id"] for r in order["refunds"]]
        for refund, rest_refund in zip(node["refunds"], order["refunds"], strict=True):
            txns = [e["node"] for e in refund["transactions"]["edges"]]
            assert [gid_number(t["id"]) for t in txns] == [
                t["id"] for t in rest_refund["transactions"]
            ]
            for txn in txns:
                if txn["kind"] == "REFUND" and txn["status"] == "SUCCESS":
                    refunded += Decimal(money(txn["amountSet"]))
        assert Decimal(money(node["totalRefundedSet"])) == refunded
    assert any(n["refunds"] for n in nodes) and any(n["discountCodes"] for n in nodes)


def test_customers_match_rest(base: Admin) -> None:
    rest = by_id(base.walk("customers", limit=20)[:20])
    nodes = page_of(base, queries.CUSTOMERS, 20)
    assert [gid_number(n["id"]) for n in nodes] == list(rest)
    for node in nodes:
        customer = rest[gid_number(node["id"])]
        assert node["defaultEmailAddress"]["emailAddress"] == customer["email"]
        assert node["state"] == customer["state"].upper()
        assert node["defaultAddress"]["city"] == customer["default_address"]["city"]


def test_products_match_rest(base: Admin) -> None:
    rest = by_id(base.walk("products", limit=10)[:10])
    nodes = page_of(base, queries.PRODUCTS, 10)
    for node in nodes:
        product = rest[gid_number(node["id"])]
        assert node["title"] == product["title"] and node["handle"] == product["handle"]
        variants = [e["node"] for e in node["variants"]["edges"]]
        assert [gid_number(v["id"]) for v in variants] == [v["id"] for v in product["variants"]][:5]
        assert [v["price"] for v in variants] == [v["price"] for v in product["variants"]][:5]


def test_abandoned_checkouts_match_rest(base: Admin) -> None:
    rest = by_id(base.walk("checkouts", limit=15)[:15])
    nodes = page_of(base, queries.ABANDONED_CHECKOUTS, 15)
    assert [gid_number(n["id"]) for n in nodes] == list(rest)
    for node in nodes:
        checkout = rest[gid_number(node["id"])]
        assert node["abandonedCheckoutUrl"] == checkout["abandoned_checkout_url"]
        assert node["completedAt"] == checkout["completed_at"]
        assert money(node["totalPriceSet"]) == checkout["total_price"]
        lines = [e["node"] for e in node["lineItems"]["edges"]]
        assert [li["quantity"] for li in lines] == [
            li["quantity"] for li in checkout["line_items"]
        ][:5]
        assert len({li["id"] for li in lines}) == len(lines)


def test_ids_are_stable_between_requests(base: Admin) -> None:
    first = page_of(base, queries.ABANDONED_CHECKOUTS, 3)
    assert page_of(base, queries.ABANDONED_CHECKOUTS, 3) == first


def test_counts(base: Admin) -> None:
    data = gql(
        base,
        "{ ordersCount { count precision } customersCount { count } productsCount { count } "
        "abandonedCheckoutsCount { count } capped: ordersCount(limit: 5) { count precision } }",
    )
    assert data["ordersCount"] == {"count": 300, "precision": "EXACT"}
    assert data["customersCount"]["count"] == base.get("customers/count.json").json()["count"]
    assert data["productsCount"]["count"] == base.get("products/count.json").json()["count"]
    assert (
        data["abandonedCheckoutsCount"]["count"] == base.get("checkouts/count.json").json()["count"]
    )
    assert data["capped"] == {"count": 5, "precision": "AT_LEAST"}


def test_aliases_fragments_and_variables(base: Admin) -> None:
    query = """
    query Two($n: Int!, $withName: Boolean!) {
      early: orders(first: $n) { edges { cursor node { ...Basics } } }
      late: orders(first: $n, reverse: true) {
        nodes { ... on Order { key: id name @include(if: $withName) } }
      }
    }
    fragment Basics on Order { key: id total: totalPriceSet { shopMoney { amount } } __typename }
    """
    data = gql(base, query, n=2, withName=False)
    early = [e["node"] for e in data["early"]["edges"]]
    assert set(early[0]) == {"key", "total", "__typename"} and early[0]["__typename"] == "Order"
    assert early[0]["total"]["shopMoney"]["amount"]
    assert [set(n) for n in data["late"]["nodes"]] == [{"key"}, {"key"}]
    assert gid_number(data["late"]["nodes"][0]["key"]) > gid_number(early[-1]["key"])
    named = gql(base, query, n=1, withName=True)["late"]["nodes"][0]
    assert named["name"].startswith("#")


def test_node_and_nodes(base: Admin) -> None:
    order = base.get("orders.json", status="any", limit=1).json()["orders"][0]
    gid = f"gid://shopify/Order/{order['id']}"
    query = """query($id: ID!, $ids: [ID!]!) {
      node(id: $id) { id ... on Order { name } }
      nodes(ids: $ids) { __typename ... on Customer { firstName } }
    }"""
    customer = base.get("customers.json", limit=1).json()["customers"][0]
    ids = [f"gid://shopify/Customer/{customer['id']}", "gid://shopify/Customer/1"]
    data = gql(base, query, id=gid, ids=ids)
    assert data["node"] == {"id": gid, "name": order["name"]}
    assert data["nodes"] == [
        {"__typename": "Customer", "firstName": customer["first_name"]},
        None,
    ]
    bad = gql_raw(base, query, id="Order/1", ids=[])
    assert bad["errors"][0]["message"] == "Invalid global id 'Order/1'"


def test_validation_errors_in_shopify_shape(base: Admin) -> None:
    body = gql_raw(base, "{ orders(first: 1) { nodes { id colour } } }")
    (error,) = body["errors"]
    assert "colour" in error["message"] and error["extensions"]["code"] == "undefinedField"
    assert error["locations"] == [{"line": 1, "column": 33}]
    assert "data" not in body
    body = gql_raw(base, "{ orders(first: 1) { nodes { id } }")
    assert body["errors"][0]["extensions"]["code"] == "parseError"
    body = gql_raw(base, "{ orders(frist: 1) { nodes { id } } }")
    assert "argumentNotAccepted" in [e["extensions"]["code"] for e in body["errors"]]
    body = gql_raw(base, "query($n: Int!) { orders(first: $n) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "variableMismatch"
    response = base.http.post(graphql_url(base), json={"variables": {}})
    assert response.status_code == 400
    assert response.json() == {"errors": {"query": "Required parameter missing or invalid"}}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("", "you must provide one of first or last"),
        ("first: 251", "The 'first' argument must be between 0 and 250."),
        ("last: 300", "The 'last' argument must be between 0 and 250."),
    ],
)
def test_page_size_limits(base: Admin, arguments: str, message: str) -> None:
    query = f"{{ customers{f'({arguments})' if arguments else ''} {{ nodes {{ id }} }} }}"
    body = gql_raw(base, query)
    assert body["errors"][0]["message"] == message
    assert body["errors"][0]["path"] == ["customers"]
    assert gql(base, "{ customers(first: 250) { nodes { id } } }")["customers"]["nodes"]


def test_auth_and_faults_as_rest(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    url = graphql_url(shop)
    query = {"query": "{ shop { id } }"}
    wrong = httpx.post(url, json=query, headers={"X-Shopify-Access-Token": "shpat_wrong"})
    rest = httpx.get(f"{shop.url}/shop.json", headers={"X-Shopify-Access-Token": "shpat_wrong"})
    assert wrong.status_code == rest.status_code == 401
    assert wrong.json() == rest.json()
    shop.sim_call("PUT", "faults", {"error_rate": 1.0, "seed": 1})
    assert shop.http.post(url, json=query).status_code in (500, 502, 503)
    shop.sim_call("PUT", "faults", {"error_rate": 0.0})
    assert shop.http.post(url, json=query).status_code == 200


def test_mutations_show_on_both_sides(sim: RunningSimulator) -> None:
    shop = new_shop(sim)
    created = shop.sim_call("POST", "orders", {"test": True}).json()["order"]
    shop.sim_call("PUT", f"orders/{created['id']}", {"cancel": True})
    query = (
        "query($id: ID!) { node(id: $id) { "
        "... on Order { test cancelledAt cancelReason displayFinancialStatus } } }"
    )
    node = gql(shop, query, id=f"gid://shopify/Order/{created['id']}")["node"]
    rest = shop.get(f"orders/{created['id']}.json").json()["order"]
    assert node == {
        "test": True,
        "cancelledAt": rest["cancelled_at"],
        "cancelReason": "OTHER",
        "displayFinancialStatus": rest["financial_status"].upper(),
    }
    shop.sim_call("DELETE", f"orders/{created['id']}")
    assert gql(shop, query, id=f"gid://shopify/Order/{created['id']}")["node"] is None


def test_customer_totals_follow_mutations(sim: RunningSimulator) -> None:
    shop = new_shop(sim, orders=90)
    query = (
        "query($id: ID!) { node(id: $id) { ... on Customer { numberOfOrders "
        "amountSpent { amount } } } }"
    )
    orders = shop.walk("orders", status="any", limit=250)
    buyer = next(o["customer"]["id"] for o in orders if o["customer"] and not o["test"])
    theirs = [o for o in orders if o["customer"] and o["customer"]["id"] == buyer]

    def totals() -> tuple[str, Decimal]:
        node = gql(shop, query, id=f"gid://shopify/Customer/{buyer}")["node"]
        return node["numberOfOrders"], Decimal(node["amountSpent"]["amount"])

    spent = sum(Decimal(o["current_total_price"]) for o in theirs if not o["test"])
    assert totals() == (str(len(theirs)), spent)
    new = shop.sim_call("POST", "orders", {"customer_id": buyer}).json()["order"]
    assert totals() == (str(len(theirs) + 1), spent + Decimal(new["total_price"]))
    shop.sim_call("PUT", f"orders/{new['id']}", {"refund": "1.00"})
    assert totals() == (str(len(theirs) + 1), spent + Decimal(new["total_price"]) - 1)
    shop.sim_call("DELETE", f"orders/{new['id']}")
    shop.sim_call("DELETE", f"orders/{theirs[0]['id']}")
    dropped = Decimal(0) if theirs[0]["test"] else Decimal(theirs[0]["current_total_price"])
    assert totals() == (str(len(theirs) - 1), spent - dropped)
