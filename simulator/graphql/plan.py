"""Compile a validated selection into a projection applied to REST record dicts.

graphql-core parses and validates; its executor is not run per record. Instead each
selection set becomes a function ``rec -> dict`` built from the getters of ``fields.py``:
fragments, aliases and ``@skip``/``@include`` are resolved once at compile time (with the
request's variables), so rendering a record is a dict comprehension over (response key,
getter) pairs.

In bulk mode (``compile_bulk``) a connection reached from a node through object fields is
left out of the node's object and emitted as separate lines after it, as Shopify's bulk
operations write them; lists (and connections inside lists) stay inline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import collect_sub_fields
from graphql.execution.values import get_argument_values

from simulator.graphql import fields as mapping
from simulator.graphql.connections import PageArgs, page_list
from simulator.store import ShopStore

Render = Callable[[Any], dict]
Getter = Callable[[Any], Any]


@dataclass
class Env:
    """What compiling needs besides the selection: schema, fragments, variables, store."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    store: ShopStore

    def subfields(
        self, type_: GraphQLObjectType, nodes: list[FieldNode]
    ) -> dict[str, list[FieldNode]]:
        return collect_sub_fields(self.schema, self.fragments, self.variables, type_, nodes)

    def args(self, parent: GraphQLObjectType, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(parent.fields[node.name.value], node, self.variables)

    def object_type(self, name: str) -> GraphQLObjectType:
        type_ = self.schema.get_type(mapping.CONCRETE.get(name, name))
        assert isinstance(type_, GraphQLObjectType)
        return type_


@dataclass
class BulkChild:
    """A nested connection emitted as lines of its own in bulk output."""

    items: Getter  # node record -> child records
    plan: BulkPlan


@dataclass
class BulkPlan:
    """How one node becomes bulk lines: its inline object, then its connections' nodes."""

    render: Render
    gid: Getter
    children: list[BulkChild] = field(default_factory=list)

    def lines(self, rec: dict, parent: str | None = None) -> Iterator[dict]:
        out = self.render(rec)
        if parent is not None:
            out["__parentId"] = parent
        yield out
        if self.children:
            me = self.gid(rec)
            for child in self.children:
                for item in child.items(rec):
                    yield from child.plan.lines(item, me)


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def is_connection(type_: Any) -> bool:
    return get_named_type(type_).name.endswith("Connection")


def compile_object(
    type_: GraphQLObjectType,
    nodes: list[FieldNode],
    env: Env,
    bulk: list[BulkChild] | None = None,
    path: Getter | None = None,
) -> Render:
    """``rec -> dict`` for the merged selection of ``nodes`` on ``type_``.

    With ``bulk`` set, connections reachable through object fields are appended there (with
    ``path``: node record -> this object's record) instead of rendered inline.
    """
    pairs: list[tuple[str, Getter, Render | None]] = []
    for key, group in env.subfields(type_, nodes).items():
        name = group[0].name.value
        if name == "__typename":
            pairs.append((key, _constant(type_.name), None))
            continue
        definition = type_.fields[name]
        get = mapping.getter(type_.name, name, env.store)
        named = get_named_type(definition.type)
        if is_leaf_type(named):
            pairs.append((key, get, None))
            continue
        if is_connection(named):
            plan = ConnectionPlan(named, group, env)
            if bulk is not None:  # bulk operations read nested connections whole
                bulk.append(BulkChild(_nested(path, get), compile_bulk_node(plan, env)))
            else:
                args = PageArgs.of(env.args(type_, group[0]), required=True)
                pairs.append((key, _connection_getter(get, plan, args), None))
            continue
        child_type = env.object_type(named.name)
        if _is_list(definition.type):
            render = compile_object(child_type, group, env)
            first = env.args(type_, group[0]).get("first")
            pairs.append((key, _list_getter(get, render, first), None))
        else:
            child_path = _nested_object(path, get) if bulk is not None else None
            render = compile_object(child_type, group, env, bulk, child_path)
            pairs.append((key, get, render))
    return _generate(pairs)


def _generate(pairs: list[tuple[str, Getter, Render | None]]) -> Render:
    """One Python function building the object as a dict display: plain REST keys are read
    inline, other getters called, object fields rendered when not null. Generated code,
    because a render runs for every node of a million-order bulk operation."""
    names: dict[str, Any] = {}
    items = []
    for n, (key, get, render) in enumerate(pairs):
        rest_key = getattr(get, "rest_key", None)
        if rest_key is not None:
            value = f"rec.get({rest_key!r})"
        else:
            names[f"g{n}"] = get
            value = f"g{n}(rec)"
        if render is not None:
            names[f"r{n}"] = render
            value = f"(None if (v{n} := {value}) is None else r{n}(v{n}))"
        items.append(f"{key!r}: {value}")
    source = f"def render(rec):\n    return {{{', '.join(items)}}}\n"
    exec(source, names)  # noqa: S102 (the source is built from schema names only)
    return names["render"]


def _constant(value: str) -> Getter:
    return lambda rec: value


def _list_getter(get: Getter, render: Render, first: int | None) -> Getter:
    if first is None:
        return lambda rec: [render(c) for c in get(rec)]
    return lambda rec: [render(c) for c in get(rec)[:first]]


def _connection_getter(get: Getter, plan: ConnectionPlan, args: PageArgs) -> Getter:
    def run(rec: Any) -> dict:
        items, has_prev, has_next = page_list(get(rec), args)
        return plan.render(items, has_prev, has_next)

    return run


def _nested_object(path: Getter | None, get: Getter) -> Getter:
    if path is None:
        return get

    def run(rec: Any) -> Any:
        parent = path(rec)
        return None if parent is None else get(parent)

    return run


def _nested(path: Getter | None, get: Getter) -> Getter:
    """Node record -> the child records of a connection below it (none if a step is null)."""
    if path is None:
        return get

    def run(rec: Any) -> list:
        parent = path(rec)
        return [] if parent is None else get(parent)

    return run


class ConnectionPlan:
    """The compiled ``edges``/``nodes``/``pageInfo`` selection of one connection field."""

    def __init__(self, conn_type: Any, nodes: list[FieldNode], env: Env) -> None:
        self.type = conn_type
        self.node_type = env.object_type(get_named_type(conn_type.fields["nodes"].type).name)
        self.edge_type = get_named_type(conn_type.fields["edges"].type)
        self.node_fields: list[FieldNode] = []  # every selection of the node (bulk)
        self.parts: list[tuple[str, str, Any]] = []
        for key, group in env.subfields(conn_type, nodes).items():
            name = group[0].name.value
            if name == "edges":
                edge = []
                for ekey, egroup in env.subfields(self.edge_type, group).items():
                    ename = egroup[0].name.value
                    if ename == "node":
                        self.node_fields.extend(egroup)
                        edge.append((ekey, "node", compile_object(self.node_type, egroup, env)))
                    else:
                        edge.append((ekey, ename, self.edge_type.name))
                self.parts.append((key, "edges", tuple(edge)))
            elif name == "nodes":
                self.node_fields.extend(group)
                self.parts.append((key, "nodes", compile_object(self.node_type, group, env)))
            elif name == "pageInfo":
                info_type = get_named_type(conn_type.fields["pageInfo"].type)
                keys = [(k, g[0].name.value) for k, g in env.subfields(info_type, group).items()]
                self.parts.append((key, "pageInfo", keys))
            else:  # __typename
                self.parts.append((key, "__typename", conn_type.name))

    def render(self, items: list[tuple[str, Any]], has_prev: bool, has_next: bool) -> dict:
        out: dict[str, Any] = {}
        for key, kind, spec in self.parts:
            if kind == "edges":
                out[key] = [_edge(spec, cursor, rec) for cursor, rec in items]
            elif kind == "nodes":
                out[key] = [spec(rec) for _, rec in items]
            elif kind == "pageInfo":
                info = {
                    "hasNextPage": has_next,
                    "hasPreviousPage": has_prev,
                    "startCursor": items[0][0] if items else None,
                    "endCursor": items[-1][0] if items else None,
                    "__typename": "PageInfo",
                }
                out[key] = {k: info[name] for k, name in spec}
            else:
                out[key] = spec
        return out


def _edge(spec: tuple, cursor: str, rec: Any) -> dict:
    out: dict[str, Any] = {}
    for key, kind, extra in spec:
        if kind == "node":
            out[key] = extra(rec)
        elif kind == "cursor":
            out[key] = cursor
        else:
            out[key] = extra
    return out


def compile_bulk_node(plan: ConnectionPlan, env: Env) -> BulkPlan:
    """The bulk plan of a connection's nodes (its ``edges { node }`` and ``nodes``)."""
    children: list[BulkChild] = []
    render = compile_object(plan.node_type, plan.node_fields, env, children)
    gid = mapping.getter(plan.node_type.name, "id", env.store)
    return BulkPlan(render, gid, children)
