"""The JSONL objects of a bulk query, streamed from a shop's store.

Shopify writes each node of the top-level connection as one object without its nested
connections, and each node of a nested connection (reached through object fields) as an
object of its own right after its parent, with ``"__parentId"``: the parent node's GID.
Plain lists, and connections inside them, stay inline. Records are rendered one at a time
in id order, so a store of any size streams in constant memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    get_named_type,
)

from simulator.graphql import fields as mapping
from simulator.graphql import search
from simulator.graphql.connections import TableWalk
from simulator.graphql.plan import BulkPlan, ConnectionPlan, Env, compile_bulk_node
from simulator.graphql.schema import SCHEMA
from simulator.store import ShopStore, Table


class BulkQueryError(ValueError):
    """A document that is not a bulk query over one root connection."""


@dataclass(frozen=True)
class BulkRead:
    """A compiled bulk query: which records of a table it reads, and their lines."""

    table: Table
    walk: TableWalk
    plan: BulkPlan

    def span(self) -> range:
        """The table positions the query can match (ids and creation times are ranges)."""
        return range(self.walk.lo, self.walk.hi)

    def lines(self, positions: Iterable[int] | None = None) -> Iterator[dict]:
        """The objects of the matching records among ``positions`` (default: all)."""
        matches = self.walk.matches(positions)
        get, lines = self.table.get, self.plan.lines
        for i in matches:
            yield from lines(get(i))


def bulk_lines(store: ShopStore, document: DocumentNode) -> Iterator[dict]:
    """Bulk objects of a validated query document, parents before their children.

    Raises ``BulkQueryError`` at once (not on first iteration) for a document whose single
    root field is not one of the record connections.
    """
    return compile_read(store, document).lines()


def compile_read(store: ShopStore, document: DocumentNode) -> BulkRead:
    """The records and line plan of a validated bulk query document; ``BulkQueryError``
    for a document whose single root field is not one of the record connections."""
    operation = next(
        (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
    )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation is None:
        raise BulkQueryError("a bulk query needs a query operation")
    root = SCHEMA.query_type
    assert root is not None
    env = Env(SCHEMA, fragments, {}, store)
    roots = [s for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    if len(roots) != 1 or roots[0].name.value not in mapping.ROOTS:
        raise BulkQueryError(
            f"a bulk query selects one of {', '.join(mapping.ROOTS)} as its only root field"
        )
    node = roots[0]
    table_name, _ = mapping.ROOTS[node.name.value]
    args = env.args(root, node)
    conn_type = get_named_type(root.fields[node.name.value].type)
    plan = compile_bulk_node(ConnectionPlan(conn_type, [node], env), env)
    table = store.table(table_name)
    found = search.parse(args.get("query"), store.profile.clock, table_name)
    return BulkRead(table, TableWalk(table, found, by_updated=False), plan)
