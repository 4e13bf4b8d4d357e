"""Relay paging over a shop's tables and over in-memory child lists.

Root connections walk a table in the order of their sort key without materialising it:
by id (``ID``; ``CREATED_AT`` and ``PROCESSED_AT`` are the same order, since records are
created in id order, and other keys fall back to it) or by ``(updated_at, id)``
(``UPDATED_AT``). A cursor holds the last record's sort value and id, so a walk by id
returns every record that exists throughout exactly once whatever changes between pages
(new records get larger ids), and a walk by ``UPDATED_AT`` sees a record updated behind its
cursor again later, never skipping it.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import msgspec

from simulator.graphql.errors import QueryError
from simulator.graphql.search import INF, Filter
from simulator.store import Table

MAX_PAGE = 250


@dataclass(frozen=True)
class PageArgs:
    """``first``/``after``/``last``/``before``/``reverse`` of one connection field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None
    reverse: bool = False

    @classmethod
    def of(cls, args: dict, required: bool) -> PageArgs:
        """Checked arguments: one of first/last (when ``required``), each 0..250."""
        first, last = args.get("first"), args.get("last")
        if required and first is None and last is None:
            raise QueryError("you must provide one of first or last", "argumentError")
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise QueryError(
                    f"The '{name}' argument must be between 0 and {MAX_PAGE}.",
                    "MAX_PAGE_SIZE_EXCEEDED" if value > MAX_PAGE else "argumentError",
                )
        return cls(first, args.get("after"), last, args.get("before"), bool(args.get("reverse")))


def encode_cursor(last_id: int, last_value: int | str) -> str:
    """Opaque cursor in Shopify's style: base64 JSON of the last id and sort value."""
    payload = msgspec.json.encode({"last_id": last_id, "last_value": last_value})
    return base64.b64encode(payload).decode()


def decode_cursor(cursor: str) -> tuple[int, int | str]:
    try:
        raw = msgspec.json.decode(base64.b64decode(cursor, validate=True))
        return int(raw["last_id"]), raw["last_value"]
    except (binascii.Error, ValueError, TypeError, KeyError, msgspec.DecodeError):
        raise QueryError(f"Invalid cursor: {cursor!r}", "argumentError") from None


# in-memory lists (nested connections) ------------------------------------------------------


def page_list(items: list, args: PageArgs) -> tuple[list[tuple[str, object]], bool, bool]:
    """A page of a child list; cursors are positions."""
    n = len(items)
    order = list(range(n - 1, -1, -1)) if args.reverse else list(range(n))
    lo, hi = 0, n
    if args.after is not None:
        lo = order.index(_position(args.after)) + 1 if _position(args.after) in order else n
    if args.before is not None:
        pos = _position(args.before)
        hi = order.index(pos) if pos in order else hi
    window = order[lo:hi]
    has_prev, has_next = lo > 0, hi < n
    if args.first is not None and len(window) > args.first:
        window, has_next = window[: args.first], True
    if args.last is not None and len(window) > args.last:
        window, has_prev = window[len(window) - args.last :], True
    return [(encode_cursor(p, p), items[p]) for p in window], has_prev, has_next


def _position(cursor: str) -> int:
    return int(decode_cursor(cursor)[0])


# tables (root connections) -----------------------------------------------------------------


