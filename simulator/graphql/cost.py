"""Shopify's calculated query cost, and charging it to the shop's bucket of points.

The rules Shopify documents for the GraphQL Admin API:

- a scalar or enum field costs 0, an object field 1 (plus what is selected in it); an
  interface or union costs the most expensive of the selections on its possible types;
- a connection costs 2 plus the page size asked for (`first` or `last`), and what is
  selected in its nodes counts once per node, so nested connections multiply;
- a mutation field costs 10 (its payload is not added);
- the *requested* cost comes from the document and variables before execution; a query
  above 1,000 is refused (`MAX_COST_EXCEEDED`), and one the bucket cannot cover is
  `THROTTLED` (HTTP 200 both). The *actual* cost counts what came back (a connection
  that returned fewer nodes, a null object), and the difference is refunded.

The endpoint calls `charge(shop, schema, document, variables)` before executing, answers
`charge.refusal` as is when set, and otherwise adds `charge.settle(data)` (the
`extensions` object with `cost`) to the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    value_from_ast_untyped,
)

if TYPE_CHECKING:
    from simulator.shop import Shop

MAX_QUERY_COST = 1_000
MUTATION_COST = 10
CONNECTION_BASE = 2
DOCS = "https://shopify.dev/api/usage/rate-limits"

Fragments = dict[str, FragmentDefinitionNode]


class _Walk:
    """One operation's selections against the schema (shared by both costs)."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = dict(variables or {})
        self.fragments: Fragments = {}
        self.operation: OperationDefinitionNode | None = None
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                self.fragments[definition.name.value] = definition
            elif isinstance(definition, OperationDefinitionNode) and self.operation is None:
                self.operation = definition

    def root(self) -> GraphQLObjectType | None:
        if self.operation is None:
            return None
        if self.operation.operation == OperationType.MUTATION:
            return self.schema.mutation_type
        return self.schema.query_type

    @property
    def is_mutation(self) -> bool:
        return self.operation is not None and self.operation.operation == OperationType.MUTATION

    def fields(
        self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None
    ) -> list[tuple[list[tuple[FieldNode, GraphQLField]], str | None]]:
        """The field selections, grouped: direct ones (type None) and one group per
        fragment type condition, so an abstract parent can take the costliest group."""
        groups: dict[str | None, list[tuple[FieldNode, GraphQLField]]] = {None: []}
        self._collect(parent, selection_set, None, groups)
        return [(fields, condition) for condition, fields in groups.items()]

    def _collect(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode | None,
        condition: str | None,
        groups: dict[str | None, list[tuple[FieldNode, GraphQLField]]],
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field_type = self.schema.get_type(condition) if condition else parent
                defs = getattr(field_type, "fields", {})
                definition = defs.get(selection.name.value)
                if definition is not None:
                    groups.setdefault(condition, []).append((selection, definition))
            else:
                type_name: str | None
                if isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is None:
                        continue
                    type_name, inner = fragment.type_condition.name.value, fragment.selection_set
                else:
                    assert isinstance(selection, InlineFragmentNode)
                    type_name = (
                        selection.type_condition.name.value
                        if selection.type_condition
                        else condition
                    )
                    inner = selection.selection_set
                if type_name == parent.name:
                    type_name = condition
                self._collect(parent, inner, type_name, groups)

    def page_size(self, node: FieldNode) -> int:
        """`first` or `last` of a connection (the larger if both; 0 if neither)."""
        size = 0
        for argument in node.arguments:
            if argument.name.value in ("first", "last"):
                value = value_from_ast_untyped(argument.value, self.variables)
                if isinstance(value, int) and value > size:
                    size = value
        return size


def _is_connection(named: GraphQLNamedType) -> bool:
    fields = getattr(named, "fields", None)
    return bool(
        named.name.endswith("Connection") and fields and ("edges" in fields or "nodes" in fields)
    )


def _node_type(connection: GraphQLNamedType) -> GraphQLNamedType:
    fields = connection.fields  # type: ignore[attr-defined]
    if "nodes" in fields:
        return get_named_type(fields["nodes"].type)
    edge = get_named_type(fields["edges"].type)
    return get_named_type(edge.fields["node"].type)


def _node_selections(walk: _Walk, connection: GraphQLNamedType, node: FieldNode) -> list:
    """Selection sets that apply to each node: `nodes { ... }` and `edges { node { ... } }`."""
    out = []
    for group, _ in walk.fields(connection, node.selection_set):
        for child, definition in group:
            name = child.name.value
            if name == "nodes":
                out.append(child.selection_set)
            elif name == "edges":
                edge = get_named_type(definition.type)
                assert edge is not None
                for edge_group, _ in walk.fields(edge, child.selection_set):
                    out.extend(c.selection_set for c, _ in edge_group if c.name.value == "node")
    return out


def _requested(
    walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode | None
) -> int:
    direct, *conditional = walk.fields(parent, selection_set)
    total = sum(_requested_field(walk, node, definition) for node, definition in direct[0])
    group_costs = [
        sum(_requested_field(walk, node, definition) for node, definition in group)
        for group, _ in conditional
    ]
    if group_costs:
        total += max(group_costs) if is_abstract_type(parent) else sum(group_costs)
    return total


def _requested_field(walk: _Walk, node: FieldNode, definition: GraphQLField) -> int:
    named = get_named_type(definition.type)
    if is_leaf_type(named):
        return 0
    if _is_connection(named):
        size = walk.page_size(node)
        node_type = _node_type(named)
        per_node = sum(_requested(walk, node_type, s) for s in _node_selections(walk, named, node))
        return CONNECTION_BASE + size + size * per_node
    return 1 + _requested(walk, named, node.selection_set)


def _actual(
    walk: _Walk, parent: GraphQLNamedType, selection_set: SelectionSetNode | None, value: Any
) -> int:
    if not isinstance(value, Mapping):
        return 0
    concrete = value.get("__typename")
    total = 0
    for group, condition in walk.fields(parent, selection_set):
        if condition is not None and is_abstract_type(parent) and concrete not in (None, condition):
            continue
        for node, definition in group:
            key = node.alias.value if node.alias else node.name.value
            total += _actual_field(walk, node, definition, value.get(key))
    return total


def _actual_field(walk: _Walk, node: FieldNode, definition: GraphQLField, value: Any) -> int:
    named = get_named_type(definition.type)
    if is_leaf_type(named) or value is None:
        return 0
    if _is_connection(named):
        if not isinstance(value, Mapping):
            return 0
        node_type = _node_type(named)
        selections = _node_selections(walk, named, node)
        nodes = value.get("nodes")
        if nodes is None:
            nodes = [edge.get("node") for edge in value.get("edges") or () if edge]
        per_node = sum(
            _actual(walk, node_type, selection, item) for item in nodes for selection in selections
        )
        return CONNECTION_BASE + len(nodes) + per_node
    if isinstance(value, list):  # a plain list of objects costs as one object at most
        return 1 + max(
            (_actual(walk, named, node.selection_set, item) for item in value), default=0
        )
    return 1 + _actual(walk, named, node.selection_set, value)


def requested_cost(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None = None
) -> int:
    """The cost Shopify charges before running the document's (first) operation."""
    walk = _Walk(schema, document, variables or {})
    root = walk.root()
    if root is None or walk.operation is None:
        return 0
    if walk.is_mutation:
        direct = walk.fields(root, walk.operation.selection_set)
        return MUTATION_COST * sum(len(group) for group, _ in direct)
    return _requested(walk, root, walk.operation.selection_set)


def actual_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
) -> int:
    """The cost of what the operation returned (never above the requested cost)."""
    walk = _Walk(schema, document, variables or {})
    root = walk.root()
    if root is None or walk.operation is None:
        return 0
    if walk.is_mutation:
        return requested_cost(schema, document, variables)
    return _actual(walk, root, walk.operation.selection_set, data or {})


