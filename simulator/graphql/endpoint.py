"""``POST /{shop}/admin/api/{version}/graphql.json``: parse, validate, charge, execute.

GraphQL errors are answered with HTTP 200 and ``{"errors": [...]}`` as Shopify does; only a
body without a query is a 400. Root fields read the same store as the REST side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    OperationDefinitionNode,
    OperationType,
    get_named_type,
)
from graphql.execution.collect_fields import collect_fields
from graphql.execution.values import get_variable_values

from simulator.graphql import cost, search, subscriptions
from simulator.graphql import fields as mapping
from simulator.graphql.connections import PageArgs, TableWalk
from simulator.graphql.errors import QueryError
from simulator.graphql.plan import ConnectionPlan, Env, compile_object
from simulator.graphql.schema import SCHEMA, checked

if TYPE_CHECKING:
    from simulator.shop import Shop

MISSING_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}
BULK_FIELDS = {
    "bulkOperation",
    "currentBulkOperation",
    "bulkOperationRunQuery",
    "bulkOperationCancel",
}


class Request(msgspec.Struct):
    query: str | None = None
    variables: dict[str, Any] | None = None
    operationName: str | None = None


def respond(shop: Shop, body: bytes, version: str, base_url: str) -> tuple[int, dict]:
    """HTTP status and JSON body of one GraphQL request."""
    try:
        request = msgspec.json.decode(body, type=Request)
    except (msgspec.DecodeError, msgspec.ValidationError):
        request = Request(query=body.decode("utf-8", "replace")) if body.strip() else Request()
    if not request.query:
        return 400, MISSING_QUERY
    document, errors = checked(request.query)
    if document is None:
        return 200, {"errors": list(errors)}
    operation, fragments = _operation(document, request.operationName)
    if operation is None:
        message = (
            f"No operation named '{request.operationName}'"
            if request.operationName
            else "An operation name is required"
        )
        return 200, {"errors": [{"message": message, "extensions": {"code": "operationNotFound"}}]}
    coerced = get_variable_values(
        SCHEMA, operation.variable_definitions or (), request.variables or {}
    )
    if isinstance(coerced, list):
        return 200, {
            "errors": [
                {"message": e.message, "extensions": {"code": "variableMismatch"}} for e in coerced
            ]
        }
    charge = cost.charge(shop, SCHEMA, document, coerced)
    if charge.refusal is not None:
        return 200, charge.refusal
    env = Env(SCHEMA, fragments, coerced, shop.store)
    try:
        data = execute(shop, operation, env, version, base_url)
    except QueryError as exc:
        return 200, {"errors": [exc.as_dict()], "extensions": charge.settle(None)}
    return 200, {"data": data, "extensions": charge.settle(data)}


def _operation(
    document: Any, name: str | None
) -> tuple[OperationDefinitionNode | None, dict[str, FragmentDefinitionNode]]:
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is not None:
        operations = [o for o in operations if o.name and o.name.value == name]
    return (operations[0] if len(operations) == 1 else None), fragments


def execute(
    shop: Shop, operation: OperationDefinitionNode, env: Env, version: str, base_url: str
) -> dict:
    """The ``data`` of one operation."""
    mutation = operation.operation == OperationType.MUTATION
    root = SCHEMA.mutation_type if mutation else SCHEMA.query_type
    assert root is not None
    data: dict[str, Any] = {}
    grouped = collect_fields(SCHEMA, env.fragments, env.variables, root, operation.selection_set)
    for key, nodes in grouped.items():
        name = nodes[0].name.value
        try:
            data[key] = _root_field(shop, root, name, nodes, env, version, base_url)
        except QueryError as exc:
            exc.path = [key, *(exc.path or [])]
            raise
    return data


def _root_field(
    shop: Shop,
    root: GraphQLObjectType,
    name: str,
    nodes: list[FieldNode],
    env: Env,
    version: str,
    base_url: str,
) -> Any:
    if name == "__typename":
        return root.name
    args = env.args(root, nodes[0])
    return_type = get_named_type(root.fields[name].type)
    if name == "shop":
        return compile_object(env.object_type("Shop"), nodes, env)(shop.shop_json())
    if name in mapping.ROOTS:
        return _root_connection(shop, name, return_type, nodes, env, args)
    if name in mapping.COUNTS:
        return _count(shop, mapping.COUNTS[name], args)
    if name == "node":
        return _node(shop, args["id"], nodes, env)
    if name == "nodes":
        return [_node(shop, gid, nodes, env) for gid in args["ids"]]
    if name == "webhookSubscriptions":
        return subscriptions.connection(shop.hooks, ConnectionPlan(return_type, nodes, env), args)
    if name == "webhookSubscriptionCreate":
        payload = subscriptions.create(shop.hooks, args, version)
        return compile_object(return_type, nodes, env)(payload)
    if name in BULK_FIELDS:
        value = _bulk(shop, name, args, version, base_url)
        return None if value is None else compile_object(return_type, nodes, env)(value)
    raise QueryError(f"Field '{name}' is not available in the simulator", "undefinedField")


def _filter(shop: Shop, table: str, args: dict) -> search.Filter:
    return search.parse(args.get("query"), shop.profile.clock, table)


def _root_connection(
    shop: Shop, name: str, conn_type: Any, nodes: list[FieldNode], env: Env, args: dict
) -> dict:
    table_name, _ = mapping.ROOTS[name]
    page_args = PageArgs.of(args, required=True)
    table = shop.store.table(table_name)
    walk = TableWalk(table, _filter(shop, table_name, args), args.get("sortKey") == "UPDATED_AT")
    found, has_prev, has_next = walk.page(page_args)
    plan = ConnectionPlan(conn_type, nodes, env)
    return plan.render([(walk.cursor(i), table.get(i)) for i in found], has_prev, has_next)


def _count(shop: Shop, table_name: str, args: dict) -> dict:
    """``Count``: exact up to ``limit`` (Shopify's default 10,000), else AT_LEAST limit."""
    table = shop.store.table(table_name)
    limit = args.get("limit")
    found = _filter(shop, table_name, args)
    if found == search.Filter():
        n = table.live
    else:
        n = 0
        for _ in TableWalk(table, found, False).matches():
            n += 1
            if limit is not None and n > limit:
                break
    if limit is not None and n > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": n, "precision": "EXACT"}


def _node(shop: Shop, gid: str, nodes: list[FieldNode], env: Env) -> dict | None:
    """``node(id:)``: a root record (or a bulk operation) by GID; None if it is gone."""
    prefix, _, rest = gid.rpartition("/")
    kind = prefix.removeprefix("gid://shopify/")
    if not prefix.startswith("gid://shopify/") or not rest.isdigit():
        raise QueryError(f"Invalid global id '{gid}'", "argumentLiteralsIncompatible")
    if kind == "BulkOperation":
        value = shop.bulk.get(gid)
    elif kind in mapping.NODE_TABLES:
        table = shop.store.table(mapping.NODE_TABLES[kind])
        i = table.index_of(int(rest))
        value = None if i is None else table.get(i)
    else:
        return None
    if value is None:
        return None
    return compile_object(env.object_type(kind), nodes, env)(value)


def _bulk(shop: Shop, name: str, args: dict, version: str, base_url: str) -> dict | None:
    """Bulk operation fields, answered by the shop's ``simulator.graphql.bulk`` engine."""
    if name == "bulkOperationRunQuery":
        return shop.bulk.run_query(SCHEMA, args["query"], version, base_url)
    if name == "bulkOperationCancel":
        return shop.bulk.cancel(args["id"])
    if name == "bulkOperation":
        return shop.bulk.get(args["id"])
    return shop.bulk.current()