class UpdatedOrder:
    """Indices of a table sorted by (updated_at, index), index order being id order.

    Generated records never change their ``updated`` value unless they move to the overlay,
    so their sorted order is computed once; the overlay (every changed or created record) is
    sorted per walk and merged in.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        n = len(table)
        updated = table.updated
        self.base = array("i", sorted(range(n), key=updated.__getitem__))
        self.base_updated = array("q", [updated[i] for i in self.base])

    def _base_position(self, key: tuple[int, int], right: bool) -> int:
        base, bu = self.base, self.base_updated
        lo = bisect_left(bu, key[0])
        hi = bisect_right(bu, key[0], lo)
        sub = base[lo:hi]  # equal update times: ascending index
        return lo + (bisect_right(sub, key[1]) if right else bisect_left(sub, key[1]))

    def walk(self, key: tuple[int, int] | None, ascending: bool) -> Iterator[int]:
        """Indices strictly after (ascending) or before (descending) ``key``."""
        table, updated = self.table, self.table.updated
        overlay = table.overlay
        changed = sorted(overlay, key=lambda i: (updated[i], i))
        if ascending:
            start = 0 if key is None else self._base_position(key, right=True)
            base = (i for i in islice(self.base, start, None) if i not in overlay)
            if key is not None:
                changed = [i for i in changed if (updated[i], i) > key]
            return heapq.merge(base, changed, key=lambda i: (updated[i], i))
        stop = len(self.base) if key is None else self._base_position(key, right=False)
        base = (self.base[p] for p in range(stop - 1, -1, -1) if self.base[p] not in overlay)
        if key is not None:
            changed = [i for i in changed if (updated[i], i) < key]
        return heapq.merge(base, changed[::-1], key=lambda i: (updated[i], i), reverse=True)


_UPDATED_ORDERS: dict[int, UpdatedOrder] = {}


def _updated_order(table: Table) -> UpdatedOrder:
    hit = _UPDATED_ORDERS.get(id(table))
    if hit is None or hit.table is not table:
        hit = _UPDATED_ORDERS[id(table)] = UpdatedOrder(table)
    return hit


class TableWalk:
    """The records of a table matching a filter, in a sort order, from a cursor."""

    def __init__(self, table: Table, found: Filter, by_updated: bool) -> None:
        self.table = table
        self.filter = found
        self.by_updated = by_updated
        # creation times and ids ascend with the index: both ranges are index ranges
        created = table.created
        lo = 0 if found.cmin == -INF else bisect_left(created, found.cmin)
        hi = len(table) if found.cmax == INF else bisect_right(created, found.cmax)
        if found.idmin != -INF:
            lo = max(lo, table.index_after(int(found.idmin) - 1))
        if found.idmax != INF:
            hi = min(hi, table.index_after(int(found.idmax)))
        self.lo, self.hi = lo, hi

    def matches(self, among: Iterable[int] | None = None) -> Iterator[int]:
        """Every matching index in id order (counts, bulk operations), or those `among`."""
        return self._filtered(range(self.lo, self.hi) if among is None else among)

    def _filtered(self, indices: Iterable[int]) -> Iterator[int]:
        f, flags, updated = self.filter, self.table.flags, self.table.updated
        lo, hi, mask, expect = self.lo, self.hi, f.mask, f.expect
        umin, umax = f.umin, f.umax
        for i in indices:
            if lo <= i < hi and flags[i] & mask == expect and umin <= updated[i] <= umax:
                yield i

    def cursor(self, i: int) -> str:
        rid = self.table.id_at(i)
        return encode_cursor(rid, self.table.updated[i] if self.by_updated else rid)

    def _key(self, cursor: str) -> tuple[int, int]:
        """(sort value, index) of a cursor; a deleted record keeps its index."""
        rid, value = decode_cursor(cursor)
        i = self.table.index_after(rid - 1)
        if not self.by_updated:
            return (i, i)
        if not isinstance(value, int):
            raise QueryError(f"Invalid cursor: {cursor!r}", "argumentError")
        return (value, i)

    def _walk(self, key: tuple[int, int] | None, ascending: bool) -> Iterator[int]:
        if self.by_updated:
            if key is None and ascending and self.filter.umin != -INF:
                key = (int(self.filter.umin), -1)
            return self._filtered(_updated_order(self.table).walk(key, ascending))
        if ascending:
            start = self.lo if key is None else max(self.lo, key[1] + 1)
            return self._filtered(range(start, self.hi))
        stop = self.hi if key is None else min(self.hi, key[1])
        return self._filtered(range(stop - 1, self.lo - 1, -1))

    def page(self, args: PageArgs) -> tuple[list[int], bool, bool]:
        """Indices of one page, hasPreviousPage, hasNextPage."""
        forward = not args.reverse
        after = self._key(args.after) if args.after else None
        before = self._key(args.before) if args.before else None
        if args.first is not None:
            found = self._take(self._walk(after, forward), args.first + 1, before, forward)
            has_next = len(found) > args.first
            found = found[: args.first]
            has_prev = after is not None and bool(found)
            if args.last is not None and len(found) > args.last:
                found, has_prev = found[len(found) - args.last :], True
            return found, has_prev, has_next
        assert args.last is not None  # PageArgs.of requires one of first or last
        found = self._take(self._walk(before, not forward), args.last + 1, after, not forward)
        has_prev = len(found) > args.last
        found = found[: args.last][::-1]
        return found, has_prev, before is not None and bool(found)

    def _take(
        self, walk: Iterator[int], want: int, stop: tuple[int, int] | None, ascending: bool
    ) -> list[int]:
        out: list[int] = []
        if stop is None:
            out = list(islice(walk, want))
            return out
        for i in walk:
            k = self._sort_key(i)
            if (k >= stop) if ascending else (k <= stop):
                break
            out.append(i)
            if len(out) == want:
                break
        return out

    def _sort_key(self, i: int) -> tuple[int, int]:
        return (self.table.updated[i], i) if self.by_updated else (i, i)
