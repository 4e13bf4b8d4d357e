"""Bulk-format lines from the other ways records arrive: paged queries and webhooks.

A bulk operation's JSONL is the one input `ingestion.flatten` reads: one line per node,
nodes of nested connections as lines of their own after their parent, carrying
`"__parentId"`; plain lists stay inline. These functions rewrite a page of nodes (same
selection as `ingestion.queries`, connections as `edges { node }`) and a REST webhook payload
into exactly those lines, so every arrival ends in the same raw rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Line = dict[str, Any]


def page_lines(resource: str, nodes: Iterable[dict[str, Any]]) -> Iterator[Line]:
    """The bulk lines of a page of GraphQL nodes of `resource` (a raw root table name)."""
    raise NotImplementedError


def webhook_lines(resource: str, payload: dict[str, Any]) -> list[Line]:
    """The bulk lines of one REST webhook payload (orders/create|updated, products/update,
    customers/update, checkouts/update) of `resource`, in GraphQL names and GIDs."""
    raise NotImplementedError


def write_lines(lines: Iterable[Line], path: Path) -> int:
    """Append lines to a JSONL file; how many were written."""
    raise NotImplementedError