class Charge:
    """The cost taken for one request; refused when the query may not run."""

    def __init__(
        self,
        shop: Shop,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.shop, self.schema, self.document, self.variables = shop, schema, document, variables
        self.requested = requested_cost(schema, document, variables)
        self.refusal: dict[str, Any] | None = None
        if self.requested > MAX_QUERY_COST:
            self.refusal = {
                "errors": [
                    {
                        "message": (
                            f"Query cost is {self.requested}, which exceeds the single query max "
                            f"cost limit ({MAX_QUERY_COST}).\n\nSee {DOCS} for more information "
                            "on how the\ncost of a query is calculated.\n\nTo query larger "
                            "amounts of data with fewer limits, bulk operations should be used "
                            "instead.\nSee https://shopify.dev/api/usage/bulk-operations/queries "
                            "for usage details.\n"
                        ),
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": self.requested,
                            "maxCost": MAX_QUERY_COST,
                            "documentation": DOCS,
                        },
                    }
                ],
                "extensions": self._extensions(None),
            }
        elif not shop.points.take(self.requested, enforce=shop.bucket.config.enabled):
            self.refusal = {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": DOCS},
                    }
                ],
                "extensions": self._extensions(None),
            }

    def _extensions(self, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": self.requested,
                "actualQueryCost": actual,
                "throttleStatus": self.shop.points.status(),
            }
        }

    def settle(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Refund what the query did not use; the response's ``extensions``."""
        actual = min(self.requested, actual_cost(self.schema, self.document, self.variables, data))
        self.shop.points.give_back(self.requested - actual)
        return self._extensions(actual)


def charge(
    shop: Shop,
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any] | None = None,
) -> Charge:
    """Take the requested cost from ``shop``'s bucket before the document runs."""
    return Charge(shop, schema, document, variables)
